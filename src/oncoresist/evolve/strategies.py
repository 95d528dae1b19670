"""Therapy strategies that act only on what a clinic would see, and the loop that runs them.

A strategy decides, at each visit, the dose multiplier of every drug for the next interval
(0 = off, 1 = the nominal dose), from the burden *observed* at that visit: the true burden
(cells, or a normalised size) times log-normal measurement noise with a stated coefficient
of variation, as a ctDNA level or a PSA value would be. Strategies hold one state per
virtual patient, so a batch of patients runs vectorised.

Strategies (all thresholds are parameters, because a trial's clinical rule and the rule as
coded in its model often differ; e.g. Zhang et al. 2017 stop abiraterone at a 50 % fall of
PSA from baseline and resume at the baseline value):

* :class:`Continuous` (monotherapy, or a simultaneous combination when given several drugs);
* :class:`Sequential`: one regimen until progression (or a fixed day), then the next;
* :class:`Intermittent`: fixed on/off cycles;
* :class:`Adaptive`: stop below ``stop_fraction`` x the reference burden, resume above
  ``resume_fraction`` x it (Zhang et al. 2017; Strobl et al. 2021);
* :class:`DoseModulation`: raise the dose when the burden grows, lower it when it falls
  (Gatenby et al. 2009).

Progression (:class:`Progression`) is an observed burden above ``factor`` x the reference
(``nadir``, as RECIST's 20 % rise over the smallest burden; or ``baseline``), confirmed at
``confirm`` consecutive visits.

References
----------
Gatenby RA et al. Adaptive therapy. Cancer Res 2009 (PMID 19487300).
Zhang J et al. Integrating evolutionary dynamics into treatment of metastatic
castrate-resistant prostate cancer. Nat Commun 2017 (PMID 29180633).
Strobl MAR et al. Turnover modulates the need for a cost of resistance in adaptive therapy.
Cancer Res 2021;81:1135-1147.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from oncoresist.errors import InputError

Doses = dict[str, np.ndarray]


@dataclass(frozen=True)
class Progression:
    """When a patient counts as progressed.

    Parameters
    ----------
    factor : float
        Observed burden above ``factor`` x the reference (1.2: a 20 % rise).
    relative_to : {"nadir", "baseline"}
        The reference: the smallest burden observed so far on the current line, or the
        burden at the start.
    confirm : int
        Consecutive visits above the threshold needed.
    threshold : float, optional
        An absolute burden that counts as progression instead (e.g. the failure burden of
        a published model).
    """

    factor: float = 1.2
    relative_to: Literal["nadir", "baseline"] = "nadir"
    confirm: int = 1
    threshold: float | None = None

    def __post_init__(self) -> None:
        if self.factor <= 1:
            raise InputError("must be above 1", field="progression.factor")
        if self.confirm < 1:
            raise InputError("must be at least 1", field="progression.confirm")


class Strategy:
    """Base class: per-patient state, a dose decision per visit."""

    name = "strategy"

    def __init__(self, drugs: Sequence[str]) -> None:
        if not drugs:
            raise InputError("name at least one drug", field="drugs")
        self.drugs = list(drugs)

    def reset(self, n: int, baseline: np.ndarray) -> None:
        """Start ``n`` patients whose observed baseline burden is ``baseline``."""
        self.n = n
        self.baseline = np.asarray(baseline, dtype=float)

    def doses(self, day: float, observed: np.ndarray, progressed: np.ndarray) -> Doses:
        """Dose multiplier per drug for the next interval, shape ``(n,)`` each."""
        raise NotImplementedError

    def on_progression(self, hit: np.ndarray) -> np.ndarray:
        """Patients in ``hit`` that go on to another line instead of ending (none here)."""
        return np.zeros_like(hit)

    def all_drugs(self) -> list[str]:
        """Every drug the strategy may give."""
        return list(self.drugs)

    def _uniform(self, level: np.ndarray) -> Doses:
        return {d: level.copy() for d in self.drugs}


class Continuous(Strategy):
    """Every listed drug at ``dose`` x nominal, always (monotherapy or a combination)."""

    name = "continuous"

    def __init__(self, drugs: Sequence[str], *, dose: float = 1.0) -> None:
        super().__init__(drugs)
        self.dose = dose
        if len(self.drugs) > 1:
            self.name = "combination"

    def doses(self, day, observed, progressed):  # noqa: D102
        return self._uniform(np.full(self.n, self.dose))


class Intermittent(Strategy):
    """Fixed cycles: ``on_days`` on drug, then ``off_days`` off."""

    name = "intermittent"

    def __init__(self, drugs: Sequence[str], *, on_days: float, off_days: float) -> None:
        super().__init__(drugs)
        if on_days <= 0 or off_days < 0:
            raise InputError("on_days must be positive and off_days non-negative", field="cycle")
        self.on_days, self.off_days = on_days, off_days

    def doses(self, day, observed, progressed):  # noqa: D102
        on = (day % (self.on_days + self.off_days)) < self.on_days
        return self._uniform(np.full(self.n, 1.0 if on else 0.0))


class Adaptive(Strategy):
    """Adaptive therapy: pause below one fraction of the reference burden, resume above another.

    Treatment stops when the observed burden falls below ``stop_fraction`` x the reference
    and restarts when it is back above ``resume_fraction`` x the reference.

    Parameters
    ----------
    drugs : sequence of str
        Drugs given while on treatment.
    stop_fraction, resume_fraction : float
        Thresholds relative to the reference burden (Zhang et al. 2017: 0.5 and 1.0 in
        the trial; 0.4 and 1.0 of the PSA zenith in their simulation code).
    reference : float or array, optional
        The reference burden (one value, or one per patient), e.g. the PSA zenith at
        which treatment began; default the burden observed at the start.
    """

    name = "adaptive"

    def __init__(
        self,
        drugs: Sequence[str],
        *,
        stop_fraction: float = 0.5,
        resume_fraction: float = 1.0,
        reference: float | np.ndarray | None = None,
    ) -> None:
        super().__init__(drugs)
        if not 0 < stop_fraction < resume_fraction:
            raise InputError("need 0 < stop_fraction < resume_fraction", field="thresholds")
        if reference is not None and not np.all(np.asarray(reference, float) > 0):
            raise InputError("must be positive (burden units)", field="reference")
        self.stop_fraction, self.resume_fraction = stop_fraction, resume_fraction
        self.reference = reference

    def reset(self, n, baseline):  # noqa: D102
        super().reset(n, baseline)
        if self.reference is not None:
            self.baseline = np.broadcast_to(np.asarray(self.reference, float), (n,)).copy()
        self.on = np.ones(n, dtype=bool)

    def doses(self, day, observed, progressed):  # noqa: D102
        self.on = np.where(self.on, observed >= self.stop_fraction * self.baseline, self.on)
        self.on |= observed >= self.resume_fraction * self.baseline
        return self._uniform(self.on.astype(float))


class DoseModulation(Strategy):
    """Gatenby's dose modulation: change the dose by ``step`` when the burden moves.

    At each visit: burden up by more than ``tolerance`` since the last visit -> dose x
    (1 + step) (capped at ``max_dose``); down by more than ``tolerance`` -> dose x (1 -
    step); below ``holiday_fraction`` x baseline -> off until it returns above it.
    """

    name = "dose_modulation"

    def __init__(
        self,
        drugs: Sequence[str],
        *,
        step: float = 0.25,
        tolerance: float = 0.1,
        max_dose: float = 1.0,
        holiday_fraction: float = 0.0,
    ) -> None:
        super().__init__(drugs)
        if not 0 < step < 1:
            raise InputError("must lie in (0, 1)", field="step")
        self.step, self.tolerance = step, tolerance
        self.max_dose, self.holiday_fraction = max_dose, holiday_fraction

    def reset(self, n, baseline):  # noqa: D102
        super().reset(n, baseline)
        self.dose = np.full(n, self.max_dose)
        self.last = self.baseline.copy()

    def doses(self, day, observed, progressed):  # noqa: D102
        change = observed / np.maximum(self.last, 1e-300) - 1.0
        up, down = change > self.tolerance, change < -self.tolerance
        self.dose = np.where(up, np.minimum(self.dose * (1 + self.step), self.max_dose), self.dose)
        self.dose = np.where(down, self.dose * (1 - self.step), self.dose)
        self.last = observed.copy()
        holiday = observed < self.holiday_fraction * self.baseline
        return self._uniform(np.where(holiday, 0.0, self.dose))


class Sequential(Strategy):
    """Regimens in order, each until progression on it (or until ``switch_days``).

    Parameters
    ----------
    regimens : sequence of sequence of str
        Drug sets in order, e.g. ``[["erlotinib"], ["osimertinib"]]``.
    switch_days : sequence of float, optional
        Fixed switch days instead of switching at progression (one fewer than regimens).
    """

    name = "sequential"

    def __init__(
        self, regimens: Sequence[Sequence[str]], *, switch_days: Sequence[float] | None = None
    ) -> None:
        if len(regimens) < 2:
            raise InputError("a sequence needs at least two regimens", field="regimens")
        super().__init__([d for r in regimens for d in r])
        self.regimens = [list(r) for r in regimens]
        if switch_days is not None and len(switch_days) != len(regimens) - 1:
            raise InputError("give one switch day fewer than regimens", field="switch_days")
        self.switch_days = None if switch_days is None else list(switch_days)

    def all_drugs(self):  # noqa: D102
        return sorted(set(self.drugs))

    def reset(self, n, baseline):  # noqa: D102
        super().reset(n, baseline)
        self.line = np.zeros(n, dtype=np.int64)

    def on_progression(self, hit: np.ndarray) -> np.ndarray:
        """Progression on a line with a later one moves the patient to that line.

        With fixed ``switch_days`` progression ends the run instead.
        """
        if self.switch_days is not None:
            return np.zeros_like(hit)
        moving = hit & (self.line < len(self.regimens) - 1)
        self.line = np.where(moving, self.line + 1, self.line)
        return moving

    def doses(self, day, observed, progressed):  # noqa: D102
        if self.switch_days is not None:
            self.line = np.searchsorted(self.switch_days, day, side="right") * np.ones(
                self.n, dtype=np.int64
            )
        out = {d: np.zeros(self.n) for d in self.all_drugs()}
        for k, regimen in enumerate(self.regimens):
            for d in regimen:
                out[d] = np.where(self.line == k, 1.0, out[d])
        return out


def parse_strategy(text: str) -> Strategy:
    """A strategy from its short form (the command line's ``--strategy``).

    Forms: ``continuous:DRUG``, ``combination:A+B``, ``sequential:A>B>C`` (``+`` inside a
    line for a combination line), ``intermittent:DRUG@ON/OFF`` (days),
    ``adaptive:DRUG@STOP/RESUME`` (fractions of baseline; default 0.5/1.0) and
    ``dose-modulation:DRUG@STEP``.

    Raises
    ------
    InputError
        For an unknown kind or malformed parameters, naming the text.
    """
    kind, _, rest = text.partition(":")
    body, _, params = rest.partition("@")
    if not body:
        raise InputError(f"{text!r}: expected KIND:DRUGS, e.g. continuous:erlotinib",
                         field="strategy")  # fmt: skip
    try:
        nums = [float(v) for v in params.split("/")] if params else []
    except ValueError:
        raise InputError(
            f"{text!r}: parameters after @ must be numbers", field="strategy"
        ) from None
    drugs = [d for d in body.split("+") if d]
    if kind in ("continuous", "combination"):
        return Continuous(drugs)
    if kind == "sequential":
        return Sequential([[d for d in line.split("+") if d] for line in body.split(">")])
    if kind == "intermittent":
        if len(nums) != 2:
            raise InputError(f"{text!r}: expected intermittent:DRUG@ON/OFF (days)",
                             field="strategy")  # fmt: skip
        return Intermittent(drugs, on_days=nums[0], off_days=nums[1])
    if kind == "adaptive":
        stop, resume = (nums + [0.5, 1.0][len(nums) :])[:2]  # defaults: Zhang's rule
        return Adaptive(drugs, stop_fraction=stop, resume_fraction=resume)
    if kind == "dose-modulation":
        return DoseModulation(drugs, step=nums[0] if nums else 0.25)
    raise InputError(
        f"{text!r}: unknown strategy {kind!r}; expected continuous, combination, sequential, "
        "intermittent, adaptive or dose-modulation",
        field="strategy",
    )


@dataclass
class StrategyResult:
    """What a strategy run gives, per patient.

    Attributes
    ----------
    ttp_days : numpy.ndarray
        Day of (final) progression; ``inf`` if none by the end.
    progressed : numpy.ndarray of bool
        Event indicator (False: censored at ``t_end``).
    exposure : dict of str to numpy.ndarray
        Cumulative dose per drug up to progression (nominal-dose days).
    days_off : numpy.ndarray
        Days with every drug off, up to progression.
    trajectory : pandas.DataFrame
        Long table ``patient, day, clone, cells`` plus ``observed`` burden per visit (the
        ``clone`` column is ``"observed"`` for those rows). After its final progression a
        patient stays on the doses it had then (treatment beyond progression); nothing
        after that day enters the outcomes.
    """

    ttp_days: np.ndarray
    progressed: np.ndarray
    exposure: dict[str, np.ndarray]
    days_off: np.ndarray
    trajectory: pd.DataFrame = field(repr=False)


Advance = Callable[[np.ndarray, Doses, float, float, np.random.Generator], np.ndarray]


def run_strategy(
    strategy: Strategy,
    state: np.ndarray,
    advance: Advance,
    *,
    t_end: float,
    visit_days: float = 28.0,
    noise_cv: float = 0.0,
    floor: float = 0.0,
    progression: Progression | None = None,
    burden: Callable[[np.ndarray], np.ndarray] | None = None,
    clone_names: Sequence[str] | None = None,
    rng: np.random.Generator | int | None = None,
    record: bool = True,
) -> StrategyResult:
    """Run ``strategy`` on a batch of patients, deciding at each visit from observed burden.

    Parameters
    ----------
    strategy : Strategy
        The policy (reset here).
    state : numpy.ndarray
        Cells per clone, shape ``(patients, clones)``.
    advance : callable
        ``advance(state, doses, t0, t1, rng) -> state``: the model (exact engine or ODE)
        over ``[t0, t1]`` days with the dose multipliers given per drug and patient.
    t_end : float
        Days to run.
    visit_days : float
        Days between visits (and decisions).
    noise_cv : float
        Coefficient of variation of the burden measurement (log-normal; 0 = exact).
    floor : float
        Smallest burden a measurement can report (its limit of detection, in burden
        units): a tumour below it reads as ``floor``, so a nadir is never below it.
    progression : Progression, optional
        The progression rule (default: 20 % above the nadir). With :class:`Sequential`,
        progression on a line with a later line switches instead of ending.
    burden : callable, optional
        What a visit measures, from the state; default ``advance.burden`` when the model
        has one (a marker such as PSA), else the total cells.
    clone_names : sequence of str, optional
        Names for the trajectory table.
    rng : numpy.random.Generator or int, optional
        Measurement noise and engine randomness.
    record : bool
        Keep the trajectory table.

    Returns
    -------
    StrategyResult
    """
    if visit_days <= 0 or t_end <= 0:
        raise InputError("must be positive (days)", field="visit_days")
    rng = np.random.default_rng(rng)
    prog = progression or Progression()
    total = burden or getattr(advance, "burden", None) or (lambda s: s.sum(axis=1))
    state = np.asarray(state, dtype=float)
    n, k = state.shape
    names = list(clone_names) if clone_names is not None else [f"clone{i}" for i in range(k)]
    sigma = np.sqrt(np.log1p(noise_cv**2))

    def observe(s):
        true = total(s)
        if sigma > 0:
            true = true * rng.lognormal(-0.5 * sigma**2, sigma, n)
        return np.maximum(true, floor)

    seen = observe(state)
    strategy.reset(n, seen)
    ref = seen.copy()
    above = np.zeros(n, dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    ttp = np.full(n, np.inf)
    exposure = {d: np.zeros(n) for d in strategy.all_drugs()}
    days_off = np.zeros(n)
    frozen: Doses = {}
    rows = []
    day = 0.0
    while day < t_end - 1e-9:
        nxt = min(day + visit_days, t_end)
        doses = strategy.doses(day, seen, done)
        # after its final progression a patient no longer counts: it keeps the doses it had
        # then (steady PK, so no washout splits the engine's constant-rate steps)
        doses = {d: np.where(done, frozen.get(d, 0.0), v) for d, v in doses.items()}
        if record:
            rows.append((day, state.copy(), seen.copy()))
        state = advance(state, doses, day, nxt, rng)
        width = nxt - day
        for d, v in doses.items():
            exposure[d] += np.where(done, 0.0, v) * width
        off = np.all([v == 0 for v in doses.values()], axis=0)
        days_off += np.where(done, 0.0, off * width)
        day = nxt
        seen = observe(state)
        if prog.relative_to == "nadir":
            ref = np.minimum(ref, seen)
        over = seen > prog.factor * ref if prog.threshold is None else seen >= prog.threshold
        above = np.where(over & ~done, above + 1, 0)
        hit = (above >= prog.confirm) & ~done
        moving = strategy.on_progression(hit)
        ref = np.where(moving, seen, ref)  # a new line: a new nadir
        above = np.where(moving, 0, above)
        hit &= ~moving
        ttp = np.where(hit, day, ttp)
        frozen = {d: np.where(hit, v, frozen.get(d, 0.0)) for d, v in doses.items()}
        done |= hit
    if record:
        rows.append((day, state.copy(), seen.copy()))
    trajectory = _trajectory(rows, names) if record else pd.DataFrame()
    return StrategyResult(ttp, np.isfinite(ttp), exposure, days_off, trajectory)


def _trajectory(rows, names) -> pd.DataFrame:
    days = np.array([r[0] for r in rows])
    cells = np.stack([r[1] for r in rows])  # (visits, patients, clones)
    seen = np.stack([r[2] for r in rows])  # (visits, patients)
    v, n, k = cells.shape
    frame = pd.DataFrame(
        {
            "patient": np.tile(np.repeat(np.arange(n), k), v),
            "day": np.repeat(days, n * k),
            "clone": np.tile(np.asarray(names, dtype=object), v * n),
            "cells": cells.ravel(),
        }
    )
    obs = pd.DataFrame(
        {
            "patient": np.tile(np.arange(n), v),
            "day": np.repeat(days, n),
            "clone": "observed",
            "cells": seen.ravel(),
        }
    )
    return pd.concat([frame, obs], ignore_index=True)
