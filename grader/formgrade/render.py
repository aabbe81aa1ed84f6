"""Render a student's answer for the grader's eyes: markdown with math (as MathML, so
no script or network is needed), code with its outputs. Student text is never trusted:
markdown is rendered with raw HTML off, HTML outputs go into sandboxed iframes."""
from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import nbformat
from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})
MATH = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$", re.S)


def _math(latex: str, display: bool) -> str:
    try:
        return latex_to_mathml(latex.strip(), display="block" if display else "inline")
    except Exception:       # latex2mathml rejects some input: show the source instead
        return f'<code class="math-error">{html.escape(latex)}</code>'


def render_markdown(text: str) -> str:
    """Markdown to HTML; $...$, $$...$$ and \\[...\\] become MathML."""
    pieces: list[str] = []

    def stash(match: re.Match) -> str:
        display = match.group(3) is None
        latex = match.group(1) or match.group(2) or match.group(3) or ""
        pieces.append(_math(latex, display))
        return f"GRADERMATH{len(pieces) - 1}X"

    body = _markdown.render(MATH.sub(stash, text))
    return re.sub(r"GRADERMATH(\d+)X", lambda m: pieces[int(m.group(1))], body)


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def render_output(output: dict[str, Any]) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        css = "stderr" if output.get("name") == "stderr" else "stdout"
        return f'<pre class="output {css}">{html.escape(_text(output.get("text", "")))}</pre>'
    if kind == "error":
        return (f'<pre class="output error">{html.escape(output.get("ename", ""))}: '
                f'{html.escape(output.get("evalue", ""))}</pre>')
    data = output.get("data", {})
    if "image/png" in data:
        return f'<img class="output" alt="plot" src="data:image/png;base64,{_text(data["image/png"]).strip()}">'
    if "text/html" in data:
        return (f'<iframe class="output" sandbox="" srcdoc="{html.escape(_text(data["text/html"]))}">'
                "</iframe>")
    if "text/plain" in data:
        return f'<pre class="output">{html.escape(_text(data["text/plain"]))}</pre>'
    return ""


def render_cell(cell: dict[str, Any]) -> str:
    if cell.get("cell_type") == "markdown":
        return f'<div class="markdown">{render_markdown(_text(cell.get("source", "")))}</div>'
    code = html.escape(_text(cell.get("source", "")))
    outputs = "".join(render_output(o) for o in cell.get("outputs") or [])
    return f'<pre class="code"><code>{code}</code></pre>{outputs}'


def answer_html(executed: Path, item_id: str, *, task: bool = False) -> str:
    """The answer to `item_id` in an executed notebook (autograded/STUDENT/MODULE/NB):
    its cell, or for a task every cell the student could write in."""
    if not executed.is_file():
        return '<p class="muted">no executed notebook (the submission was missing or unreadable)</p>'
    nb = nbformat.read(executed, as_version=4)
    if task:
        cells = [c for c in nb.cells if not c.get("metadata", {}).get("nbgrader", {}).get("locked")]
        return "".join(f'<div class="cell">{render_cell(c)}</div>' for c in cells) or \
            '<p class="muted">no cells written by the student</p>'
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == item_id:
            return render_cell(cell)
    return '<p class="muted">the answer cell is not in the notebook</p>'
