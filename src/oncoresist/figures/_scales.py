"""Scales from data to pixels, with round ticks: linear, log10 and days.

A scale maps a data interval onto a pixel interval (``range`` may run downwards, as a
y axis does) and proposes ticks at round values: 1, 2 or 5 times a power of ten for a
linear axis (Heckbert, "Nice numbers for graph labels", Graphics Gems 1990), whole
decades for a log axis, and calendar-like steps (weeks, months, years) for days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["DayScale", "LinearScale", "LogScale", "day_ticks", "nice_ticks"]


def nice_ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    """Round ticks covering [lo, hi]: steps of 1, 2 or 5 times a power of ten."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"ticks need finite limits, got {lo} and {hi}")
    if hi < lo:
        lo, hi = hi, lo
    span = hi - lo or abs(hi) or 1.0
    raw = span / max(target, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    # the round step whose number of intervals comes closest to the target
    step = min((m * power for m in (1, 2, 5, 10)), key=lambda st: abs(span / st - target))
    first = math.ceil(lo / step - 1e-9) * step
    out = []
    k = 0
    while first + k * step <= hi + step * 1e-9:
        out.append(round(first + k * step, 12))
        k += 1
    return out


def day_ticks(lo: float, hi: float, target: int = 8) -> list[int]:
    """Round day ticks covering [lo, hi]: weeks, months, quarters, years."""
    span = max(hi - lo, 1.0)
    steps = (7, 14, 28, 30, 60, 90, 120, 180, 365, 730, 1825)
    step = next((s for s in steps if span / s <= target), steps[-1])
    first = math.ceil(lo / step) * step
    return list(range(int(first), int(hi) + 1, step))


@dataclass(frozen=True)
class LinearScale:
    """``domain`` (data) to ``range`` (px) linearly; values outside are not clipped."""

    domain: tuple[float, float]
    range: tuple[float, float]

    def __call__(self, value: float | np.ndarray) -> float | np.ndarray:
        """The pixel position of ``value`` (a number or an array)."""
        (d0, d1), (r0, r1) = self.domain, self.range
        if d1 == d0:
            return (r0 + r1) / 2
        return r0 + (value - d0) / (d1 - d0) * (r1 - r0)

    def ticks(self, target: int = 6) -> list[float]:
        """Round values inside the domain."""
        lo, hi = sorted(self.domain)
        return nice_ticks(lo, hi, target)


@dataclass(frozen=True)
class LogScale:
    """``domain`` (positive data) to ``range`` (px) on log10; values are clipped to it."""

    domain: tuple[float, float]
    range: tuple[float, float]

    def __post_init__(self) -> None:
        if min(self.domain) <= 0:
            raise ValueError(f"a log scale needs a positive domain, got {self.domain}")

    def __call__(self, value: float | np.ndarray) -> float | np.ndarray:
        """The pixel position of ``value`` (clipped to the domain; <= 0 goes to its bottom).

        ``value`` may be a number or an array (then an array is returned).
        """
        lo, hi = sorted(self.domain)
        (d0, d1), (r0, r1) = self.domain, self.range
        a, b = math.log10(d0), math.log10(d1)
        if isinstance(value, np.ndarray):
            v = np.where(value > 0, np.clip(value, lo, hi), lo)
            return r0 + (np.log10(v) - a) / (b - a) * (r1 - r0)
        v = min(max(value, lo), hi) if value > 0 else lo
        return r0 + (math.log10(v) - a) / (b - a) * (r1 - r0)

    def ticks(self) -> list[float]:
        """Whole decades inside the domain."""
        lo, hi = sorted(self.domain)
        a, b = math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9)
        return [10.0**k for k in range(a, b + 1)]


@dataclass(frozen=True)
class DayScale:
    """Days (e.g. since the first therapy line) to x in a plot ``left``..``right`` px wide."""

    lo: float
    hi: float
    label: str = "Days since the start of the first therapy line"
    left: float = 96
    right: float = 976

    @classmethod
    def covering(cls, days: list[float], label: str | None = None) -> DayScale:
        """A scale covering ``days`` (and day 0) with a margin; ``label`` names the axis."""
        finite = [d for d in days if d == d] or [0.0]
        lo, hi = min([*finite, 0.0]), max([*finite, 1.0])
        pad = max((hi - lo) * 0.04, 3.0)
        return cls(lo - pad, hi + pad) if label is None else cls(lo - pad, hi + pad, label)

    def __call__(self, day: float | np.ndarray) -> float | np.ndarray:
        """The x coordinate of ``day`` (a number or an array)."""
        return self.left + (day - self.lo) / (self.hi - self.lo) * (self.right - self.left)

    def ticks(self, target: int = 8) -> list[int]:
        """Round day ticks inside the scale."""
        return day_ticks(self.lo, self.hi, target)
