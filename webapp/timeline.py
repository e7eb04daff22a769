"""The task list as a picture: each lead unit a row, each task a dot at its 完成时限, overdue in red.

Drawn as SVG text in the page rather than as a raster chart: the browser sets the Chinese labels in
the visitor's own fonts (a server-side chart would need a CJK font on the server), the picture
follows light and dark mode through CSS, and each dot carries its task as a tooltip.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from html import escape

from core.records import Clause, PolicyDocument

NO_LEAD = "（未注明牵头单位）"
MAX_ROWS = 40  # lead units drawn; the rest are counted under the picture
LABEL_CHARS = 12  # a unit name longer than this is shortened on its row (the tooltip has it whole)
WIDTH, LEFT, RIGHT, TOP, ROW, AXIS = 960, 190, 30, 30, 26, 24
LATE_FILL, ON_TIME_FILL = "#b91c1c", "#1d4ed8"


@dataclass(frozen=True)
class Dot:
    unit: str
    date: dt.date
    overdue: bool
    tip: str


def _dots(tasks: list[tuple[Clause, PolicyDocument, bool]]) -> tuple[list[Dot], int]:
    dots, undated = [], 0
    for c, d, late in tasks:
        if not (c.deadline and c.deadline.date):
            undated += 1
            continue
        when = dt.date.fromisoformat(c.deadline.date)
        task = c.text.split("\t")[0].strip()
        tip = f"{task[:80]}｜完成时限：{c.deadline.text}{'（已逾期）' if late else ''}｜《{d.title}》"
        for unit in c.lead_units or [NO_LEAD]:
            dots.append(Dot(unit, when, late, tip))
    return dots, undated


def _x(day: dt.date, lo: dt.date, hi: dt.date) -> float:
    span = max((hi - lo).days, 1)
    return LEFT + (WIDTH - LEFT - RIGHT) * (day - lo).days / span


def timeline_svg(tasks: list[tuple[Clause, PolicyDocument, bool]], *, today: dt.date) -> str:
    """An SVG timeline of the tasks' deadlines per lead unit, with a legend; HTML for a gr.HTML."""
    dots, undated = _dots(tasks)
    if not dots:
        return '<div class="pb-timeline"><p class="pb-legend">没有带完成时限的任务。</p></div>'
    by_unit: dict[str, list[Dot]] = defaultdict(list)
    for dot in dots:
        by_unit[dot.unit].append(dot)
    units = sorted(by_unit, key=lambda u: (min(d.date for d in by_unit[u]), u))
    hidden = len(units) - MAX_ROWS
    units = units[:MAX_ROWS]
    lo = min(min(d.date for d in dots), today).replace(month=1, day=1)
    hi = max(max(d.date for d in dots), today).replace(month=12, day=31)
    height = TOP + ROW * len(units) + AXIS
    n_late = sum(1 for _, _, late in tasks if late)
    label = f"任务完成时限时间线：{len(tasks)} 项任务，其中已逾期 {n_late} 项，按牵头单位分行"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
             f'height="{height}" role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>']
    base = TOP + ROW * len(units)
    for year in range(lo.year, hi.year + 1):
        x = _x(dt.date(year, 1, 1), lo, hi)
        parts.append(f'<line class="pb-axis" x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{base}" stroke="#cbd5e1"/>')
        parts.append(f'<text x="{x + 4:.1f}" y="{base + 18}">{year}年</text>')
    tx = _x(today, lo, hi)
    parts.append(f'<line class="pb-today" x1="{tx:.1f}" y1="{TOP - 10}" x2="{tx:.1f}" y2="{base}" '
                 f'stroke="{LATE_FILL}" stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{tx - 4:.1f}" y="{TOP - 14}" text-anchor="end">今天 {today.isoformat()}</text>')
    for row, unit in enumerate(units):
        y = TOP + ROW * row + ROW / 2
        short = unit if len(unit) <= LABEL_CHARS else unit[: LABEL_CHARS - 1] + "…"
        parts.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end"><title>{escape(unit)}</title>'
                     f'{escape(short)}</text>')
        seen: dict[dt.date, int] = defaultdict(int)
        for dot in sorted(by_unit[unit], key=lambda d: d.date):
            x = _x(dot.date, lo, hi) + 9 * seen[dot.date]  # tasks due the same day side by side
            seen[dot.date] += 1
            cls = "pb-task pb-overdue" if dot.overdue else "pb-task"
            fill = LATE_FILL if dot.overdue else ON_TIME_FILL
            parts.append(f'<circle class="{cls}" cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{fill}">'
                         f"<title>{escape(dot.tip)}</title></circle>")
    parts.append("</svg>")
    notes = [f'<span class="pb-dot" style="background:{LATE_FILL}"></span>已逾期',
             f'<span class="pb-dot" style="background:{ON_TIME_FILL}"></span>未到期']
    if undated:
        notes.append(f"；另有 {undated} 项任务的完成时限不是具体日期，未画出")
    if hidden > 0:
        notes.append(f"；另有 {hidden} 个牵头单位未画出（见上表）")
    return f'<div class="pb-timeline">{"".join(parts)}<p class="pb-legend">{"".join(notes)}</p></div>'
