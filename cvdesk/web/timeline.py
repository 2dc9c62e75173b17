"""The case timeline drawn as SVG, on the server (issue 11): one lane per kind of entry,
one mark per lane and day (sized by how many entries it stands for), the embargo as a
band from its start to its end, and a line for today.

``layout`` is pure geometry (positions from dates) and returns plain values a test can
check; ``svg`` writes them out.  Every text that comes from a case goes through
``escape`` and sits in a ``<title>`` element (the browser's tooltip) or a ``<text>``
element, never in an attribute the browser would act on.  The drawing needs no script
and no style sheet (presentation attributes only), so it works inline in a page under
the desk's content security policy and as an image of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

from cvdesk.services.portal_views import LANES, TimelineView

WIDTH = 960
LEFT = 130  # room for the lane labels
RIGHT = 16
TOP = 22  # room for the band's and today's labels
LANE_HEIGHT = 30
AXIS = 30
#: Tick spacings to choose from, in days: about eight ticks across whatever the span.
STEPS = (1, 2, 7, 14, 30, 61, 91, 182, 365)
COLORS = {"case": "#1a5fb4", "participants": "#613583", "attempts": "#b86e00",
          "replies": "#26a269", "messages": "#5b6570"}


@dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float
    r: float
    color: str
    title: str


@dataclass(frozen=True, slots=True)
class Band:
    x0: float
    x1: float
    kind: str  # "active" or "proposed"
    title: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    lanes: tuple[tuple[str, float], ...]  # label, y of the lane's middle
    dots: tuple[Dot, ...]
    bands: tuple[Band, ...]
    ticks: tuple[tuple[float, str], ...]  # x, label
    today: float


def _x(at: datetime, start: datetime, span: float, left: float, width: float) -> float:
    """Where an instant falls between ``start`` and ``start + span`` seconds."""
    if span <= 0:
        return left
    frac = (at - start).total_seconds() / span
    return round(left + width * min(1.0, max(0.0, frac)), 1)


def _fmt(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def layout(view: TimelineView, width: int = WIDTH) -> Chart:
    """The drawing's geometry.  The time axis runs from the first thing shown to the last
    (at least a day, padded by a twentieth on each side) in UTC."""
    start, end = view.start, view.end
    if end - start < timedelta(days=1):
        end = start + timedelta(days=1)
    pad = (end - start) / 20
    start, end = start - pad, end + pad
    span = (end - start).total_seconds()
    inner = width - LEFT - RIGHT
    lanes = tuple((label, TOP + LANE_HEIGHT * i + LANE_HEIGHT / 2)
                  for i, (_, label) in enumerate(LANES))
    row = {name: TOP + LANE_HEIGHT * i + LANE_HEIGHT / 2 for i, (name, _) in enumerate(LANES)}
    dots = []
    for m in view.marks:
        mid = m.first_at + (m.last_at - m.first_at) / 2
        kinds = ", ".join(f"{n} {k}" for k, n in m.kinds)
        when = (_fmt(m.first_at) if m.count == 1 else
                f"{m.day.isoformat()} ({_fmt(m.first_at)[11:]} to {_fmt(m.last_at)[11:]})")
        dots.append(Dot(_x(mid, start, span, LEFT, inner), row[m.lane],
                        round(3 + min(8.0, 1.5 * math.log2(m.count)), 1),
                        COLORS.get(m.lane, "#1d232b"),
                        f"{when}: {m.count} {'entry' if m.count == 1 else 'entries'} "
                        f"({kinds})"))
    bands = tuple(Band(_x(w.start, start, span, LEFT, inner), _x(w.end, start, span, LEFT, inner),
                       w.kind,
                       ("Embargo in force" if w.kind == "active" else "Embargo proposed")
                       + f" from {_fmt(w.start)} to {_fmt(w.end)}"
                       + (f" (agreed end {_fmt(w.planned_end)})"
                          if w.ended_early and w.planned_end else ""))
                  for w in view.windows)
    days = span / 86400
    step = next((s for s in STEPS if days / s <= 9), math.ceil(days / 9 / 365) * 365)
    first = datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(days=1)
    ticks = []
    t = first
    while t < end:
        ticks.append((_x(t, start, span, LEFT, inner), t.strftime("%Y-%m-%d")))
        t += timedelta(days=step)
    height = TOP + LANE_HEIGHT * len(LANES) + AXIS
    return Chart(width, height, lanes, tuple(dots), bands, tuple(ticks),
                 _x(view.now, start, span, LEFT, inner))


def svg(view: TimelineView, width: int = WIDTH, *, standalone: bool = False) -> str:
    """The timeline as SVG markup: an element for a page, or a document of its own."""
    c = layout(view, width)
    bottom = TOP + LANE_HEIGHT * len(LANES)
    out = []
    if standalone:
        out.append('<?xml version="1.0" encoding="UTF-8"?>\n')
    label = f"Timeline of {view.case_id}: {view.entries} log entries"
    out.append(f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" '
               f'viewBox="0 0 {c.width} {c.height}" width="100%" role="img" '
               f'aria-label={quoteattr(label)} font-family="system-ui, sans-serif" '
               f'font-size="11">')
    out.append(f"<title>{escape(label)}</title>")
    for i, (text, y) in enumerate(c.lanes):
        if i % 2 == 0:
            out.append(f'<rect x="{LEFT}" y="{y - LANE_HEIGHT / 2}" '
                       f'width="{c.width - LEFT - RIGHT}" height="{LANE_HEIGHT}" '
                       'fill="#f6f8fa"/>')
        out.append(f'<text x="{LEFT - 8}" y="{y + 4}" text-anchor="end" '
                   f'fill="#1d232b">{escape(text)}</text>')
    for b in c.bands:
        active = b.kind == "active"
        color = "#c01c28" if active else "#b86e00"
        dash = "" if active else ' stroke-dasharray="4 3"'
        out.append(f'<g class="embargo embargo-{b.kind}"><title>{escape(b.title)}</title>'
                   f'<rect x="{b.x0}" y="{TOP}" width="{max(b.x1 - b.x0, 1.0)}" '
                   f'height="{bottom - TOP}" fill="{color}" '
                   f'fill-opacity="{0.12 if active else 0.08}" stroke="{color}" '
                   f'stroke-opacity="0.5"{dash}/>'
                   + (f'<text x="{b.x0 + 3}" y="{TOP - 6}" fill="{color}">'
                      f'{"embargo" if active else "proposed embargo"}</text>'
                      if active or b.x1 - b.x0 > 100 else "") + "</g>")
    for x, text in c.ticks:
        out.append(f'<line x1="{x}" y1="{bottom}" x2="{x}" y2="{bottom + 4}" stroke="#5b6570"/>'
                   f'<text x="{x}" y="{bottom + 16}" text-anchor="middle" '
                   f'fill="#5b6570">{escape(text)}</text>')
    out.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{c.width - RIGHT}" y2="{bottom}" '
               f'stroke="#5b6570"/>')
    for d in c.dots:
        out.append(f'<circle cx="{d.x}" cy="{d.y}" r="{d.r}" fill="{d.color}" '
                   f'fill-opacity="0.8"><title>{escape(d.title)}</title></circle>')
    out.append(f'<g class="today"><title>{escape("Now: " + _fmt(view.now))}</title>'
               f'<line x1="{c.today}" y1="{TOP - 4}" x2="{c.today}" y2="{bottom}" '
               f'stroke="#1d232b" stroke-width="1.5" stroke-dasharray="3 2"/>'
               f'<text x="{c.today}" y="{TOP - 8}" text-anchor="middle" '
               f'fill="#1d232b">today</text></g>')
    out.append("</svg>")
    return "".join(out)
