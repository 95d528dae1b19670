"""Inline SVG plots for the report: therapy timeline and VAF trajectories.

Both plots are written as text (no plotting library) and share one horizontal scale, days
since the start of the first therapy line, so that they line up one above the other. They
carry no ``xmlns``: inside HTML the parser places ``<svg>`` in the SVG namespace itself, and
the report then holds no URL at all. Colours come from the Okabe-Ito palette, and every
series also has its own marker shape and dash pattern so the plots read in grey scale.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from html import escape

#: Okabe-Ito colours, ordered for contrast on white (yellow last).
OKABE_ITO = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)
SHAPES = (
    "circle",
    "square",
    "triangle",
    "diamond",
    "triangle-down",
    "pentagon",
    "hexagon",
    "plus",
)
DASHES = ("", "9 4", "2 4", "9 4 2 4", "14 5", "4 4", "14 4 2 4 2 4", "1 3")

WIDTH = 1000
LEFT, RIGHT = 96, 24
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif"'
INK = "#1a1a1a"
GRID = "#d0d0d0"
LOD_INK = "#555555"
EVENT_INK = "#7a2e00"
VAF_MIN_LOG, VAF_MAX_LOG = -4, 0  # 0.01 % to 100 %


def style(i: int) -> tuple[str, str, str]:
    """Colour, marker shape and dash pattern of series ``i`` (distinct pairs up to 64)."""
    shape = SHAPES[i % len(SHAPES)]
    colour = OKABE_ITO[(i + i // len(SHAPES)) % len(OKABE_ITO)]
    dash = DASHES[i % len(DASHES)]
    return colour, shape, dash


def _f(x: float) -> str:
    """A coordinate, short."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def marker(
    shape: str,
    x: float,
    y: float,
    r: float,
    *,
    fill: str,
    stroke: str,
    width: float = 2.0,
    attrs: str = "",
    title: str | None = None,
) -> str:
    """One marker of ``shape`` centred on (x, y) with radius about ``r``."""
    tip = f"<title>{escape(title)}</title>" if title else ""
    paint = f'fill="{fill}" stroke="{stroke}" stroke-width="{_f(width)}" {attrs}'.rstrip()
    if shape == "circle":
        return f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(r)}" {paint}>{tip}</circle>'
    if shape == "square":
        s = r * 0.9
        return (
            f'<rect x="{_f(x - s)}" y="{_f(y - s)}" width="{_f(2 * s)}" height="{_f(2 * s)}" '
            f"{paint}>{tip}</rect>"
        )
    if shape == "plus":
        a, b = r * 1.1, r * 0.4
        pts = [
            (-b, -a), (b, -a), (b, -b), (a, -b), (a, b), (b, b),
            (b, a), (-b, a), (-b, b), (-a, b), (-a, -b), (-b, -b),
        ]  # fmt: skip
    else:
        sides, turn, scale = {
            "triangle": (3, -90.0, 1.25),
            "triangle-down": (3, 90.0, 1.25),
            "diamond": (4, -90.0, 1.25),
            "pentagon": (5, -90.0, 1.1),
            "hexagon": (6, 0.0, 1.05),
        }[shape]
        pts = [
            (
                r * scale * math.cos(math.radians(turn + 360.0 * k / sides)),
                r * scale * math.sin(math.radians(turn + 360.0 * k / sides)),
            )
            for k in range(sides)
        ]
    points = " ".join(f"{_f(x + dx)},{_f(y + dy)}" for dx, dy in pts)
    return f'<polygon points="{points}" {paint}>{tip}</polygon>'


# ----------------------------------------------------------------------- scales
def day_ticks(lo: float, hi: float, target: int = 8) -> list[int]:
    """Round day ticks covering [lo, hi]."""
    span = max(hi - lo, 1.0)
    steps = (7, 14, 28, 30, 60, 90, 120, 180, 365, 730, 1825)
    step = next((s for s in steps if span / s <= target), steps[-1])
    first = math.ceil(lo / step) * step
    return list(range(int(first), int(hi) + 1, step))


