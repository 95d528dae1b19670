"""Words for the numbers a table or report cannot show as numbers.

A median time whose survival curve never falls to one half is *not reached*, not ``inf``;
the reference arm of a comparison has no hazard ratio of its own, it is the *reference*,
not ``1 (1-1)``; a quantity the data cannot determine is *not estimable*, not ``nan``; a
monitored variant that was not detected is *ND* with the draw's limit of detection
(``ND (< LoD 0.05 %)``), not a VAF of ``0.05 %`` or ``0.00 %``. The command line's tables
and the HTML reports format through these functions, so the words are the same everywhere.
"""

from __future__ import annotations

import math

NOT_REACHED = "not reached"
REFERENCE = "reference"
NOT_ESTIMABLE = "not estimable"
NOT_DETECTED = "ND"


def _float(value: object) -> float:
    """``value`` as a float; NaN for ``None``, ``pd.NA`` and text that is no number."""
    if value is None:
        return math.nan
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def number(
    value: object, spec: str = ".3g", *, infinite: str = NOT_REACHED, missing: str = NOT_ESTIMABLE
) -> str:
    """A number formatted with ``spec``, or a word where it is infinite or missing.

    Parameters
    ----------
    value : float or None
        The number.
    spec : str
        Format specification of a finite value (``".3g"``).
    infinite : str
        Word for +/- infinity (``"not reached"``: an infinite time is one never reached).
    missing : str
        Word for NaN or ``None`` (``"not estimable"``).

    Returns
    -------
    str
        ``format(value, spec)``, ``infinite`` or ``missing``.

    Examples
    --------
    >>> number(0.1234), number(float("inf")), number(float("nan"))
    ('0.123', 'not reached', 'not estimable')
    """
    x = _float(value)
    if math.isnan(x):
        return missing
    if math.isinf(x):
        return infinite
    return format(x, spec)


def days(value: object) -> str:
    """A time in whole days; ``"not reached"`` when infinite, ``"not estimable"`` when NaN."""
    return number(value, ".0f")


def interval(estimate: object, low: object, high: object, spec: str = ".0f") -> str:
    """An estimate with its confidence interval, e.g. ``"392 (364-420)"``.

    An infinite bound reads ``not reached`` (``"812 (756-not reached)"``); an infinite lower
    bound makes the whole estimate ``"not reached"``, and a missing estimate
    ``"not estimable"``.

    Examples
    --------
    >>> interval(392, 364, 420), interval(812, 756, float("inf"))
    ('392 (364-420)', '812 (756-not reached)')
    >>> interval(float("inf"), float("inf"), float("inf")), interval(float("nan"), 1, 2)
    ('not reached', 'not estimable')
    """
    x, lo = _float(estimate), _float(low)
    if math.isnan(x):
        return NOT_ESTIMABLE
    if math.isinf(lo) or math.isinf(x):
        return NOT_REACHED
    bounds = f"{number(low, spec)}-{number(high, spec)}"
    if math.isnan(lo) and math.isnan(_float(high)):
        return number(x, spec)
    return f"{number(x, spec)} ({bounds})"


def hazard_ratio(
    hr: object, low: object, high: object, *, reference: bool = False, spec: str = ".2f"
) -> str:
    """A hazard ratio with its interval, ``"reference"`` for the reference arm.

    The reference arm's own ratio (exactly 1 with a zero-width interval) is never shown as
    ``1 (1-1)``; a ratio the data cannot give (no events, separation) is ``not estimable``.

    Examples
    --------
    >>> hazard_ratio(0.45, 0.38, 0.53), hazard_ratio(1, 1, 1), hazard_ratio(float("nan"), 0, 1)
    ('0.45 (0.38-0.53)', 'reference', 'not estimable')
    """
    x, lo, hi = _float(hr), _float(low), _float(high)
    if reference or (x == 1.0 and lo == 1.0 and hi == 1.0):
        return REFERENCE
    if not math.isfinite(x) or x <= 0:
        return NOT_ESTIMABLE
    return interval(x, lo, hi, spec)


def percent(fraction: object, digits: int = 2) -> str:
    """A fraction as a percentage with ``digits`` decimals and a space: ``"0.57 %"``.

    Fractions too small to show with ``digits`` decimals keep two significant digits
    (``"0.0012 %"``) rather than reading ``"0.00 %"``.
    """
    x = _float(fraction)
    if not math.isfinite(x):
        return number(x)
    value = x * 100
    if value != 0 and abs(value) < 10**-digits:
        return f"{value:.2g} %"
    return f"{value:.{digits}f} %"


def below_lod(lod: object, digits: int = 2) -> str:
    """A value not detected, with the limit of detection it is below.

    Parameters
    ----------
    lod : float
        Limit of detection as a fraction (VAF 0.0005 reads ``0.05 %``).
    digits : int
        Decimals of the percentage.

    Returns
    -------
    str
        ``"ND (< LoD 0.05 %)"``; ``"ND (LoD not reached)"`` when no VAF would be detected
        (infinite LoD), ``"ND"`` when the LoD is unknown.

    Examples
    --------
    >>> below_lod(0.0005)
    'ND (< LoD 0.05 %)'
    """
    x = _float(lod)
    if math.isnan(x):
        return NOT_DETECTED
    if math.isinf(x):
        return f"{NOT_DETECTED} (LoD {NOT_REACHED})"
    return f"{NOT_DETECTED} (< LoD {percent(x, digits)})"


def call_value(vaf: object, lod: object, *, detected: bool, digits: int = 2) -> str:
    """A monitored call as a table shows it: the VAF when detected, else ND below the LoD.

    Parameters
    ----------
    vaf : float
        Observed variant allele fraction (alt / depth).
    lod : float
        The draw's limit of detection for the variant, as a VAF.
    detected : bool
        Whether the call is a detection.
    digits : int
        Decimals of the percentage.

    Returns
    -------
    str
        ``"5.86 %"`` for a detection; ``"ND (< LoD 0.22 %)"`` otherwise (one or two reads
        below the LoD are no measurement of the VAF).

    Examples
    --------
    >>> call_value(0.0586, 0.0022, detected=True), call_value(0.0003, 0.0022, detected=False)
    ('5.86 %', 'ND (< LoD 0.22 %)')
    """
    return percent(vaf, digits) if detected else below_lod(lod, digits)
