"""The report's monitoring plots: therapy timeline and VAF trajectories.

Both are drawn with the figure layer (:mod:`oncoresist.figures`) and share one horizontal
scale, days since the start of the first therapy line, so that they line up one above the
other. Inside the HTML report they carry no ``xmlns`` (the HTML parser places ``<svg>`` in
the SVG namespace itself, and the report then holds no URL at all); ``standalone=True``
adds it for a file of its own. Each variant's colour, marker and dash come from
:func:`oncoresist.figures.assign` over the variants' labels, the assignment the web page's
chart uses too, so a variant looks the same in the report and in the browser.

The names below the layer's (``OKABE_ITO``, ``style``, ``marker``, ``DayScale`` ...) are
kept for the modules that import them from here.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from html import unescape

from oncoresist import figures as fg
from oncoresist.figures import DASHES, GRID, INK, OKABE_ITO, SHAPES, DayScale, day_ticks

__all__ = [
    "DASHES",
    "GRID",
    "INK",
    "OKABE_ITO",
    "SHAPES",
    "DayScale",
    "Event",
    "Line",
    "Point",
    "Series",
    "day_ticks",
    "marker",
    "pct",
    "series_styles",
    "style",
    "timeline_svg",
    "trajectory_svg",
]

WIDTH = 1000
LEFT, RIGHT = 96, 24
#: the font as an attribute, for ``<svg>`` heads written by hand elsewhere
FONT = f'font-family="{fg.FONT}"'
LOD_INK = "#555555"
EVENT_INK = "#7a2e00"
VAF_MIN_LOG, VAF_MAX_LOG = -4, 0  # 0.01 % to 100 %
_ATTR = re.compile(r'([\w:-]+)="([^"]*)"')


def style(i: int) -> tuple[str, str, str]:
    """Colour, marker shape and dash pattern of the ``i``-th series of an ordered list."""
    return tuple(fg.style(i))  # type: ignore[return-value]


def series_styles(labels: list[str]) -> dict[str, fg.Style]:
    """The style of each variant label: the one assignment the report and web page share."""
    return fg.assign(labels)


def _f(x: float) -> str:
    """A coordinate, short."""
    return fg.fmt(x)


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
    """One marker of ``shape`` centred on (x, y) with radius about ``r``.

    ``attrs`` (``'class="a" data-x="1"'``) is read into attributes and written escaped.
    """
    extra = {k.replace("-", "_"): unescape(v) for k, v in _ATTR.findall(attrs)}
    if "class" in extra:
        extra["class_"] = extra.pop("class")
    return fg.marker(shape, x, y, r, fill=fill, stroke=stroke, width=width, title=title, **extra)


def _x_axis(scale: DayScale, top: float, bottom: float, *, label: bool = True) -> list[str]:
    return fg.x_axis(
        scale,
        scale.ticks(),
        left=scale.left,
        right=scale.right,
        top=top,
        bottom=bottom,
        label=scale.label if label else None,
        tick_label=lambda d: f"{d:.0f}",
    )


def _figure(ident: str, height: float, title: str, desc: str, cls: str) -> fg.Svg:
    return fg.Svg(WIDTH, height, title=title, desc=desc, ident=ident, cls=cls)


def _out(fig: fg.Svg, standalone: bool) -> str:
    return fig.standalone() if standalone else fig.inline()


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


def _event_line(ev: Event, top: float, bottom: float, scale: DayScale) -> str:
    x = scale(ev.day)
    return fg.el(
        "line",
        x1=_f(x),
        y1=_f(top),
        x2=_f(x),
        y2=_f(bottom),
        stroke=EVENT_INK,
        stroke_width=2.5,
        stroke_dasharray="6 3",
    )


def timeline_svg(
    lines: list[Line],
    events: list[Event],
    draw_days: list[float],
    scale: DayScale,
    *,
    ident: str = "timeline-plot",
    standalone: bool = False,
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
        span = "ongoing" if ongoing else f"to day {line.end:.0f}"
        reason = f", stopped: {line.reason}" if line.reason else ""
        tip = f"{line.regimen}: from day {line.start:.0f} {span}{reason}"
        described.append(tip)
        bar = fg.el(
            "rect",
            fg.tip(tip),
            x=_f(x0),
            y=_f(y),
            width=_f(max(x1 - x0, 3)),
            height=22,
            rx=3,
            fill=colour,
            stroke=INK,
            stroke_width=1,
        )
        arrow = ""
        if ongoing:
            t = scale.right - 14
            arrow = fg.el(
                "polygon",
                points=fg.points([(t, y - 4), (t + 14, y + 11), (t, y + 26)]),
                fill=colour,
                stroke=INK,
                stroke_width=1,
            )
        label = fg.text(
            max(x0, scale.left) + 2,
            y - 6,
            f"{line.regimen} (from day {line.start:.0f}, {span})",
            font_size=17,
            font_weight=600,
        )
        parts.append(
            fg.el("g", bar + arrow + label, class_="therapy-line", data_regimen=line.regimen)
        )
    if not lines:
        parts.append(fg.text(scale.left + 8, top + 30, "No therapy lines recorded.", font_size=17))
    for ev in events:
        x = scale(ev.day)
        words = f"{ev.event} (day {ev.day:.0f})"
        described.append(words)
        anchor = "end" if x > (scale.left + scale.right) / 2 else "start"
        body_ = (
            _event_line(ev, top - 8, axis_y, scale)
            + fg.marker("diamond", x, top - 14, 7, fill=EVENT_INK, stroke=EVENT_INK, title=words)
            + fg.text(
                x + (-10 if anchor == "end" else 10),
                top - 9,
                words,
                text_anchor=anchor,
                font_weight=600,
                fill=EVENT_INK,
            )
        )
        parts.append(fg.el("g", body_, class_="event", data_event=ev.event))
    for day in draw_days:
        parts.append(
            fg.marker(
                "triangle",
                scale(day),
                axis_y - 8,
                5,
                fill=INK,
                stroke=INK,
                width=1,
                title=f"ctDNA draw, day {day:.0f}",
                class_="draw-tick",
            )
        )
    desc = (
        "Therapy lines as bars over days since the first line started; "
        + ("; ".join(described) if described else "no lines or events")
        + f". Triangles on the axis mark the {len(draw_days)} ctDNA draws."
    )
    fig = _figure(ident, height, "Therapy timeline", desc, "plot timeline")
    fig.extend(_x_axis(scale, top - 20, axis_y))
    fig.extend(parts)
    return _out(fig, standalone)


# ----------------------------------------------------------------------- trajectories
@dataclass
class Point:
    """One draw of one variant: ``vaf`` when detected, else plotted at ``lod``.

    ``alt_reads`` and ``depth`` are counted in ``unit`` (``"reads"`` or ``"molecules"``;
    ``None`` when not known, as on the web page, which has the VAF only); ``date`` (ISO) is
    shown in the web page's tooltip when known.
    """

    day: float
    state: str
    vaf: float
    lod: float
    alt_reads: int | None
    depth: int | None
    unit: str = "reads"
    date: str | None = None


@dataclass
class Series:
    """One tracked variant over the draws."""

    label: str
    points: list[Point] = field(default_factory=list)


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
    if p.state == "detected":
        return p.vaf
    return p.lod if p.lod == p.lod else 10.0**VAF_MIN_LOG


def _state_words(state: str) -> str:
    return {"detected": "detected", "not_detected": "not detected"}.get(
        state, state.replace("_", " ")
    )


def trajectory_svg(
    series: list[Series],
    lod_per_draw: list[tuple[float, float, float, float]],
    events: list[Event],
    scale: DayScale,
    *,
    ident: str = "trajectory-plot",
    legend: bool = True,
    standalone: bool = False,
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
    legend
        Draw the legend under the plot (the web page has its own, of toggle buttons).
    standalone
        Add ``xmlns`` for a file of its own.

    Returns
    -------
    str
        The ``<svg>``. Each variant is a ``<g class="series">`` with ``data-alteration`` and
        ``data-series`` (its label), ``data-colour``, ``data-shape`` and ``data-dash``; each
        draw a marker of class ``marker point`` and ``detected``, ``not-detected`` or
        ``not-assessable``, with ``data-day``, ``data-state``, ``data-vaf``, ``data-lod``
        and ``data-date`` for the web page's interaction.
    """
    top, bottom = 30, 430
    styles = series_styles([s.label for s in series])
    n_keys = len(series) + 3
    per_row = 2
    legend_top = bottom + 78
    height = legend_top + fg.legend_height(n_keys, columns=per_row) + 16 if legend else bottom + 70
    y = fg.LogScale((10.0**VAF_MIN_LOG, 10.0**VAF_MAX_LOG), (bottom, top))
    parts: list[str] = fg.y_axis(
        y,
        y.ticks(),
        left=scale.left,
        right=scale.right,
        top=top,
        bottom=bottom,
        label="Variant allele fraction (log scale)",
        tick_label=pct,
    )
    parts.extend(_x_axis(scale, top, bottom))
    lod = [row for row in lod_per_draw if row[1] == row[1]]
    if lod:
        upper = [(scale(d), y(hi)) for d, _, _, hi in lod]
        lower = [(scale(d), y(lo)) for d, _, lo, _ in reversed(lod)]
        parts.append(
            fg.el(
                "polygon",
                fg.tip(
                    "95% limit of detection, lowest to highest over the tracked sites of each draw"
                ),
                class_="lod-band",
                points=fg.points(upper + lower),
                fill="#bdbdbd",
                fill_opacity=0.45,
                stroke="none",
            )
        )
        parts.append(
            fg.el(
                "polyline",
                fg.tip("95% limit of detection per draw (median over the tracked sites)"),
                class_="lod-line",
                points=fg.points([(scale(d), y(m)) for d, m, _, _ in lod]),
                fill="none",
                stroke=LOD_INK,
                stroke_width=2,
                stroke_dasharray="7 5",
            )
        )
        for d, m, lo, hi in lod:
            parts.append(
                fg.el(
                    "circle",
                    fg.tip(f"Day {d:.0f}: 95% LoD {pct(m)} (sites {pct(lo)} to {pct(hi)})"),
                    class_="lod-point",
                    cx=_f(scale(d)),
                    cy=_f(y(m)),
                    r=2.5,
                    fill=LOD_INK,
                )
            )
    for ev in events:
        words = f"{ev.event} (day {ev.day:.0f})"
        parts.append(
            fg.el(
                "g",
                _event_line(ev, top, bottom, scale)
                + fg.text(
                    scale(ev.day) - 6,
                    top + 18,
                    words,
                    text_anchor="end",
                    font_weight=600,
                    fill=EVENT_INK,
                ),
                class_="event",
            )
        )
    described = []
    for s in series:
        st = styles[s.label]
        pts = sorted(s.points, key=lambda p: p.day)
        hits = [p for p in pts if p.state == "detected"]
        summary = f"{s.label}: detected in {len(hits)} of {len(pts)} draws"
        if hits:
            summary += f", last detected on day {hits[-1].day:.0f} at {pct(hits[-1].vaf)}"
        described.append(summary)
        body = [fg.tip(summary)]
        for a, b in itertools.pairwise(pts):
            both = a.state == "detected" and b.state == "detected"
            body.append(
                fg.el(
                    "line",
                    x1=_f(scale(a.day)),
                    y1=_f(y(_plotted(a))),
                    x2=_f(scale(b.day)),
                    y2=_f(y(_plotted(b))),
                    stroke=st.colour,
                    stroke_width=3 if both else 1.5,
                    stroke_opacity=1 if both else 0.55,
                    stroke_dasharray=st.dash or None,
                    aria_hidden="true",
                )
            )
        for p in pts:
            reads = (
                f"{p.alt_reads}/{p.depth} {p.unit}"
                if p.alt_reads is not None and p.depth is not None
                else f"VAF {pct(p.vaf)}"
            )
            data = {
                "data_day": f"{p.day:.0f}",
                "data_state": p.state,
                "data_date": p.date,
                "data_vaf": repr(p.vaf),
                "data_lod": repr(p.lod),
            }
            if p.state == "detected":
                tip = f"{s.label}, day {p.day:.0f}: detected at {pct(p.vaf)} ({reads})"
                body.append(
                    fg.marker(
                        st.marker,
                        scale(p.day),
                        y(_plotted(p)),
                        7,
                        fill=st.colour,
                        stroke=INK,
                        width=1.2,
                        title=tip,
                        class_="marker point detected",
                        **data,
                    )
                )
            else:
                tip = (
                    f"{s.label}, day {p.day:.0f}: {_state_words(p.state)} ({reads}); drawn "
                    f"at the draw's 95% LoD {pct(p.lod)}"
                )
                cls = "not-detected" if p.state == "not_detected" else "not-assessable"
                body.append(
                    fg.marker(
                        st.marker,
                        scale(p.day),
                        y(_plotted(p)),
                        7,
                        fill="#ffffff",
                        stroke=st.colour,
                        width=2.5,
                        title=tip,
                        class_=f"marker point {cls} lod-marker",
                        stroke_dasharray="2 2" if cls == "not-assessable" else None,
                        **data,
                    )
                )
        parts.append(
            fg.el(
                "g",
                "".join(body),
                class_="series",
                data_alteration=s.label,
                data_series=s.label,
                data_colour=st.colour,
                data_shape=st.marker,
                data_dash=st.dash,
            )
        )
    if legend:
        keys = [(fg.series_key(styles[s.label]), s.label) for s in series]
        keys.append(
            (
                fg.marker("circle", 12, 0, 7, fill=INK, stroke=INK, width=1.2)
                + fg.marker("circle", 34, 0, 7, fill="#ffffff", stroke=INK, width=2.5),
                "filled: detected; open: not detected (at LoD)",
            )
        )
        keys.append(
            (
                fg.el("rect", x=0, y=-9, width=44, height=18, fill="#bdbdbd", fill_opacity=0.45)
                + fg.el(
                    "line",
                    x1=0,
                    y1=0,
                    x2=44,
                    y2=0,
                    stroke=LOD_INK,
                    stroke_width=2,
                    stroke_dasharray="7 5",
                ),
                "95% LoD per draw: median (dashed), site range",
            )
        )
        keys.append(
            (
                fg.el(
                    "line",
                    x1=22,
                    y1=-12,
                    x2=22,
                    y2=12,
                    stroke=EVENT_INK,
                    stroke_width=2.5,
                    stroke_dasharray="6 3",
                ),
                "clinical event (e.g. progression)",
            )
        )
        parts.append(
            fg.legend(keys, x=LEFT, y=legend_top, width=WIDTH - LEFT - RIGHT, columns=per_row)
        )
    desc = (
        "Variant allele fraction of each tracked variant against days since the first "
        "therapy line, on a log scale from 0.01% to 100%. "
        + "; ".join(described)
        + ". Undetected draws are open markers at that draw's 95% limit of detection."
    )
    fig = _figure(ident, height, "ctDNA variant trajectories", desc, "plot trajectories")
    fig.extend(parts)
    return _out(fig, standalone)