@dataclass(frozen=True)
class DayScale:
    """Days since the first therapy line to x in the plot."""

    lo: float
    hi: float
    label: str = "Days since the start of the first therapy line"
    left: float = LEFT
    right: float = WIDTH - RIGHT

    @classmethod
    def covering(cls, days: list[float], label: str | None = None) -> DayScale:
        """A scale covering ``days`` (and day 0) with a margin; ``label`` names the axis."""
        finite = [d for d in days if d == d] or [0.0]
        lo, hi = min([*finite, 0.0]), max([*finite, 1.0])
        pad = max((hi - lo) * 0.04, 3.0)
        return cls(lo - pad, hi + pad) if label is None else cls(lo - pad, hi + pad, label)

    def __call__(self, day: float) -> float:
        """The x coordinate of ``day``."""
        return self.left + (day - self.lo) / (self.hi - self.lo) * (self.right - self.left)


def _x_axis(scale: DayScale, top: float, bottom: float, *, label: bool = True) -> list[str]:
    out = []
    for day in day_ticks(scale.lo, scale.hi):
        x = scale(day)
        out.append(
            f'<line x1="{_f(x)}" y1="{_f(top)}" x2="{_f(x)}" y2="{_f(bottom)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{_f(x)}" y="{_f(bottom + 22)}" text-anchor="middle" font-size="16" '
            f'fill="{INK}">{day}</text>'
        )
    out.append(
        f'<line x1="{_f(scale.left)}" y1="{_f(bottom)}" x2="{_f(scale.right)}" '
        f'y2="{_f(bottom)}" stroke="{INK}" stroke-width="1.5"/>'
    )
    if label:
        out.append(
            f'<text x="{_f((scale.left + scale.right) / 2)}" y="{_f(bottom + 48)}" '
            f'text-anchor="middle" font-size="17" fill="{INK}">{escape(scale.label)}</text>'
        )
    return out


def _open(ident: str, height: float, title: str, desc: str, cls: str) -> str:
    return (
        f'<svg id="{ident}" class="{cls}" viewBox="0 0 {WIDTH} {_f(height)}" '
        f'width="{WIDTH}" height="{_f(height)}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" {FONT}>'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>'
        f'<rect x="0" y="0" width="{WIDTH}" height="{_f(height)}" fill="#ffffff"/>'
    )


# ----------------------------------------------------------------------- timeline
@dataclass(frozen=True)
class Line:
    """One therapy line in days: ``end`` is ``None`` while ongoing."""

    regimen: str
    start: float
    end: float | None
    reason: str | None = None


@dataclass(frozen=True)
class Event:
    """A clinical event on a day."""

    event: str
    day: float


