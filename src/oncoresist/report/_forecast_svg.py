"""The forecast fan chart: a patient's marker history and each strategy's predictive bands.

One panel per strategy (small multiples on one day scale and one log-scale marker axis, so
the strategies compare at a glance without overlapping bands): the readings so far
(censored ones as open downward triangles at their limit of quantification), then the
median forecast and its 50 %, 80 % and 95 % predictive bands, a strip of the share of
paths on drug per visit interval, and the PCWG3 progression threshold over the nadir.
Drawn with the figure layer (:mod:`oncoresist.figures`) on the day scale of the report's
monitoring plots; the ``<svg>`` carries ``xmlns`` inside the HTML report and in a file alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from oncoresist import figures as fg
from oncoresist.figures import GRID, INK, OKABE_ITO, DayScale
from oncoresist.report._svg import LEFT, WIDTH, _figure, _x_axis

__all__ = ["STRATEGY_WORDS", "Band", "History", "Panel", "fan_chart_svg"]

#: What each strategy of :meth:`oncoresist.forecast.PSAForecaster.forecast_strategies` does.
STRATEGY_WORDS = {
    "continue": "Continue: abiraterone throughout",
    "stop": "Stop: no abiraterone",
    "adaptive": "Adaptive (Zhang 2022): stop below 50 % of baseline, resume at baseline",
    "adaptive_25": "Adaptive 25/75: stop below 25 % of baseline, resume at 75 %",
    "intermittent": "Intermittent: 8 weeks on, 8 weeks off",
}
PANEL_H = 150  # height of one strategy's plot area
STRIP_H = 10  # the on-drug strip under it
GAP = 88  # two title lines above each panel and the strip's room
BAND_OPACITY = {95: 0.16, 80: 0.28, 50: 0.45}
THRESHOLD_INK = "#7a2e00"
THRESHOLD_LINE = {"stroke": THRESHOLD_INK, "stroke_width": 2, "stroke_dasharray": "8 4"}
READING = {"shape": "circle", "r": 4, "fill": INK, "stroke": INK, "width": 1}
CENSORED = {"shape": "triangle-down", "r": 5, "fill": "#ffffff", "stroke": INK, "width": 1.8}


@dataclass(frozen=True)
class History:
    """One reading so far: day, value (the limit when censored), censored, on drug after."""

    day: float
    value: float
    censored: bool = False
    on_treatment: bool | None = None


@dataclass(frozen=True)
class Band:
    """One forecast visit: day, quantiles (marker units) and the share of paths on drug."""

    day: float
    q025: float
    q10: float
    q25: float
    q50: float
    q75: float
    q90: float
    q975: float
    share_on: float = float("nan")


@dataclass
class Panel:
    """One strategy: its name, a line of figures for its title, and its bands."""

    strategy: str
    figures: str = ""
    bands: list[Band] = field(default_factory=list)
    threshold: bool = True  # draw the progression threshold (not for "stop": off drug)


def _decades(values: list[float]) -> tuple[int, int]:
    finite = [v for v in values if v > 0 and math.isfinite(v)] or [1.0]
    lo = math.floor(math.log10(min(finite)))
    hi = math.ceil(math.log10(max(finite)))
    if hi <= lo:
        hi = lo + 1
    return lo, min(hi, lo + 7)  # at most 7 decades: a wider band is clipped at the frame


def _tick_label(value: float) -> str:
    k = round(math.log10(value))
    return f"{value:g}" if -3 <= k <= 5 else f"1e{k}"


def fan_chart_svg(
    history: list[History],
    panels: list[Panel],
    *,
    origin_day: float,
    threshold: float | None = None,
    unit: str = "ng/mL",
    marker_name: str = "PSA",
    day_label: str = "Days since the first measurement",
    approximate_50: bool = False,
    ident: str = "forecast-plot",
    standalone: bool = False,
) -> str:
    """The fan chart of a forecast under each strategy, as SVG text.

    Parameters
    ----------
    history
        The readings so far, oldest first.
    panels
        One per strategy, in the order to show.
    origin_day
        Day of the last reading: where the forecasts start.
    threshold
        The marker value that a confirmed rise on drug must reach to count as PCWG3
        progression (25 % and 2 ng/mL over the nadir); ``None``: not drawn.
    unit, marker_name
        Unit and name of the marker, for the axis.
    day_label
        Name of the day axis.
    approximate_50
        The 50 % band was interpolated from the 80 % band and the median (said in the
        description).
    ident
        ``id`` of the ``<svg>``; ids inside derive from it.
    standalone
        Kept for callers; every figure carries ``xmlns``.

    Returns
    -------
    str
        The ``<svg>`` element; every label escaped.
    """
    days = [h.day for h in history] + [origin_day]
    days += [b.day for p in panels for b in p.bands]
    scale = DayScale.covering(days, day_label)
    values = [h.value for h in history]
    values += [x for p in panels for b in p.bands for x in (b.q025, b.q975)]
    if threshold is not None:
        values.append(threshold)
    lo, hi = _decades(values)
    top0 = 60
    n = max(len(panels), 1)
    axis_y = top0 + n * (PANEL_H + GAP) - GAP + STRIP_H + 12
    legend_top = axis_y + 70
    height = legend_top + 4 * 28 + 12

    parts: list[str] = []
    described: list[str] = []
    x0 = scale(origin_day)
    for i, panel in enumerate(panels):
        top = top0 + i * (PANEL_H + GAP)
        y_of = fg.LogScale((10.0**lo, 10.0**hi), (top + PANEL_H, top))
        colour = OKABE_ITO[i % (len(OKABE_ITO) - 1)]  # never yellow
        words = STRATEGY_WORDS.get(panel.strategy, panel.strategy.replace("_", " "))
        title = words + (f". {panel.figures}" if panel.figures else "")
        described.append(title)
        g = [fg.text(scale.left, top - 32, words, font_size=17, font_weight=600)]
        if panel.figures:
            g.append(fg.text(scale.left, top - 10, panel.figures, font_size=15, class_="figures"))
        box = {"left": scale.left, "right": scale.right, "top": top, "bottom": top + PANEL_H}
        g += fg.y_axis(y_of, y_of.ticks(), tick_label=_tick_label, font_size=14, **box)
        g.append(
            fg.line(x0, top, x0, top + PANEL_H, stroke=INK, stroke_width=1, stroke_dasharray="3 3")
        )
        bands = sorted(panel.bands, key=lambda b: b.day)
        if bands:
            last = history[-1].value if history else bands[0].q50
            pts = [Band(origin_day, *[last] * 7), *bands]
            for level, lo_q, hi_q in ((95, "q025", "q975"), (80, "q10", "q90"), (50, "q25", "q75")):
                upper = [(scale(b.day), y_of(getattr(b, hi_q))) for b in pts]
                lower = [(scale(b.day), y_of(getattr(b, lo_q))) for b in pts]
                shade = {"fill": colour, "fill_opacity": BAND_OPACITY[level]}
                words = fg.tip(f"{level}% predictive band")
                g.append(
                    fg.band(
                        upper, lower, words, class_=f"band band-{level}", data_level=level, **shade
                    )
                )
            median = [(scale(b.day), y_of(b.q50)) for b in pts]
            words = fg.tip("median forecast")
            g.append(fg.polyline(median, words, class_="median", stroke=colour, stroke_width=3))
            end = bands[-1]
            words = (
                f"day {end.day:.0f}: median {end.q50:.3g} {unit}, 95% "
                f"{end.q025:.3g} to {end.q975:.3g}"
            )
            # on the strategy's name line: the figures' line below runs long (overlapped)
            g.append(fg.text(scale.right, top - 32, words, text_anchor="end", font_size=14))
        if threshold is not None and panel.threshold:
            y = y_of(threshold)
            words = (
                f"PCWG3 progression threshold {threshold:.3g} {unit} (a rise on "
                "drug 25% and 2 ng/mL over the nadir, confirmed 3 weeks later)"
            )
            g.append(
                fg.line(x0, y, scale.right, y, fg.tip(words), class_="threshold", **THRESHOLD_LINE)
            )
        # history: a thin line and markers (open triangles: below the limit)
        if history:
            line = [(scale(h.day), y_of(h.value)) for h in history]
            g.append(fg.polyline(line, stroke=INK, stroke_width=1.2, stroke_opacity=0.6))
        for h in history:
            value = f"{h.value:.3g} {unit}"
            words = f"below the limit of quantification (< {value})" if h.censored else value
            look = {"title": f"day {h.day:.0f}: {words}", **(CENSORED if h.censored else READING)}
            cls = "reading censored" if h.censored else "reading"
            g.append(fg.marker(x=scale(h.day), y=y_of(h.value), class_=cls, **look))
        g += _strip(history, bands, origin_day, scale, top + PANEL_H + 6)
        parts.append(fg.el("g", "".join(g), class_="fan-panel", data_strategy=panel.strategy))
    parts.extend(_x_axis(scale, top0, axis_y))
    mid = top0 + (axis_y - top0) / 2
    label = f"{marker_name} ({unit}, log scale)"
    turn = f"rotate(-90 18 {fg.fmt(mid)})"
    parts.append(fg.text(18, mid, label, text_anchor="middle", font_size=17, transform=turn))
    blue = OKABE_ITO[0]
    shades = ((0, 14, 0.16), (14, 14, 0.28), (28, 16, 0.45))
    keys = [
        (
            "".join(
                fg.el("rect", x=x, y=-9, width=w, height=18, fill=blue, fill_opacity=o)
                for x, w, o in shades
            ),
            "95%, 80% and 50% predictive bands (lightest widest); line: median",
        ),
        (
            fg.marker(x=12, y=0, **READING) + fg.marker(x=32, y=0, **CENSORED),
            "reading; open triangle: below the limit of quantification (drawn at the limit)",
        ),
        (
            fg.el("rect", x=0, y=-5, width=44, height=10, fill=INK, fill_opacity=0.5),
            "strip under each panel: on drug (share of forecast paths)",
        ),
    ]
    if threshold is not None:
        words = "PCWG3 progression threshold (25% and 2 ng/mL over the nadir)"
        keys.append((fg.line(0, 0, 44, 0, **THRESHOLD_LINE), words))
    parts.append(
        fg.legend(keys, x=LEFT, y=legend_top, width=WIDTH - LEFT, columns=1, row=28, font_size=14)
    )
    desc = (
        f"{marker_name} readings so far and the forecast from day {origin_day:.0f} under "
        f"{len(panels)} strategies, one panel each, on a log scale: "
        + "; ".join(described)
        + ". Bands are the 50%, 80% and 95% predictive intervals around the median"
        + (
            " (the 50% band interpolated from the 80% band on the log scale)"
            if approximate_50
            else ""
        )
        + "."
    )
    title = f"Forecast of {marker_name} under each strategy"
    return _figure(ident, height, title, desc, "plot fan-chart", parts)


def _strip(
    history: list[History], bands: list[Band], origin_day: float, scale: DayScale, strip: float
) -> list[str]:
    """The strip under a panel: on drug in each interval (history 0/1, forecast share of paths)."""
    cells: list[tuple[float, float, float]] = []
    for a, b in zip(history, [*history[1:], None], strict=True):
        if a.on_treatment is not None:
            cells.append((a.day, b.day if b is not None else origin_day, float(a.on_treatment)))
    prev = origin_day
    for b in bands:
        if math.isfinite(b.share_on):
            cells.append((prev, b.day, b.share_on))
        prev = b.day
    row = {"y": strip, "height": STRIP_H}
    frame = {"fill": "none", "stroke": GRID, "stroke_width": 1}
    out = [fg.el("rect", x=scale.left, width=scale.right - scale.left, **row, **frame)]
    for d0, d1, share in cells:
        if d1 > d0 and share > 0:
            words = fg.tip(f"days {d0:.0f} to {d1:.0f}: on drug in {share:.0%} of paths")
            x, w = scale(d0), max(scale(d1) - scale(d0), 0.5)
            shade = {"fill": INK, "fill_opacity": f"{share * 0.8:.2f}"}
            out.append(fg.el("rect", words, class_="on-drug", x=x, width=w, **row, **shade))
    return out
