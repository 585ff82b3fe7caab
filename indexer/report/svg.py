"""Inline SVG drawn by the project: the tension timeline and the convergence chart.

Plain strings, no drawing library: every piece of dialogue text goes through ``esc`` (text
and attributes), so a label holding ``</svg><script>`` stays text. Marks differ by shape as
well as colour (``MARKS``), so the timeline reads in grey and on paper; each mark is a link
to the block that caused it and carries its tooltip text in ``data-tip`` and ``<title>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any


def esc(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


# Mark kind -> (shape, legend text). A mark's kind is its event kind, refined by the source
# block's kind where that says more (``CONCESSION`` is an ``addressed`` event drawn as
# ``conceded``). Unknown kinds are drawn as ``other``.
MARKS: dict[str, tuple[str, str]] = {
    "raised": ("triangle-up", "raised"),
    "addressed": ("diamond", "addressed"),
    "conceded": ("triangle-down", "conceded"),
    "resolved": ("disc", "resolved"),
    "acknowledged": ("ring", "acknowledged"),
    "deferred": ("square", "deferred"),
    "reopened": ("cross", "reopened"),
    "restated": ("diamond", "restated"),
    "referenced": ("dot", "referenced"),
    "other": ("ring-square", "other"),
}
REFINED_BY_BLOCK = {("addressed", "concession"): "conceded"}


def mark_kind(event: str | None, block_kind: str | None) -> str:
    kind = REFINED_BY_BLOCK.get((event or "", block_kind or ""), event or "other")
    return kind if kind in MARKS else "other"


def shape(kind: str, x: float, y: float, r: float = 6.5) -> str:
    """One mark's outline at (x, y); the fill and stroke come from the stylesheet."""
    name = MARKS.get(kind, MARKS["other"])[0]
    if name == "triangle-up":
        return f'<path d="M{x:.1f} {y - r:.1f}L{x + r:.1f} {y + r * .8:.1f}H{x - r:.1f}Z"/>'
    if name == "triangle-down":
        return f'<path d="M{x:.1f} {y + r:.1f}L{x + r:.1f} {y - r * .8:.1f}H{x - r:.1f}Z"/>'
    if name == "diamond":
        return (f'<path d="M{x:.1f} {y - r:.1f}L{x + r:.1f} {y:.1f}L{x:.1f} {y + r:.1f}'
                f'L{x - r:.1f} {y:.1f}Z"/>')
    if name in ("disc", "ring"):
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r * .85:.1f}"/>'
    if name in ("square", "ring-square"):
        s = r * .8
        return f'<rect x="{x - s:.1f}" y="{y - s:.1f}" width="{2 * s:.1f}" height="{2 * s:.1f}"/>'
    if name == "cross":
        s = r * .75
        return (f'<path d="M{x - s:.1f} {y - s:.1f}L{x + s:.1f} {y + s:.1f}'
                f'M{x + s:.1f} {y - s:.1f}L{x - s:.1f} {y + s:.1f}"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r * .45:.1f}"/>'


def legend_icon(kind: str) -> str:
    """A small standalone SVG of one mark, for the legend."""
    return (f'<svg class="legend-icon" viewBox="0 0 16 16" width="16" height="16" '
            f'aria-hidden="true"><g class="mark ev-{esc(kind)}">{shape(kind, 8, 8)}</g></svg>')


@dataclass(frozen=True)
class Mark:
    column: int | None  # round number (None: no round, drawn in the last column)
    kind: str  # a MARKS key
    href: str  # "#anchor"
    tip: str  # expert, kind, round, place


@dataclass(frozen=True)
class Lane:
    href: str
    title: str  # short lane label
    full: str  # full label, tooltip
    status: str
    marks: tuple[Mark, ...]


LABEL_W, COL_W, LANE_H, HEAD_H, STATUS_W = 300, 92, 28, 30, 150


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "\u2026"


def timeline(lanes: list[Lane], rounds: list[int], caption: str) -> str:
    """One lane per tension, one column per round (plus a '-' column for marks without a
    round), one mark per event."""
    columns: list[int | None] = list(rounds)
    if any(m.column is None for lane in lanes for m in lane.marks):
        columns.append(None)
    col_x = {c: LABEL_W + i * COL_W for i, c in enumerate(columns)}
    width = LABEL_W + len(columns) * COL_W + STATUS_W
    height = HEAD_H + max(1, len(lanes)) * LANE_H + 6
    out = [f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" role="group" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'aria-label="{esc(caption)}">']
    for c, x in col_x.items():
        out.append(f'<text class="col-head" x="{x + COL_W / 2:.0f}" y="20" '
                   f'text-anchor="middle">{"Round " + str(c) if c is not None else "no round"}'
                   f'</text><line class="col-rule" x1="{x}" y1="{HEAD_H - 4}" x2="{x}" '
                   f'y2="{height}"/>')
    for i, lane in enumerate(lanes):
        y = HEAD_H + i * LANE_H + LANE_H / 2
        out.append(f'<g class="lane" data-status="{esc(lane.status)}">')
        out.append(f'<line class="lane-rule" x1="{LABEL_W}" y1="{y:.1f}" '
                   f'x2="{LABEL_W + len(columns) * COL_W}" y2="{y:.1f}"/>')
        out.append(f'<a class="lane-label" href="{esc(lane.href)}"><title>{esc(lane.full)}'
                   f'</title><text x="4" y="{y + 4:.1f}">{esc(_clip(lane.title, 44))}</text></a>')
        by_col: dict[int | None, list[Mark]] = {}
        for m in lane.marks:
            by_col.setdefault(m.column, []).append(m)
        for col, marks in by_col.items():
            step = min(16.0, (COL_W - 16) / max(1, len(marks) - 1)) if len(marks) > 1 else 0.0
            for j, m in enumerate(marks):
                mx = col_x[col] + COL_W / 2 + (j - (len(marks) - 1) / 2) * step
                out.append(f'<a class="mark ev-{esc(m.kind)}" href="{esc(m.href)}" '
                           f'data-tip="{esc(m.tip)}" aria-label="{esc(m.tip)}">'
                           f'<title>{esc(m.tip)}</title>{shape(m.kind, mx, y)}</a>')
        out.append(f'<text class="lane-status st-{esc(lane.status)}" '
                   f'x="{LABEL_W + len(columns) * COL_W + 8}" y="{y + 4:.1f}">'
                   f'{esc(lane.status)}</text></g>')
    out.append("</svg>")
    return "".join(out)


PANEL_W, PANEL_H, PAD = 220, 130, 26


def convergence(series: list[tuple[str, str, list[tuple[int, float | None]]]]) -> str:
    """Small multiples, one panel per metric: ``(css name, title, [(round, value)])``.
    Each point is labelled with its value, so the chart needs no axis to be read."""
    panels = [s for s in series if any(v is not None for _, v in s[2])]
    if not panels:
        return ""
    width = PANEL_W * len(panels)
    out = [f'<svg class="convergence" xmlns="http://www.w3.org/2000/svg" role="img" '
           f'viewBox="0 0 {width} {PANEL_H}" width="{width}" height="{PANEL_H}" '
           f'aria-label="Convergence per round: '
           f'{esc(", ".join(title for _, title, _ in panels))}">']
    for i, (name, title, points) in enumerate(panels):
        x0 = i * PANEL_W
        rounds = [r for r, _ in points]
        vals = [v for _, v in points if v is not None]
        top = max(vals) if vals and max(vals) > 0 else 1.0
        span = max(1, len(rounds) - 1)

        def px(k: int, x0: int = x0, span: int = span) -> float:
            return x0 + PAD + k * (PANEL_W - 2 * PAD) / span

        def py(v: float, top: float = top) -> float:
            return PANEL_H - PAD - v / top * (PANEL_H - 2 * PAD - 10)

        out.append(f'<g class="panel m-{esc(name)}"><text class="panel-title" x="{x0 + 8}" '
                   f'y="14">{esc(title)}</text>')
        out.append(f'<line class="axis" x1="{x0 + PAD - 8}" y1="{PANEL_H - PAD}" '
                   f'x2="{x0 + PANEL_W - PAD + 8}" y2="{PANEL_H - PAD}"/>')
        pts = [(px(k), py(v)) for k, (_, v) in enumerate(points) if v is not None]
        if len(pts) > 1:
            out.append('<polyline class="line" points="'
                       + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
        for k, (r, v) in enumerate(points):
            out.append(f'<text class="tick" x="{px(k):.1f}" y="{PANEL_H - 8}" '
                       f'text-anchor="middle">R{r}</text>')
            if v is None:
                continue
            label = f"{v:g}"
            out.append(f'<circle class="point" cx="{px(k):.1f}" cy="{py(v):.1f}" r="3.5">'
                       f'<title>{esc(title)}, round {r}: {label}</title></circle>'
                       f'<text class="value" x="{px(k):.1f}" y="{py(v) - 7:.1f}" '
                       f'text-anchor="middle">{label}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)