def timeline_svg(
    lines: list[Line],
    events: list[Event],
    draw_days: list[float],
    scale: DayScale,
    *,
    ident: str = "timeline-plot",
) -> str:
    """The therapy timeline: one bar per line, progression and other events, draw days."""
    row = 58
    top = 36
    body = max(len(lines), 1) * row
    axis_y = top + body + 30
    height = axis_y + 60
    parts: list[str] = []
    described = []
    for i, line in enumerate(lines):
        y = top + i * row + 24
        x0 = scale(line.start)
        ongoing = line.end is None
        x1 = scale(line.end) if line.end is not None else scale.right - 14
        colour = OKABE_ITO[i % (len(OKABE_ITO) - 1)]  # never yellow for a bar
        state = "ongoing" if ongoing else f"to day {line.end:.0f}"
        reason = f", stopped: {line.reason}" if line.reason else ""
        tip = f"{line.regimen}: from day {line.start:.0f} {state}{reason}"
        described.append(tip)
        parts.append(f'<g class="therapy-line" data-regimen="{escape(line.regimen)}">')
        parts.append(
            f'<rect x="{_f(x0)}" y="{_f(y)}" width="{_f(max(x1 - x0, 3))}" height="22" '
            f'rx="3" fill="{colour}" stroke="{INK}" stroke-width="1"><title>{escape(tip)}'
            "</title></rect>"
        )
        if ongoing:
            tip_x = scale.right - 14
            parts.append(
                f'<polygon points="{_f(tip_x)},{_f(y - 4)} {_f(tip_x + 14)},{_f(y + 11)} '
                f'{_f(tip_x)},{_f(y + 26)}" fill="{colour}" stroke="{INK}" stroke-width="1"/>'
            )
        span = "ongoing" if ongoing else f"to day {line.end:.0f}"
        label = f"{line.regimen} (from day {line.start:.0f}, {span})"
        parts.append(
            f'<text x="{_f(max(x0, scale.left) + 2)}" y="{_f(y - 6)}" font-size="17" '
            f'font-weight="600" fill="{INK}">{escape(label)}</text>'
        )
        parts.append("</g>")
    if not lines:
        parts.append(
            f'<text x="{_f(scale.left + 8)}" y="{_f(top + 30)}" font-size="17" fill="{INK}">'
            "No therapy lines recorded.</text>"
        )
    for ev in events:
        x = scale(ev.day)
        text = f"{ev.event} (day {ev.day:.0f})"
        described.append(text)
        parts.append(f'<g class="event" data-event="{escape(ev.event)}">')
        parts.append(
            f'<line x1="{_f(x)}" y1="{_f(top - 8)}" x2="{_f(x)}" y2="{_f(axis_y)}" '
            f'stroke="{EVENT_INK}" stroke-width="2.5" stroke-dasharray="6 3"/>'
        )
        parts.append(
            marker("diamond", x, top - 14, 7, fill=EVENT_INK, stroke=EVENT_INK, title=text)
        )
        anchor = "end" if x > (scale.left + scale.right) / 2 else "start"
        dx = -10 if anchor == "end" else 10
        parts.append(
            f'<text x="{_f(x + dx)}" y="{_f(top - 9)}" text-anchor="{anchor}" font-size="16" '
            f'font-weight="600" fill="{EVENT_INK}">{escape(text)}</text>'
        )
        parts.append("</g>")
    for day in draw_days:
        x = scale(day)
        parts.append(
            marker(
                "triangle",
                x,
                axis_y - 8,
                5,
                fill=INK,
                stroke=INK,
                width=1,
                attrs='class="draw-tick"',
                title=f"ctDNA draw, day {day:.0f}",
            )
        )
    desc = (
        "Therapy lines as bars over days since the first line started; "
        + ("; ".join(described) if described else "no lines or events")
        + f". Triangles on the axis mark the {len(draw_days)} ctDNA draws."
    )
    head = _open(ident, height, "Therapy timeline", desc, "plot timeline")
    axis = _x_axis(scale, top - 20, axis_y)
    return head + "".join(axis) + "".join(parts) + "</svg>"


# ----------------------------------------------------------------------- trajectories
@dataclass
class Point:
    """One draw of one variant: ``vaf`` when detected, else plotted at ``lod``.

    ``alt_reads`` and ``depth`` are counted in ``unit`` (``"reads"`` or ``"molecules"``).
    """

    day: float
    state: str
    vaf: float
    lod: float
    alt_reads: int
    depth: int
    unit: str = "reads"


@dataclass
class Series:
    """One tracked variant over the draws."""

    label: str
    points: list[Point] = field(default_factory=list)


def _y(value: float, top: float, bottom: float) -> float:
    v = min(max(value, 10.0**VAF_MIN_LOG), 10.0**VAF_MAX_LOG)
    frac = (math.log10(v) - VAF_MIN_LOG) / (VAF_MAX_LOG - VAF_MIN_LOG)
    return bottom - frac * (bottom - top)


def pct(value: float) -> str:
    """A fraction as a percentage with three significant digits."""
    if value != value:
        return "n/a"
    v = value * 100
    if v == 0:
        return "0%"
    if v < 0.001:
        return "<0.001%"
    return f"{v:.3g}%" if v < 1000 else f"{v:.0f}%"


def _plotted(p: Point) -> float:
    return p.vaf if p.state == "detected" else p.lod


