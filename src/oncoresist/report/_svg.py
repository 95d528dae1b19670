"""The report's monitoring plots: therapy timeline and VAF trajectories.

Both are drawn with the figure layer (:mod:`oncoresist.figures`) and share one horizontal
scale, days since the start of the first therapy line, so that they line up one above the
other. Every rendering carries ``xmlns`` (inside the HTML report too), so the same text is
a valid ``.svg`` file and a valid inline figure. Each variant's colour, marker and dash
come from :func:`oncoresist.figures.assign` over the variants' labels, the assignment the
web page's chart uses too, so a variant looks the same in the report and in the browser.

``INK``, ``DayScale`` and ``marker`` are the layer's, re-exported for the web page.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from oncoresist import figures as fg
from oncoresist.figures import INK, DayScale, marker

__all__ = [
    "INK",
    "DayScale",
    "Event",
    "Line",
    "Point",
    "Series",
    "marker",
    "pct",
    "series_styles",
    "timeline_svg",
    "trajectory_svg",
]

WIDTH = 1000
LEFT, RIGHT = 96, 24
LOD_INK = "#555555"
EVENT_INK = "#7a2e00"
EVENT_LINE = {"stroke": EVENT_INK, "stroke_width": 2.5, "stroke_dasharray": "6 3"}
LOD_LINE = {"stroke": LOD_INK, "stroke_width": 2, "stroke_dasharray": "7 5"}
LOD_BAND = {"fill": "#bdbdbd", "fill_opacity": 0.45}
VAF_MIN_LOG, VAF_MAX_LOG = -4, 0  # 0.01 % to 100 %


def series_styles(labels: list[str]) -> dict[str, fg.Style]:
    """The style of each variant label: the one assignment the report and web page share."""
    return fg.assign(labels)


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


def _figure(ident: str, height: float, title: str, desc: str, cls: str, parts: list[str]) -> str:
    fig = fg.Svg(WIDTH, height, title=title, desc=desc, ident=ident, cls=cls)
    fig.extend(parts)
    return fig.standalone()


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
    standalone: bool = False,
) -> str:
    """The therapy timeline: one bar per line, progression and other events, draw days.

    ``standalone`` is kept for callers: every figure carries ``xmlns``.
    """
    row = 58
    top = 36
    axis_y = top + max(len(lines), 1) * row + 30
    parts = _x_axis(scale, top - 20, axis_y)
    described = []
    for i, line in enumerate(lines):
        y = top + i * row + 24
        x0 = scale(line.start)
        x1 = scale(line.end) if line.end is not None else scale.right - 14
        colour = fg.OKABE_ITO[i % (len(fg.OKABE_ITO) - 1)]  # never yellow for a bar
        span = "ongoing" if line.end is None else f"to day {line.end:.0f}"
        reason = f", stopped: {line.reason}" if line.reason else ""
        words = f"{line.regimen}: from day {line.start:.0f} {span}{reason}"
        described.append(words)
        paint = {"fill": colour, "stroke": INK, "stroke_width": 1}
        body = fg.el(
            "rect", fg.tip(words), x=x0, y=y, width=max(x1 - x0, 3), height=22, rx=3, **paint
        )
        if line.end is None:  # an arrow head: the line goes on
            t = scale.right - 14
            body += fg.el(
                "polygon", points=fg.points([(t, y - 4), (t + 14, y + 11), (t, y + 26)]), **paint
            )
        label = f"{line.regimen} (from day {line.start:.0f}, {span})"
        x = max(x0, scale.left) + 2
        # a late line's label ends at the plot's right edge rather than run out of the figure
        end = x + 0.56 * 17 * len(label) > WIDTH
        look = {"font_size": 17, "font_weight": 600, "text_anchor": "end" if end else None}
        body += fg.text(scale.right if end else x, y - 6, label, **look)
        parts.append(fg.el("g", body, class_="therapy-line", data_regimen=line.regimen))
    if not lines:
        parts.append(fg.text(scale.left + 8, top + 30, "No therapy lines recorded.", font_size=17))
    for ev in events:
        x = scale(ev.day)
        words = f"{ev.event} (day {ev.day:.0f})"
        described.append(words)
        anchor = "end" if x > (scale.left + scale.right) / 2 else "start"
        dx = -10 if anchor == "end" else 10
        body = fg.line(x, top - 8, x, axis_y, **EVENT_LINE)
        body += fg.marker("diamond", x, top - 14, 7, fill=EVENT_INK, stroke=EVENT_INK, title=words)
        body += fg.text(x + dx, top - 9, words, text_anchor=anchor, font_weight=600, fill=EVENT_INK)
        parts.append(fg.el("g", body, class_="event", data_event=ev.event))
    tick = {"fill": INK, "stroke": INK, "width": 1, "class_": "draw-tick"}
    for day in draw_days:
        words = f"ctDNA draw, day {day:.0f}"
        parts.append(fg.marker("triangle", scale(day), axis_y - 8, 5, title=words, **tick))
    desc = (
        "Therapy lines as bars over days since the first line started; "
        + ("; ".join(described) if described else "no lines or events")
        + f". Triangles on the axis mark the {len(draw_days)} ctDNA draws."
    )
    return _figure(ident, axis_y + 60, "Therapy timeline", desc, "plot timeline", parts)


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
        Kept for callers; every figure carries ``xmlns``.

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
    legend_top = bottom + 78
    n_keys = len(series) + 3
    height = legend_top + fg.legend_height(n_keys) + 16 if legend else bottom + 70
    y = fg.LogScale((10.0**VAF_MIN_LOG, 10.0**VAF_MAX_LOG), (bottom, top))
    label = "Variant allele fraction (log scale)"
    box = {"left": scale.left, "right": scale.right, "top": top, "bottom": bottom}
    parts = fg.y_axis(y, y.ticks(), label=label, tick_label=pct, **box)
    parts += _x_axis(scale, top, bottom)
    lod = [row for row in lod_per_draw if row[1] == row[1]]
    if lod:
        words = "95% limit of detection, lowest to highest over the tracked sites of each draw"
        upper = [(scale(d), y(hi)) for d, _, _, hi in lod]
        lower = [(scale(d), y(lo)) for d, _, lo, _ in lod]
        parts.append(fg.band(upper, lower, fg.tip(words), class_="lod-band", **LOD_BAND))
        words = "95% limit of detection per draw (median over the tracked sites)"
        median = [(scale(d), y(m)) for d, m, _, _ in lod]
        parts.append(fg.polyline(median, fg.tip(words), class_="lod-line", **LOD_LINE))
        for d, m, lo, hi in lod:
            words = f"Day {d:.0f}: 95% LoD {pct(m)} (sites {pct(lo)} to {pct(hi)})"
            dot = {"class_": "lod-point", "cx": scale(d), "cy": y(m), "r": 2.5, "fill": LOD_INK}
            parts.append(fg.el("circle", fg.tip(words), **dot))
    for ev in events:
        words = f"{ev.event} (day {ev.day:.0f})"
        x = scale(ev.day)
        body = fg.line(x, top, x, bottom, **EVENT_LINE)
        body += fg.text(x - 6, top + 18, words, text_anchor="end", font_weight=600, fill=EVENT_INK)
        parts.append(fg.el("g", body, class_="event"))
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
        look = {"stroke": st.colour, "stroke_dasharray": st.dash or None, "aria_hidden": "true"}
        for a, b in itertools.pairwise(pts):  # bold between two detections, faint otherwise
            both = a.state == b.state == "detected"
            ends = (scale(a.day), y(_plotted(a)), scale(b.day), y(_plotted(b)))
            weight = {"stroke_width": 3 if both else 1.5, "stroke_opacity": 1 if both else 0.55}
            body.append(fg.line(*ends, **look, **weight))
        for p in pts:
            body.append(_point(s.label, st, p, scale(p.day), y(_plotted(p))))
        group = {"data_alteration": s.label, "data_series": s.label, "data_colour": st.colour}
        group |= {"data_shape": st.marker, "data_dash": st.dash}
        parts.append(fg.el("g", "".join(body), class_="series", **group))
    if legend:
        keys = [(fg.series_key(styles[s.label]), s.label) for s in series]
        both = fg.marker("circle", 12, 0, 7, fill=INK, stroke=INK, width=1.2)
        both += fg.marker("circle", 34, 0, 7, fill="#ffffff", stroke=INK, width=2.5)
        keys.append((both, "filled: detected; open: not detected (at LoD)"))
        lod_key = fg.el("rect", x=0, y=-9, width=44, height=18, **LOD_BAND)
        lod_key += fg.line(0, 0, 44, 0, **LOD_LINE)
        keys.append((lod_key, "95% LoD per draw: median (dashed), site range"))
        keys.append((fg.line(22, -12, 22, 12, **EVENT_LINE), "clinical event (e.g. progression)"))
        parts.append(fg.legend(keys, x=LEFT, y=legend_top, width=WIDTH - LEFT - RIGHT))
    desc = (
        "Variant allele fraction of each tracked variant against days since the first "
        "therapy line, on a log scale from 0.01% to 100%. "
        + "; ".join(described)
        + ". Undetected draws are open markers at that draw's 95% limit of detection."
    )
    return _figure(ident, height, "ctDNA variant trajectories", desc, "plot trajectories", parts)


def _point(label: str, st: fg.Style, p: Point, x: float, y: float) -> str:
    """One draw's marker: filled when detected, open at the draw's LoD otherwise."""
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
        words = f"{label}, day {p.day:.0f}: detected at {pct(p.vaf)} ({reads})"
        paint = {"fill": st.colour, "stroke": INK, "width": 1.2, "class_": "marker point detected"}
    else:
        words = (
            f"{label}, day {p.day:.0f}: {p.state.replace('_', ' ')} ({reads}); drawn "
            f"at the draw's 95% LoD {pct(p.lod)}"
        )
        cls = "not-detected" if p.state == "not_detected" else "not-assessable"
        paint = {
            "fill": "#ffffff",
            "stroke": st.colour,
            "width": 2.5,
            "class_": f"marker point {cls} lod-marker",
            "stroke_dasharray": "2 2" if cls == "not-assessable" else None,
        }
    return fg.marker(st.marker, x, y, 7, title=words, **paint, **data)
