"""The dashboard's two charts, drawn with HTML and CSS (no scripts, no images).

Text in a scaled SVG shrinks with the chart (11 px labels were 5 px on a phone);
here every label is ordinary page text at the page's font size, and the bars are
boxes sized in percent, so the charts fit any width and stay readable.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from grader.formatting import format_number

KINDS = ("passed", "partial", "failed", "manual")


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int


def score_bins(scores: Sequence[float], max_score: float, n_bins: int = 10) -> list[Bin]:
    """Equal-width bins over [0, max_score]; the top bin includes max_score."""
    top = max([max_score, *scores, 0.0]) or 1.0
    if top <= 12 and float(top).is_integer():
        n_bins = int(top)  # one bar per point for small modules
    width = top / n_bins
    counts = [0] * n_bins
    for score in scores:
        index = min(int(max(score, 0.0) / width), n_bins - 1)
        counts[index] += 1
    return [Bin(low=i * width, high=(i + 1) * width, count=c) for i, c in enumerate(counts)]


def _students(count: int) -> str:
    return f"{count} student{'s' if count != 1 else ''}"


def histogram(scores: Sequence[float], max_score: float, *, title: str) -> Markup:
    bins = score_bins(scores, max_score)
    peak = max((b.count for b in bins), default=0) or 1
    columns = []
    for b in bins:
        label = f"{format_number(b.low)}–{format_number(b.high)}: {_students(b.count)}"
        count = f'<span class="hist-count">{b.count}</span>' if b.count else ""
        columns.append(f'<div class="hist-col" title="{escape(label)}">{count}'
                       f'<span class="bar" style="height:{100 * b.count / peak:.1f}%"></span></div>')
    step = 2 if len(bins) > 10 else 1       # every other tick when the bars are narrow
    ticks = []
    for n in range(0, len(bins) + 1, step):
        value = bins[0].low if n == 0 else bins[n - 1].high
        ticks.append(f'<span style="left:{100 * n / len(bins):.2f}%">{escape(format_number(value))}</span>')
    return Markup(
        f'<figure class="chart histogram" aria-label="{escape(title)}">'
        f'<div class="hist-plot">{"".join(columns)}</div>'
        f'<div class="hist-axis" aria-hidden="true">{"".join(ticks)}</div>'
        f"<figcaption>score (of {escape(format_number(max_score))}), "
        f"students per bar</figcaption></figure>")


@dataclass(frozen=True)
class RateRow:
    label: str
    passed: int
    partial: int
    failed: int
    manual: int

    @property
    def total(self) -> int:
        return self.passed + self.partial + self.failed + self.manual


def pass_rates(rows: Sequence[RateRow], *, title: str) -> Markup:
    """One stacked bar per item: passed / partial / failed / manual."""
    parts = [f'<figure class="chart pass-rates" aria-label="{escape(title)}">']
    for row in rows:
        segments = []
        for kind in KINDS:
            count = getattr(row, kind)
            if count and row.total:
                segments.append(f'<span class="seg {kind}" style="width:{100 * count / row.total:.2f}%" '
                                f'title="{escape(f"{row.label}: {count} {kind}")}"></span>')
        rate = f"{100 * row.passed / row.total:.0f}% passed" if row.total else "no results"
        parts.append(f'<div class="rate-row" data-item="{escape(row.label)}">'
                     f'<span class="rate-label mono">{escape(row.label)}</span>'
                     f'<span class="rate-bar">{"".join(segments)}</span>'
                     f'<span class="rate-text">{rate}</span></div>')
    parts.append('<figcaption class="legend">'
                 + "".join(f'<span><i class="seg {kind}"></i>{kind}</span>' for kind in KINDS)
                 + "</figcaption></figure>")
    return Markup("".join(parts))