def trajectory_svg(
    series: list[Series],
    lod_per_draw: list[tuple[float, float, float, float]],
    events: list[Event],
    scale: DayScale,
    *,
    ident: str = "trajectory-plot",
) -> str:
    """VAF of every tracked variant on a log10 axis against days, with the draws' LoD.

    Parameters
    ----------
    series
        One per tracked variant.
    lod_per_draw
        Per draw: ``(day, median, lowest, highest)`` 95 % LoD over the tracked sites.
    events
        Clinical events drawn as vertical lines.
    scale
        The shared day scale.
    ident
        The ``id`` of the ``<svg>``.
    """
    top, bottom = 30, 430
    n_keys = len(series) + 3
    per_row = 2
    legend_top = bottom + 78
    legend_rows = math.ceil(n_keys / per_row)
    height = legend_top + legend_rows * 34 + 16
    parts: list[str] = []
    # y axis: decades from 0.01 % to 100 %
    for k in range(VAF_MIN_LOG, VAF_MAX_LOG + 1):
        y = _y(10.0**k, top, bottom)
        parts.append(
            f'<line x1="{_f(scale.left)}" y1="{_f(y)}" x2="{_f(scale.right)}" y2="{_f(y)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{_f(scale.left - 8)}" y="{_f(y + 6)}" text-anchor="end" font-size="16" '
            f'fill="{INK}">{pct(10.0**k)}</text>'
        )
    parts.append(
        f'<line x1="{_f(scale.left)}" y1="{_f(top)}" x2="{_f(scale.left)}" y2="{_f(bottom)}" '
        f'stroke="{INK}" stroke-width="1.5"/>'
    )
    mid = (top + bottom) / 2
    parts.append(
        f'<text x="20" y="{_f(mid)}" text-anchor="middle" font-size="17" fill="{INK}" '
        f'transform="rotate(-90 20 {_f(mid)})">Variant allele fraction (log scale)</text>'
    )
    parts.extend(_x_axis(scale, top, bottom))
    # LoD band (lowest to highest over sites) and median line
    lod = [row for row in lod_per_draw if row[1] == row[1]]
    if lod:
        upper = [f"{_f(scale(d))},{_f(_y(hi, top, bottom))}" for d, _, _, hi in lod]
        lower = [f"{_f(scale(d))},{_f(_y(lo, top, bottom))}" for d, _, lo, _ in reversed(lod)]
        parts.append(
            f'<polygon class="lod-band" points="{" ".join(upper + lower)}" fill="#bdbdbd" '
            'fill-opacity="0.45" stroke="none"><title>95% limit of detection, lowest to '
            "highest over the tracked sites of each draw</title></polygon>"
        )
        line = " ".join(f"{_f(scale(d))},{_f(_y(m, top, bottom))}" for d, m, _, _ in lod)
        parts.append(
            f'<polyline class="lod-line" points="{line}" fill="none" stroke="{LOD_INK}" '
            'stroke-width="2" stroke-dasharray="7 5"><title>95% limit of detection per '
            "draw (median over the tracked sites)</title></polyline>"
        )
        for d, m, lo, hi in lod:
            parts.append(
                f'<circle class="lod-point" cx="{_f(scale(d))}" cy="{_f(_y(m, top, bottom))}" '
                f'r="2.5" fill="{LOD_INK}"><title>Day {d:.0f}: 95% LoD {pct(m)} '
                f"(sites {pct(lo)} to {pct(hi)})</title></circle>"
            )
    for ev in events:
        x = scale(ev.day)
        parts.append(
            f'<g class="event"><line x1="{_f(x)}" y1="{_f(top)}" x2="{_f(x)}" '
            f'y2="{_f(bottom)}" stroke="{EVENT_INK}" stroke-width="2.5" '
            f'stroke-dasharray="6 3"/><text x="{_f(x - 6)}" y="{_f(top + 18)}" '
            f'text-anchor="end" font-size="16" font-weight="600" fill="{EVENT_INK}">'
            f"{escape(ev.event)} (day {ev.day:.0f})</text></g>"
        )
    described = []
    for i, s in enumerate(series):
        colour, shape, dash = style(i)
        pts = sorted(s.points, key=lambda p: p.day)
        hits = [p for p in pts if p.state == "detected"]
        summary = f"{s.label}: detected in {len(hits)} of {len(pts)} draws"
        if hits:
            summary += f", last detected on day {hits[-1].day:.0f} at {pct(hits[-1].vaf)}"
        described.append(summary)
        parts.append(
            f'<g class="series" data-alteration="{escape(s.label)}" data-shape="{shape}">'
            f"<title>{escape(summary)}</title>"
        )
        for a, b in itertools.pairwise(pts):
            both = a.state == "detected" and b.state == "detected"
            parts.append(
                f'<line x1="{_f(scale(a.day))}" y1="{_f(_y(_plotted(a), top, bottom))}" '
                f'x2="{_f(scale(b.day))}" y2="{_f(_y(_plotted(b), top, bottom))}" '
                f'stroke="{colour}" stroke-width="{"3" if both else "1.5"}" '
                f'stroke-opacity="{"1" if both else "0.55"}"'
                + (f' stroke-dasharray="{dash}"' if dash else "")
                + "/>"
            )
        for p in pts:
            x, y = scale(p.day), _y(_plotted(p), top, bottom)
            reads = f"{p.alt_reads}/{p.depth} {p.unit}"
            if p.state == "detected":
                tip = f"{s.label}, day {p.day:.0f}: detected at {pct(p.vaf)} ({reads})"
                parts.append(
                    marker(
                        shape,
                        x,
                        y,
                        7,
                        fill=colour,
                        stroke=INK,
                        width=1.2,
                        title=tip,
                        attrs=f'class="marker detected" data-day="{p.day:.0f}"',
                    )
                )
            else:
                kind = "not detected" if p.state == "not_detected" else "not assessable"
                tip = (
                    f"{s.label}, day {p.day:.0f}: {kind} ({reads}); drawn at the draw's "
                    f"95% LoD {pct(p.lod)}"
                )
                cls = "not-detected" if p.state == "not_detected" else "not-assessable"
                parts.append(
                    marker(
                        shape,
                        x,
                        y,
                        7,
                        fill="#ffffff",
                        stroke=colour,
                        width=2.5,
                        title=tip,
                        attrs=f'class="marker {cls} lod-marker" data-day="{p.day:.0f}"'
                        + (' stroke-dasharray="2 2"' if cls == "not-assessable" else ""),
                    )
                )
        parts.append("</g>")
    # legend
    keys: list[tuple[str, str]] = []
    for i, s in enumerate(series):
        colour, shape, dash = style(i)
        sample = (
            f'<line x1="0" y1="0" x2="44" y2="0" stroke="{colour}" stroke-width="3"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + "/>"
            + marker(shape, 22, 0, 7, fill=colour, stroke=INK, width=1.2)
        )
        keys.append((sample, s.label))
    keys.append(
        (
            marker("circle", 12, 0, 7, fill=INK, stroke=INK, width=1.2)
            + marker("circle", 34, 0, 7, fill="#ffffff", stroke=INK, width=2.5),
            "filled: detected; open: not detected (at LoD)",
        )
    )
    keys.append(
        (
            f'<rect x="0" y="-9" width="44" height="18" fill="#bdbdbd" fill-opacity="0.45"/>'
            f'<line x1="0" y1="0" x2="44" y2="0" stroke="{LOD_INK}" stroke-width="2" '
            'stroke-dasharray="7 5"/>',
            "95% LoD per draw: median (dashed), site range",
        )
    )
    keys.append(
        (
            f'<line x1="22" y1="-12" x2="22" y2="12" stroke="{EVENT_INK}" stroke-width="2.5" '
            'stroke-dasharray="6 3"/>',
            "clinical event (e.g. progression)",
        )
    )
    parts.append(f'<g class="legend" transform="translate({LEFT} {legend_top})">')
    col_w = (WIDTH - LEFT - RIGHT) / per_row
    for k, (sample, text) in enumerate(keys):
        cx, cy = (k % per_row) * col_w, (k // per_row) * 34
        parts.append(
            f'<g class="legend-item" transform="translate({_f(cx)} {_f(cy)})">{sample}'
            f'<text x="54" y="6" font-size="15" fill="{INK}">{escape(text)}</text></g>'
        )
    parts.append("</g>")
    desc = (
        "Variant allele fraction of each tracked variant against days since the first "
        "therapy line, on a log scale from 0.01% to 100%. "
        + "; ".join(described)
        + ". Undetected draws are open markers at that draw's 95% limit of detection."
    )
    head = _open(ident, height, "ctDNA variant trajectories", desc, "plot trajectories")
    return head + "".join(parts) + "</svg>"
