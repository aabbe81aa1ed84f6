"""Mutants of a reference solution: small AST edits inside `### BEGIN/END SOLUTION`.

Each mutant is one edit of one solution cell's text, made on the text itself (the
rest of the cell, its comments and layout stay as written) at the position of one
AST node: an arithmetic or comparison operator swapped, a number or bool changed, a
returned, assigned or passed value replaced by the constant 0, a statement deleted.
Only nodes that start and end inside a solution region are mutated, so the given code
of the release and the instructor's tests never change.
"""
from __future__ import annotations

import ast
import random
import re
from dataclasses import dataclass

from grader.module import Module
from grader.sources import SourceCell
from grader import pyast

BINOP_SWAPS: dict[type, type] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.MatMult: ast.Mult,
}
CMPOP_SWAPS: dict[type, type] = {
    ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
    ast.In: ast.NotIn, ast.NotIn: ast.In,
}
OP_TEXT: dict[type, str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
    ast.Mod: "%", ast.Pow: "**", ast.MatMult: "@",
    ast.Lt: "<", ast.GtE: ">=", ast.Gt: ">", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!=",
    ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
}
# the order in which a limited run samples the kinds within one function: a function
# that always answers a constant is what a weak test misses most often
KIND_PRIORITY = ("return-constant", "assign-constant", "delete-statement", "arithmetic",
                 "comparison", "constant", "argument-constant")


@dataclass(frozen=True)
class Mutant:
    id: str                   # stable: CELL:LINE:COL:KIND[:n]
    cell_key: str
    kind: str
    line: int                 # 1-based line in the source file
    before: str               # the source line before the edit (stripped)
    after: str                # the edited line(s), joined into one (stripped)
    source: str               # the whole mutated cell text
    function: str             # the enclosing def (or class) qualified name, "" at top level

    @property
    def diff(self) -> str:
        """One line: the old text, then the new (each cut at 80 characters)."""
        return f"- {_clip(self.before)}  + {_clip(self.after)}"


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _offsets(text: str) -> list[int]:
    starts, total = [], 0
    for line in text.splitlines(keepends=True):
        starts.append(total)
        total += len(line)
    starts.append(total)
    return starts


