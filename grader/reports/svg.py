"""Small inline SVG charts (no scripts, no external assets) for the dashboard."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from grader.reports.env import format_number

INK, MUTED, GRID = "#1f2933", "#616e7c", "#e4e7eb"
TONES = {"passed": "#2f855a", "partial": "#d69e2e", "failed": "#c53030", "manual": "#3182ce"}


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


def histogram(scores: Sequence[float], max_score: float, *, title: str) -> Markup:
    bins = score_bins(scores, max_score)
    width, height, left, bottom, top_pad = 560, 220, 36, 40, 16
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    peak = max((b.count for b in bins), default=0) or 1
    bar_w = plot_w / len(bins)
    parts = [f'<svg class="chart histogram" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    for tick in sorted({0, peak // 2, peak}):
        y = top_pad + plot_h - plot_h * tick / peak
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="{MUTED}">{tick}</text>')
    for n, b in enumerate(bins):
        x = left + n * bar_w
        h = plot_h * b.count / peak
        y = top_pad + plot_h - h
        label = f"{format_number(b.low)}–{format_number(b.high)}: {b.count} student(s)"
        parts.append(f'<rect class="bar" x="{x + 2:.1f}" y="{y:.1f}" width="{bar_w - 4:.1f}" '
                     f'height="{h:.1f}" fill="#3b6fb6" rx="2"><title>{escape(label)}</title></rect>')
        if b.count:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                         f'font-size="11" fill="{INK}">{b.count}</text>')
    for n in range(len(bins) + 1):
        if len(bins) > 10 and n % 2:
            continue
        x = left + n * bar_w
        value = bins[0].low if n == 0 else bins[n - 1].high
        parts.append(f'<text x="{x:.1f}" y="{top_pad + plot_h + 16}" text-anchor="middle" '
                     f'font-size="11" fill="{MUTED}">{escape(format_number(value))}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" '
                 f'font-size="12" fill="{MUTED}">score (of {escape(format_number(max_score))})</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


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
    """One stacked horizontal bar per item: passed / partial / failed / manual."""
    label_w, bar_w, row_h, pad = 220, 240, 28, 8
    width = label_w + bar_w + 100
    height = pad * 2 + row_h * max(len(rows), 1) + 18
    parts = [f'<svg class="chart pass-rates" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    for n, row in enumerate(rows):
        y = pad + n * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end" font-size="13" '
                     f'fill="{INK}">{escape(row.label)}</text>')
        x = float(label_w)
        total = row.total or 1
        for kind in ("passed", "partial", "failed", "manual"):
            count = getattr(row, kind)
            if not count:
                continue
            w = bar_w * count / total
            parts.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
                         f'fill="{TONES[kind]}"><title>{escape(f"{row.label}: {count} {kind}")}</title></rect>')
            x += w
        if not row.total:
            parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{bar_w}" height="{row_h - 8}" fill="{GRID}"/>')
        rate = f"{100 * row.passed / row.total:.0f}% passed" if row.total else "no results"
        parts.append(f'<text x="{label_w + bar_w + 8}" y="{y + 18}" font-size="13" '
                     f'fill="{MUTED}">{rate}</text>')
    y = height - 8
    x = float(label_w)
    for kind, colour in TONES.items():
        parts.append(f'<rect x="{x:.1f}" y="{y - 9}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14:.1f}" y="{y}" font-size="11" fill="{MUTED}">{kind}</text>')
        x += 70
    parts.append("</svg>")
    return Markup("".join(parts))
