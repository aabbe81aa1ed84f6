"""The formgrade web app (Starlette): per assignment and item, the submissions that need
manual grading, each answer rendered beside a score field and a comment; every change
is saved as it is typed (`grader.gradebook.manual.save_grades`, the same path as
`grader manual import`). Bound to 127.0.0.1; every request needs the access token
printed at start (as a `token` query parameter, which also sets a cookie, or the
`X-Grader-Token` header).

Keyboard: in a score field Enter or ↓ goes to the next submission, Shift+Enter or ↑ to
the previous one; Tab reaches the comment. `j`/`k` do the same outside a field.
"""
from __future__ import annotations

import html
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from grader.course import Course
from grader.formatting import format_number
from grader.formgrade.render import answer_html
from grader.gradebook.manual import Grade, ManualGradeError, save_grades
from grader.gradebook.store import Gradebook

COOKIE = "grader_formgrade_token"
STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1rem 1.5rem;color:#1a202c}
a{color:#2b6cb0} .muted{color:#718096} table{border-collapse:collapse;width:100%}
td,th{padding:.3rem .5rem;border-bottom:1px solid #e2e8f0;text-align:left}
.card{display:grid;grid-template-columns:minmax(0,3fr) minmax(240px,1fr);gap:1rem;
 border:1px solid #cbd5e0;border-radius:8px;padding:1rem;margin:1rem 0}
.card.current{outline:3px solid #3182ce} .card.invalid input.score{outline:2px solid #c53030}
.answer{overflow:auto} pre{background:#f7fafc;padding:.5rem;overflow:auto;white-space:pre-wrap}
pre.stderr{background:#fff5f5} iframe.output{width:100%;min-height:8rem;border:1px solid #e2e8f0}
img.output{max-width:100%} label{display:block;font-weight:600;margin-top:.5rem}
input,textarea{font:inherit;width:100%;box-sizing:border-box} textarea{min-height:5rem}
.state{font-size:.85rem} .state.error{color:#c53030} .state.saved{color:#2f855a}
.badge{border-radius:4px;padding:0 .4rem;background:#ebf8ff}
"""
SCRIPT = """
const token = document.body.dataset.token;
const cards = [...document.querySelectorAll('.card')];
let timers = new Map();
function focusCard(i) {
  if (i < 0 || i >= cards.length) return;
  cards.forEach(c => c.classList.remove('current'));
  cards[i].classList.add('current');
  const field = cards[i].querySelector('input.score');
  field.focus(); field.select();
  cards[i].scrollIntoView({block: 'nearest'});
}
function check(card) {
  const field = card.querySelector('input.score'), text = field.value.trim();
  const max = parseFloat(card.dataset.points), value = Number(text);
  if (text === '') return {ok: true, score: null};
  if (!Number.isFinite(value) || value < 0 || value > max)
    return {ok: false, error: `score must be a number from 0 to ${card.dataset.points}`};
  return {ok: true, score: value};
}
async function save(card) {
  const state = card.querySelector('.state'), verdict = check(card);
  card.classList.toggle('invalid', !verdict.ok);
  if (!verdict.ok) { state.textContent = verdict.error; state.className = 'state error'; return; }
  const reason = card.querySelector('input.reason');
  if (verdict.score === null && !card.querySelector('textarea').value.trim()) return;
  state.textContent = 'saving…'; state.className = 'state';
  const body = {student: card.dataset.student, module: card.dataset.module,
    notebook: card.dataset.notebook, item: card.dataset.item, score: verdict.score,
    comment: card.querySelector('textarea').value, reason: reason ? reason.value : ''};
  const response = await fetch('/api/grade', {method: 'POST', headers: {
    'Content-Type': 'application/json', 'X-Grader-Token': token}, body: JSON.stringify(body)});
  const data = await response.json();
  if (!response.ok) { state.textContent = data.error; state.className = 'state error';
    card.classList.add('invalid'); return; }
  state.textContent = 'saved'; state.className = 'state saved';
  card.querySelector('[data-testid=total]').textContent = data.total;
}
function later(card) {
  clearTimeout(timers.get(card));
  timers.set(card, setTimeout(() => save(card), 300));
}
cards.forEach((card, i) => {
  card.querySelectorAll('input, textarea').forEach(f => {
    f.addEventListener('input', () => later(card));
    f.addEventListener('focus', () => { cards.forEach(c => c.classList.remove('current'));
      card.classList.add('current'); });
  });
  card.querySelector('input.score').addEventListener('keydown', e => {
    if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'ArrowDown') {
      e.preventDefault(); clearTimeout(timers.get(card)); save(card); focusCard(i + 1); }
    else if ((e.key === 'Enter' && e.shiftKey) || e.key === 'ArrowUp') {
      e.preventDefault(); clearTimeout(timers.get(card)); save(card); focusCard(i - 1); }
  });
});
document.addEventListener('keydown', e => {
  if (e.target.closest('input, textarea')) return;
  const at = cards.findIndex(c => c.classList.contains('current'));
  if (e.key === 'j') { e.preventDefault(); focusCard(at + 1); }
  if (e.key === 'k') { e.preventDefault(); focusCard(Math.max(at - 1, 0)); }
});
if (cards.length) focusCard(0);
"""


def _page(title: str, body: str, token: str, script: bool = False) -> HTMLResponse:
    js = f"<script>{SCRIPT}</script>" if script else ""
    return HTMLResponse(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><meta name='viewport' content='width=device-width'><style>{STYLE}</style></head>"
        f"<body data-token='{html.escape(token)}'>{body}{js}</body></html>",
        headers={"Cache-Control": "no-store"})


def _needs(item: dict[str, Any]) -> bool:
    return item.get("status") == "manual"


def _notebook(result: dict[str, Any], item: dict[str, Any]) -> str:
    return str(item.get("notebook") or result.get("notebook") or "")


def make_app(course: Course, gradebook: Gradebook, token: str | None = None) -> Starlette:
    token = token or secrets.token_urlsafe(24)
    names = {s.id: s.name for s in course.roster()}

    def results(module: str) -> list[dict[str, Any]]:
        return gradebook.records(module)

    async def index(request: Request) -> Response:
        rows = []
        for config in course.modules:
            items: dict[tuple[str, str], dict[str, Any]] = {}
            for result in results(config.id):
                for item in result.get("items", []):
                    key = (_notebook(result, item), item["id"])
                    entry = items.setdefault(key, {"points": item["points"], "kind": item["kind"],
                                                   "waiting": 0, "graded": 0})
                    entry["waiting"] += _needs(item)
                    entry["graded"] += bool(item.get("manual")) and not _needs(item)
            for (notebook, item_id), entry in items.items():
                if entry["kind"] != "manual" and not entry["graded"]:
                    continue
                link = f"/item/{quote(config.id)}/{quote(notebook)}/{quote(item_id)}"
                rows.append(f"<tr data-item='{html.escape(item_id)}'><td>{html.escape(config.id)}</td>"
                            f"<td>{html.escape(notebook)}</td><td><a href='{link}'>"
                            f"{html.escape(item_id)}</a></td><td>{format_number(entry['points'])}</td>"
                            f"<td data-testid='waiting'>{entry['waiting']}</td>"
                            f"<td>{entry['graded']}</td></tr>")
            students = sorted({r["student"] for r in results(config.id)})
            if students:
                links = " ".join(f"<a href='/submission/{quote(config.id)}/{quote(s)}'>{html.escape(s)}</a>"
                                 for s in students)
                rows.append(f"<tr><td>{html.escape(config.id)}</td><td colspan='5' class='muted'>"
                            f"every item of a submission (override autograded scores): {links}</td></tr>")
        body = (f"<h1>{html.escape(course.title)}: manual grading</h1>"
                "<table><thead><tr><th>assignment</th><th>notebook</th><th>item</th><th>points</th>"
                "<th>needs grading</th><th>graded by hand</th></tr></thead><tbody>"
                + "".join(rows) + "</tbody></table>")
        return _page("formgrade", body, token)

    def card(result: dict[str, Any], item: dict[str, Any]) -> str:
        notebook = _notebook(result, item)
        executed = course.autograded_dir / result["student"] / result["module"] / notebook
        manual = item.get("manual") or {}
        auto = item.get("auto", item)
        score = "" if not manual else format_number(manual.get("score"))
        override = item.get("kind") != "manual"
        reason = (f"<label>reason for overriding the autograde ({format_number(auto['score'])})"
                  f"<input class='reason' value='{html.escape(manual.get('reason', ''))}'></label>"
                  if override else "")
        stale = ("<p class='state error'>the answer changed since it was graded: grade it again"
                 "</p>" if manual.get("stale") else "")
        student = result["student"]
        who = html.escape(student) + (f" <span class='muted'>{html.escape(names[student])}</span>"
                                      if names.get(student) else "")
        return (
            f"<section class='card' data-student='{html.escape(student)}' "
            f"data-module='{html.escape(result['module'])}' data-notebook='{html.escape(notebook)}' "
            f"data-item='{html.escape(item['id'])}' data-points='{item['points']:g}'>"
            f"<div class='answer'><h2>{who} <span class='badge'>{html.escape(item['status'])}</span></h2>"
            f"{answer_html(executed, item['id'], task=bool(item.get('task')))}</div>"
            f"<div class='grade'><p>total <strong data-testid='total'>{format_number(result['score'])}"
            f"</strong> / {format_number(result['max_score'])}</p>{stale}"
            f"<label>score (0–{item['points']:g})<input class='score' inputmode='decimal' "
            f"aria-label='score for {html.escape(student)}' value='{score}'></label>{reason}"
            f"<label>comment<textarea aria-label='comment for {html.escape(student)}'>"
            f"{html.escape(manual.get('comment', ''))}</textarea></label>"
            f"<p class='state' aria-live='polite'></p></div></section>")

    async def item_page(request: Request) -> Response:
        module, notebook, item_id = (request.path_params[k] for k in ("module", "notebook", "item"))
        course.module(module)
        cards, points = [], None
        for result in results(module):
            for item in result.get("items", []):
                if item["id"] == item_id and _notebook(result, item) == notebook and (
                        _needs(item) or item.get("manual") or item.get("kind") == "manual"
                        and request.query_params.get("all")):
                    cards.append((not _needs(item), result["student"], card(result, item)))
                    points = item["points"]
        cards.sort(key=lambda c: (c[0], c[1]))       # waiting first, then by student
        body = ("<p><a href='/'>all items</a></p>"
                f"<h1>{html.escape(module)} · {html.escape(notebook)} · {html.escape(item_id)}"
                f"{'' if points is None else f' <span class=muted>({points:g} points)</span>'}</h1>"
                "<p class='muted'>Type a score and a comment: saved as you type. Enter or ↓: next "
                "submission; Shift+Enter or ↑: previous; Tab: comment.</p>"
                + ("".join(c[2] for c in cards) or "<p>nothing needs manual grading here.</p>"))
        return _page(f"{item_id} · formgrade", body, token, script=True)

    async def submission_page(request: Request) -> Response:
        module, student = request.path_params["module"], request.path_params["student"]
        record = next((r for r in gradebook.records(module, student=student)), None)
        if record is None:
            return _page("not found", "<p>no graded submission</p>", token)
        body = ("<p><a href='/'>all items</a></p>"
                f"<h1>{html.escape(student)} · {html.escape(module)}</h1>"
                + "".join(card(record, item) for item in record.get("items", [])))
        return _page(f"{student} · formgrade", body, token, script=True)

    async def api_grade(request: Request) -> Response:
        try:
            data = await request.json()
            score = data.get("score")
            grade = Grade(student=str(data["student"]), module=str(data["module"]),
                          notebook=str(data["notebook"]), item=str(data["item"]),
                          score=None if score is None else float(score),
                          comment=str(data.get("comment") or ""), reason=str(data.get("reason") or ""))
            record = save_grades(course, gradebook, [grade])[0]
        except (KeyError, TypeError, ValueError) as exc:
            return JSONResponse({"error": f"bad request: {exc}"}, status_code=400)
        except ManualGradeError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        item = next(i for i in record.items if i.id == grade.item
                    and (i.notebook or record.notebook) == grade.notebook)
        return JSONResponse({"total": format_number(record.score),
                             "max_score": record.max_score, "status": item.status,
                             "score": item.score})

    class RequireToken(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next):
            given = (request.query_params.get("token") or request.headers.get("x-grader-token")
                     or request.cookies.get(COOKIE) or "")
            if not secrets.compare_digest(given, token):
                return HTMLResponse("forbidden: open the link with the token that "
                                    "`grader formgrade` printed", status_code=403)
            response = await call_next(request)
            if request.query_params.get("token"):
                response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
            return response

    app = Starlette(routes=[
        Route("/", index), Route("/item/{module}/{notebook}/{item}", item_page),
        Route("/submission/{module}/{student}", submission_page),
        Route("/api/grade", api_grade, methods=["POST"]),
    ], middleware=[Middleware(RequireToken)])
    app.state.token = token
    return app


def serve(course: Course, gradebook: Gradebook, *, port: int = 0, token: str | None = None,
          announce=print) -> None:
    """Run the app on 127.0.0.1 (port 0: any free port) until interrupted."""
    import socket

    import uvicorn
    app = make_app(course, gradebook, token)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    host, bound = sock.getsockname()
    announce(f"formgrade: http://{host}:{bound}/?token={app.state.token}")
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