class _Cell:
    """One solution cell: its text, where its regions are, how to edit a node."""

    def __init__(self, cell: SourceCell, regions: list[tuple[int, int]]):
        self.cell = cell
        self.text = cell.source
        self.lines = self.text.splitlines()
        self.starts = _offsets(self.text)
        self.regions = regions            # 1-based (first, last) cell lines, markers excluded

    def inside(self, node: ast.AST) -> bool:
        first, last = node.lineno, node.end_lineno or node.lineno
        return any(a <= first and last <= b for a, b in self.regions)

    def offset(self, line: int, col: int) -> int:
        # ast columns are UTF-8 byte offsets
        raw = self.lines[line - 1].encode("utf-8")[:col]
        return self.starts[line - 1] + len(raw.decode("utf-8", errors="ignore"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (self.offset(node.lineno, node.col_offset),
                self.offset(node.end_lineno, node.end_col_offset))

    def edit(self, start: int, end: int, new: str) -> tuple[str, str, str, int]:
        """(mutated text, line before, line after, 1-based cell line) of one edit."""
        text = self.text[:start] + new + self.text[end:]
        line = self.text.count("\n", 0, start) + 1
        old_lines = self.text[:end].count("\n") - self.text[:start].count("\n") + 1
        new_lines = text.splitlines()[line - 1: line - 1 + new.count("\n") + 1]
        before = " ".join(l.strip() for l in self.lines[line - 1: line - 1 + old_lines])
        return text, before, " ".join(l.strip() for l in new_lines), line


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _qualname(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> str:
    names = []
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
    return ".".join(reversed(names))


def _is_docstring(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _is_constant(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) or (
        isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant))


def _changed_number(value: object) -> str | None:
    if isinstance(value, bool):
        return repr(not value)
    if isinstance(value, int):
        return repr(value + 1) if value != 1 else "0"
    if isinstance(value, float):
        return repr(value * 2 + 1) if value != 0 else "1.0"
    return None


def _op_span(c: _Cell, gap_start: int, gap_end: int, op: str) -> tuple[int, int] | None:
    """The operator's text between two operands (past parentheses and comments)."""
    gap = c.text[gap_start:gap_end]
    words = r"\s+".join(map(re.escape, op.split()))
    pattern = rf"(?<![=<>!*/]){words}(?![=*/])" if not op[0].isalpha() else rf"\b{words}\b"
    for match in re.finditer(pattern, gap):
        before = gap[:match.start()]
        if "#" not in before.rsplit("\n", 1)[-1]:
            return gap_start + match.start(), gap_start + match.end()
    return None


def _mutations(c: _Cell, tree: ast.AST) -> list[tuple[str, int, int, str, ast.AST]]:
    """(kind, start, end, replacement, node) for every edit inside the regions."""
    parents = _parents(tree)
    in_fstring = {n for j in ast.walk(tree) if isinstance(j, ast.JoinedStr) for n in ast.walk(j)}
    edits: list[tuple[str, int, int, str, ast.AST]] = []
    for node in ast.walk(tree):
        if not hasattr(node, "lineno") or node in in_fstring or not c.inside(node):
            continue
        if isinstance(node, ast.BinOp) and type(node.op) in BINOP_SWAPS:
            span = _op_span(c, c.span(node.left)[1], c.span(node.right)[0], OP_TEXT[type(node.op)])
            if span:
                edits.append(("arithmetic", *span, OP_TEXT[BINOP_SWAPS[type(node.op)]], node))
        elif isinstance(node, ast.AugAssign) and type(node.op) in BINOP_SWAPS:
            span = _op_span(c, c.span(node.target)[1], c.span(node.value)[0],
                            OP_TEXT[type(node.op)] + "=")
            if span:
                edits.append(("arithmetic", *span, OP_TEXT[BINOP_SWAPS[type(node.op)]] + "=", node))
        elif isinstance(node, ast.Compare):
            left = node.left
            for op, right in zip(node.ops, node.comparators):
                if type(op) in CMPOP_SWAPS:
                    span = _op_span(c, c.span(left)[1], c.span(right)[0], OP_TEXT[type(op)])
                    if span:
                        edits.append(("comparison", *span, OP_TEXT[CMPOP_SWAPS[type(op)]], node))
                left = right
        elif isinstance(node, ast.Constant) and not isinstance(parents.get(node), ast.Expr):
            new = _changed_number(node.value)
            if new is not None:
                edits.append(("constant", *c.span(node), new, node))
        if isinstance(node, ast.Return) and node.value is not None:
            new = "1" if isinstance(node.value, ast.Constant) and node.value.value == 0 else "0"
            edits.append(("return-constant", *c.span(node.value), new, node))
        elif isinstance(node, ast.Assign) and not _is_constant(node.value):
            edits.append(("assign-constant", *c.span(node.value), "0", node))
        elif isinstance(node, ast.Call):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                if not _is_constant(arg) and not isinstance(arg, ast.Starred) and c.inside(arg):
                    edits.append(("argument-constant", *c.span(arg), "0", arg))
        if (isinstance(node, ast.stmt) and not isinstance(node, ast.Pass)
                and not _is_docstring(node, parents)
                and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))):
            edits.append(("delete-statement", *c.span(node), "pass", node))
    return edits


BEGIN = re.compile(r"^\s*#+\s*BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*#+\s*END SOLUTION\s*$")


def solution_regions(text: str) -> list[tuple[int, int]]:
    """(first, last) 1-based lines strictly between BEGIN and END SOLUTION markers."""
    regions, start = [], None
    for n, line in enumerate(text.splitlines(), start=1):
        if BEGIN.match(line):
            start = n + 1
        elif END.match(line) and start is not None:
            if n - 1 >= start:
                regions.append((start, n - 1))
            start = None
    return regions


def solution_cells(module: Module) -> list[tuple[SourceCell, list[tuple[int, int]]]]:
    """Solution code cells with their BEGIN/END SOLUTION regions (cell lines, 1-based)."""
    found = []
    for cell in module.source.cells:
        if cell.cell.cell_type != "code" or not cell.nbgrader.get("solution"):
            continue
        regions = solution_regions(cell.source)
        if regions:
            found.append((cell, regions))
    return found


def generate(module: Module) -> list[Mutant]:
    """Every mutant of the module's solution regions, in source order."""
    mutants: list[Mutant] = []
    for cell, regions in solution_cells(module):
        try:
            tree = pyast.parse(cell.source)
        except SyntaxError:
            continue     # magics in a solution cell: lint's business, not a mutation site
        c = _Cell(cell, regions)
        parents = _parents(tree)
        seen: set[str] = set()
        for kind, start, end, new, node in sorted(_mutations(c, tree), key=lambda e: (e[1], e[2], e[0])):
            text, before, after, line = c.edit(start, end, new)
            if text == c.text or text in seen:
                continue
            try:
                pyast.parse(text)
            except SyntaxError:
                continue
            seen.add(text)
            col = start - c.starts[line - 1]
            mutants.append(Mutant(
                id=f"{cell.key}:{cell.body_line + line - 1}:{col}:{kind}", cell_key=cell.key,
                kind=kind, line=cell.body_line + line - 1, before=before, after=after,
                source=text, function=_qualname(node, parents)))
    return mutants


def sample(mutants: list[Mutant], limit: int | None, seed: int) -> list[Mutant]:
    """At most `limit` mutants, spread over the functions: round-robin over (cell,
    function), each function's own list ordered by KIND_PRIORITY and shuffled by
    `seed` within a kind. The same seed always picks the same mutants."""
    if limit is None or limit >= len(mutants):
        return list(mutants)
    rng = random.Random(seed)
    groups: dict[tuple[str, str], list[Mutant]] = {}
    for mutant in mutants:
        groups.setdefault((mutant.cell_key, mutant.function), []).append(mutant)
    queues = []
    for key in groups:
        by_kind = []
        for kind in KIND_PRIORITY:
            same = [m for m in groups[key] if m.kind == kind]
            rng.shuffle(same)
            by_kind.append(same)
        # the first "return-constant" of a function leads, then one of each kind in turn
        order = [m for round_ in _interleave(by_kind) for m in round_]
        queues.append(order)
    picked: list[Mutant] = []
    index = 0
    while len(picked) < limit:
        progressed = False
        for queue in queues:
            if index < len(queue) and len(picked) < limit:
                picked.append(queue[index])
                progressed = True
        if not progressed:
            break
        index += 1
    order = {m.id: n for n, m in enumerate(mutants)}
    return sorted(picked, key=lambda m: order[m.id])


def _interleave(lists: list[list[Mutant]]) -> list[list[Mutant]]:
    rounds = []
    for n in range(max((len(l) for l in lists), default=0)):
        rounds.append([l[n] for l in lists if n < len(l)])
    return rounds
