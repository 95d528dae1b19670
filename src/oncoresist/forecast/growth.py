"""Tumour growth and growth-inhibition models: size over time from the start of treatment.

Each model is a :class:`GrowthModel`: a closed-form curve ``size(t, theta)`` of time ``t``
(days from the start of treatment; negative for a baseline scan taken before it) and a
parameter vector ``theta`` on an **unconstrained** scale (logs of sizes and rates, an
unbounded shape), so that a Gaussian population prior and a Laplace posterior make sense
on it. Curves broadcast: ``theta`` of shape ``(..., k)`` and ``t`` of shape ``(..., m)``
give sizes of shape ``(..., m)``, so one call evaluates many patients (``theta`` ``(P, k)``,
``t`` ``(P, m)``) or many posterior draws of them (``theta`` ``(S, P, k)``). Sizes are in
the data's own units (mm3, mm, a normalised volume); rates are per day.

Every model also gives its ODE right-hand side (:meth:`GrowthModel.rhs`, on the natural
parameters) so that the closed forms can be checked against a numerical solution, and its
natural parameters (:meth:`GrowthModel.natural`).

Models (``MODELS``; :func:`get_model`):

========================  ===========================================================
``constant``              dV/dt = 0 (with the discrepancy process: a random walk)
``exponential``           dV/dt = r V
``logistic``              dV/dt = r V (1 - V / K)
``gompertz``              dV/dt = r V log(K / V)
``classical_bertalanffy`` dV/dt = a V^(2/3) - b V
``general_bertalanffy``   dV/dt = a V^lambda - b V  (Richards form, shape gamma = 1 - lambda)
``stein``                 V = V0 (exp(-d t) + exp(g t) - 1)
``claret``                dV/dt = k_g V - k_d exp(-lambda t) V
========================  ===========================================================

References
----------
Ghaffari Laleh N, Loeffler CML, Grajek J, et al. Classical mathematical models for
prediction of response to chemotherapy and immunotherapy. PLoS Comput Biol
2022;18:e1009822. doi:10.1371/journal.pcbi.1009822.

Benzekry S, Lamont C, Beheshti A, et al. Classical mathematical models for description and
prediction of experimental tumor growth. PLoS Comput Biol 2014;10:e1003800.
doi:10.1371/journal.pcbi.1003800.

Stein WD, Figg WD, Dahut W, et al. Tumor growth rates derived from data for patients in a
clinical trial correlate strongly with patient survival: a novel strategy for evaluation of
clinical trial data. Oncologist 2008;13:1046-1054. doi:10.1634/theoncologist.2008-0075.

Claret L, Girard P, Hoff PM, et al. Model-based prediction of phase III overall survival in
colorectal cancer on the basis of phase II tumor dynamics. J Clin Oncol 2009;27:4103-4108.
doi:10.1200/JCO.2008.21.0807.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from oncoresist.errors import InputError

# Exponents are clipped here: a sampled parameter set that would overflow gives a huge but
# finite size rather than inf/nan (the likelihood then rejects it).
_EXP_MAX = 60.0
_TINY = 1e-300


def _exp(x: np.ndarray) -> np.ndarray:
    return np.exp(np.clip(x, -_EXP_MAX * 10, _EXP_MAX))


def _col(theta: np.ndarray, j: int) -> np.ndarray:
    """Parameter ``j`` of ``theta`` ``(..., k)`` shaped to broadcast against ``t (..., m)``."""
    return theta[..., j, None]


# ----------------------------------------------------------------------------- curves
def _constant(t: np.ndarray, th: np.ndarray) -> np.ndarray:
    return _exp(_col(th, 0) + 0.0 * t)


def _exponential(t: np.ndarray, th: np.ndarray) -> np.ndarray:
    return _exp(_col(th, 0) + _col(th, 1) * t)


def _richards(
    t: np.ndarray, log_v0: np.ndarray, log_k: np.ndarray, rate: np.ndarray, gamma: np.ndarray
) -> np.ndarray:
    """Solution of the general Bertalanffy / Richards family in Box-Cox form.

    With ``B(x) = (x^gamma - 1) / gamma`` (``log x`` at ``gamma = 0``) the solution is
    ``B(V) = B(K) + (B(V0) - B(K)) exp(-rate t)``; ``gamma`` near 0 is evaluated through
    ``expm1``/``log1p`` so that the Gompertz limit is continuous.
    """
    small = np.abs(gamma) < 1e-8
    g = np.where(small, 1.0, gamma)
    # log V = log1p(gamma B(V)) / gamma, with gamma B(x) = expm1(gamma log x)
    gb_k = np.expm1(np.clip(g * log_k, -_EXP_MAX, _EXP_MAX))
    gb_0 = np.expm1(np.clip(g * log_v0, -_EXP_MAX, _EXP_MAX))
    decay = _exp(-rate * t)
    gb_t = gb_k + (gb_0 - gb_k) * decay
    log_v = np.log(np.maximum(1.0 + gb_t, _TINY)) / g
    log_v_gompertz = log_k + (log_v0 - log_k) * decay
    return _exp(np.where(small, log_v_gompertz, log_v))


def _logistic(t: np.ndarray, th: np.ndarray) -> np.ndarray:
    return _richards(t, _col(th, 0), _col(th, 1), _exp(_col(th, 2)), -1.0)


def _gompertz(t: np.ndarray, th: np.ndarray) -> np.ndarray:
    return _richards(t, _col(th, 0), _col(th, 1), _exp(_col(th, 2)), 0.0)


def _classical_bertalanffy(t: np.ndarray, th: np.ndarray) -> np.ndarray:
    return _richards(t, _col(th, 0), _col(th, 1), _exp(_col(th, 2)), 1.0 / 3.0)


def _general_bertalanffy(t: np.ndarray, th: np.ndarray) -> np.ndarray:
    return _richards(t, _col(th, 0), _col(th, 1), _exp(_col(th, 2)), _col(th, 3))


def _stein(t: np.ndarray, th: np.ndarray) -> np.ndarray:
    d, g = _exp(_col(th, 1)), _exp(_col(th, 2))
    shape = _exp(-d * t) + np.expm1(np.clip(g * t, -_EXP_MAX, _EXP_MAX))
    return _exp(_col(th, 0)) * np.maximum(shape, _TINY)


def _claret(t: np.ndarray, th: np.ndarray) -> np.ndarray:
    kg, kd, lam = _exp(_col(th, 1)), _exp(_col(th, 2)), _exp(_col(th, 3))
    # integral of k_d exp(-lambda s) over [0, t] = (k_d / lambda)(1 - exp(-lambda t))
    kill = kd * -np.expm1(np.clip(-lam * t, -_EXP_MAX, _EXP_MAX)) / lam
    return _exp(_col(th, 0) + kg * t - kill)


# ----------------------------------------------------------------------- ODE right-hand sides
def _rhs_richards(v: np.ndarray, k: float, rate: float, gamma: float) -> np.ndarray:
    # d B(V)/dt = -rate (B(V) - B(K)) with dB/dV = V^(gamma - 1)
    if abs(gamma) < 1e-12:
        return -rate * v * (np.log(v) - np.log(k))
    return -rate * v ** (1.0 - gamma) * ((v**gamma - k**gamma) / gamma)


@dataclass(frozen=True)
class GrowthModel:
    """A tumour-size curve with unconstrained parameters, its ODE and its references.

    Parameters
    ----------
    name : str
        Registry name (``MODELS[name]``).
    param_names : tuple of str
        Names of the unconstrained parameters, in order (``log_v0`` is the log of the size at
        ``t = 0`` in data units; ``log_*`` rates are logs of per-day rates).
    curve : callable
        ``curve(t, theta) -> size``, broadcasting as described in the module docstring.
    equation : str
        The equation in words.
    reference : str
        Where the model comes from.
    lower, upper : tuple of float
        Box on the unconstrained scale that fits stay inside (``log_v0`` is shifted by the
        data's log-scale at fit time; see :meth:`bounds`).
    rhs_natural : callable
        ``rhs_natural(t, v, natural) -> dV/dt`` with the natural parameters of
        :meth:`natural` (``v0`` excluded), for checking the closed form.

    Examples
    --------
    >>> import numpy as np
    >>> m = get_model("gompertz")
    >>> theta = np.array([np.log(100.0), np.log(400.0), np.log(0.01)])
    >>> round(float(m(np.array([0.0]), theta)[0]), 6)
    100.0
    """

    name: str
    param_names: tuple[str, ...]
    curve: Callable[[np.ndarray, np.ndarray], np.ndarray] = field(repr=False)
    equation: str = ""
    reference: str = ""
    lower: tuple[float, ...] = ()
    upper: tuple[float, ...] = ()
    rhs_natural: Callable[[float, np.ndarray, dict[str, float]], np.ndarray] | None = field(
        default=None, repr=False
    )

    @property
    def n_params(self) -> int:
        """Number of parameters ``k``."""
        return len(self.param_names)

    def __call__(self, t: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Size at days ``t`` for unconstrained parameters ``theta`` (broadcasting)."""
        theta = np.asarray(theta, dtype=float)
        if theta.shape[-1] != self.n_params:
            raise InputError(
                f"{self.name} takes {self.n_params} parameters {self.param_names}; "
                f"got an array with last axis {theta.shape[-1]}",
                field="theta",
            )
        return self.curve(np.asarray(t, dtype=float), theta)

    def natural(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """Natural parameters (sizes in data units, rates per day) of ``theta`` ``(..., k)``."""
        theta = np.asarray(theta, dtype=float)
        out: dict[str, np.ndarray] = {}
        for j, name in enumerate(self.param_names):
            value = theta[..., j]
            if name.startswith("log_"):
                out[name[4:]] = np.exp(value)
            else:
                out[name] = value
        return out

    def bounds(self, log_scale: float = 0.0) -> np.ndarray:
        """``(k, 2)`` box on the unconstrained scale; size parameters shifted by ``log_scale``.

        Parameters
        ----------
        log_scale : float
            Log of a typical size of the data (sizes are in data units, so the box for
            ``log_v0`` and ``log_k`` moves with them).
        """
        box = np.array([self.lower, self.upper], dtype=float).T
        for j, name in enumerate(self.param_names):
            if name in ("log_v0", "log_k"):
                box[j] += log_scale
        return box

    def initial_guess(self, t: np.ndarray, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """A starting point ``(P, k)`` for series ``t``, ``y`` (``(P, m)``, days and sizes).

        Parameters
        ----------
        t, y : ndarray, shape (P, m)
            Days and sizes, padded; ``mask`` marks the real readings.
        mask : ndarray of bool, shape (P, m)

        Returns
        -------
        ndarray, shape (P, k)
            ``log_v0`` from the first reading (floored at a tenth of the series' largest
            positive reading), ``log_k`` from twice the largest, rates of 0.01 per day
            (exponential: the least-squares slope of log size), ``gamma`` 1/3.
        """
        t = np.asarray(t, dtype=float)
        y = np.asarray(y, dtype=float)
        mask = np.asarray(mask, dtype=bool)
        ymax = np.max(np.where(mask, y, 0.0), axis=1)
        floor = np.where(ymax > 0, ymax / 10.0, 1.0)
        first = np.argmax(mask, axis=1)
        y0 = np.maximum(y[np.arange(len(y)), first], floor)
        logy = np.log(np.maximum(y, floor[:, None]))
        n = mask.sum(axis=1)
        tm = np.where(mask, t, 0.0).sum(axis=1) / np.maximum(n, 1)
        lm = np.where(mask, logy, 0.0).sum(axis=1) / np.maximum(n, 1)
        dt = np.where(mask, t - tm[:, None], 0.0)
        slope = (dt * np.where(mask, logy - lm[:, None], 0.0)).sum(axis=1) / np.maximum(
            (dt**2).sum(axis=1), 1e-12
        )
        start = {
            "log_v0": np.log(y0),
            "log_k": np.log(2.0 * np.maximum(ymax, floor)),
            "rate": np.clip(slope, -0.05, 0.05),
            "gamma": np.full(len(y), 1.0 / 3.0),
        }
        cols = [start.get(p, np.full(len(y), np.log(0.01))) for p in self.param_names]
        return np.column_stack(cols)

    def rhs(self, t: float, v: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """ODE right-hand side dV/dt at day ``t`` for one parameter vector ``theta`` ``(k,)``."""
        if self.rhs_natural is None:  # pragma: no cover - every bundled model has one
            raise NotImplementedError(f"{self.name} has no ODE form")
        nat = {k: float(v_) for k, v_ in self.natural(np.asarray(theta, dtype=float)).items()}
        return self.rhs_natural(t, v, nat)


_BOX_RATE = (-12.0, 0.0)  # log of a per-day rate: 6e-6 to 1 per day

MODELS: dict[str, GrowthModel] = {
    m.name: m
    for m in (
        GrowthModel(
            "constant",
            ("log_v0",),
            _constant,
            "V(t) = V0: no growth; with the discrepancy process of the population fit it is "
            "a random walk, the model form of carrying the last value forward",
            "persistence baseline",
            lower=(-12.0,),
            upper=(12.0,),
            rhs_natural=lambda t, v, p: 0.0 * v,
        ),
        GrowthModel(
            "exponential",
            ("log_v0", "rate"),
            _exponential,
            "V(t) = V0 exp(r t); r < 0 is shrinkage",
            "Benzekry et al. 2014 (doi:10.1371/journal.pcbi.1003800)",
            lower=(-12.0, -0.2),
            upper=(12.0, 0.2),
            rhs_natural=lambda t, v, p: p["rate"] * v,
        ),
        GrowthModel(
            "logistic",
            ("log_v0", "log_k", "log_rate"),
            _logistic,
            "dV/dt = r V (1 - V/K); V = K V0 / (V0 + (K - V0) exp(-r t))",
            "Benzekry et al. 2014; Laleh et al. 2022",
            lower=(-12.0, -14.0, _BOX_RATE[0]),
            upper=(12.0, 14.0, _BOX_RATE[1]),
            rhs_natural=lambda t, v, p: p["rate"] * v * (1.0 - v / p["k"]),
        ),
        GrowthModel(
            "gompertz",
            ("log_v0", "log_k", "log_rate"),
            _gompertz,
            "dV/dt = r V log(K/V); V = K exp(log(V0/K) exp(-r t))",
            "Benzekry et al. 2014; Laleh et al. 2022",
            lower=(-12.0, -14.0, _BOX_RATE[0]),
            upper=(12.0, 14.0, _BOX_RATE[1]),
            rhs_natural=lambda t, v, p: _rhs_richards(v, p["k"], p["rate"], 0.0),
        ),
        GrowthModel(
            "classical_bertalanffy",
            ("log_v0", "log_k", "log_rate"),
            _classical_bertalanffy,
            "dV/dt = a V^(2/3) - b V; V^(1/3) = K^(1/3) + (V0^(1/3) - K^(1/3)) exp(-r t), "
            "K^(1/3) = a/b, r = b/3",
            "von Bertalanffy 1957; Laleh et al. 2022",
            lower=(-12.0, -14.0, _BOX_RATE[0]),
            upper=(12.0, 14.0, _BOX_RATE[1]),
            rhs_natural=lambda t, v, p: _rhs_richards(v, p["k"], p["rate"], 1.0 / 3.0),
        ),
        GrowthModel(
            "general_bertalanffy",
            ("log_v0", "log_k", "log_rate", "gamma"),
            _general_bertalanffy,
            "dV/dt = a V^lambda - b V with gamma = 1 - lambda, K^gamma = a/b, r = gamma b: "
            "B(V) = B(K) + (B(V0) - B(K)) exp(-r t), B(x) = (x^gamma - 1)/gamma; gamma = 0 "
            "is Gompertz, 1/3 classical Bertalanffy, -1 logistic",
            "Laleh et al. 2022 (General Bertalanffy); Richards 1959",
            lower=(-12.0, -14.0, _BOX_RATE[0], -2.0),
            upper=(12.0, 14.0, _BOX_RATE[1], 2.0),
            rhs_natural=lambda t, v, p: _rhs_richards(v, p["k"], p["rate"], p["gamma"]),
        ),
        GrowthModel(
            "stein",
            ("log_v0", "log_decay", "log_growth"),
            _stein,
            "V = V0 (exp(-d t) + exp(g t) - 1): a shrinking sensitive and a growing "
            "resistant fraction",
            "Stein et al. 2008 (doi:10.1634/theoncologist.2008-0075)",
            lower=(-12.0, _BOX_RATE[0], _BOX_RATE[0]),
            upper=(12.0, _BOX_RATE[1], _BOX_RATE[1]),
            rhs_natural=lambda t, v, p: (
                p["v0"]
                * (-p["decay"] * np.exp(-p["decay"] * t) + p["growth"] * np.exp(p["growth"] * t))
            ),
        ),
        GrowthModel(
            "claret",
            ("log_v0", "log_kg", "log_kd", "log_lambda"),
            _claret,
            "dV/dt = k_g V - k_d exp(-lambda t) V; "
            "V = V0 exp(k_g t - (k_d/lambda)(1 - exp(-lambda t)))",
            "Claret et al. 2009 (doi:10.1200/JCO.2008.21.0807)",
            lower=(-12.0, _BOX_RATE[0], _BOX_RATE[0], _BOX_RATE[0]),
            upper=(12.0, _BOX_RATE[1], _BOX_RATE[1], _BOX_RATE[1]),
            rhs_natural=lambda t, v, p: (p["kg"] - p["kd"] * np.exp(-p["lambda"] * t)) * v,
        ),
    )
}


def get_model(model: str | GrowthModel) -> GrowthModel:
    """The :class:`GrowthModel` called ``model`` (a model passes through).

    Raises
    ------
    InputError
        For a name not in :data:`MODELS`, listing the known ones.
    """
    if isinstance(model, GrowthModel):
        return model
    try:
        return MODELS[model]
    except KeyError:
        raise InputError(
            f"unknown growth model {model!r}; expected one of {', '.join(MODELS)}",
            field="model",
        ) from None


# ------------------------------------------------------------------ treatment-effect variants
# Growth-inhibition models whose drug effect follows a schedule. They are functions of the
# days since the first reading ``t`` and of the cumulative days on treatment ``e``
# (:func:`exposure_days`), so a schedule enters as a covariate and the curves stay closed
# forms (no ODE solver in the fitting loop). Kept apart from :data:`MODELS`, whose curves
# take ``t`` only.
def exposure_days(t: np.ndarray, change_days: np.ndarray, status: np.ndarray) -> np.ndarray:
    """Cumulative days on treatment from ``change_days[0]`` to each day ``t``.

    Parameters
    ----------
    t : ndarray
        Days (same origin as ``change_days``).
    change_days : ndarray, shape (n,)
        Increasing days at which the status is set (e.g. each reading's day).
    status : ndarray of {0, 1}, shape (n,)
        Treatment from each change day until the next (the last one holds on).

    Returns
    -------
    ndarray, shape of ``t``
        Days on treatment in ``[change_days[0], t]`` (0 before ``change_days[0]``).

    Examples
    --------
    >>> exposure_days(np.array([10.0, 30.0, 50.0]), np.array([0.0, 20.0, 40.0]),
    ...               np.array([1, 0, 1]))
    array([10., 20., 30.])
    """
    t = np.asarray(t, dtype=float)
    c = np.asarray(change_days, dtype=float)
    u = np.asarray(status, dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(np.diff(c) * u[:-1])])
    k = np.clip(np.searchsorted(c, t, side="right") - 1, 0, len(c) - 1)
    return np.where(t < c[0], 0.0, cum[k] + u[k] * np.maximum(t - c[k], 0.0))


def _log_expit(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def _stein_onoff(t: np.ndarray, e: np.ndarray, th: np.ndarray) -> np.ndarray:
    lv0, d, g = _col(th, 0), _exp(_col(th, 2)), _exp(_col(th, 3))
    log_s = lv0 + _log_expit(-_col(th, 1)) - d * e + g * (t - e)
    log_r = lv0 + _log_expit(_col(th, 1)) + g * t
    return np.logaddexp(log_s, log_r)


def _claret_onoff(t: np.ndarray, e: np.ndarray, th: np.ndarray) -> np.ndarray:
    kg, kd, lam = _exp(_col(th, 1)), _exp(_col(th, 2)), _exp(_col(th, 3))
    kill = kd * -np.expm1(np.clip(-lam * e, -_EXP_MAX, _EXP_MAX)) / lam
    return _col(th, 0) + kg * t - kill


def _rhs_stein_onoff(t: float, x: np.ndarray, u: float, p: dict[str, float]) -> np.ndarray:
    s, r = x
    return np.array([(-p["decay"] * u + p["growth"] * (1.0 - u)) * s, p["growth"] * r])


def _rhs_claret_onoff(t: float, x: np.ndarray, u: float, p: dict[str, float]) -> np.ndarray:
    v, e = x
    return np.array([(p["kg"] - p["kd"] * np.exp(-p["lambda"] * e) * u) * v, u])


@dataclass(frozen=True)
class ExposureModel:
    """A growth-inhibition curve driven by a treatment schedule (closed form).

    ``log_curve(t, e, theta)`` is the log size at ``t`` days since the first reading after
    ``e`` cumulative days on treatment (:func:`exposure_days`); it broadcasts like
    :class:`GrowthModel` (``theta`` ``(..., k)``, ``t`` and ``e`` ``(..., m)``).

    Parameters
    ----------
    name, param_names, equation, reference, lower, upper
        As in :class:`GrowthModel` (``log_v0`` is the log size at ``t = 0``; its box is
        shifted by :meth:`bounds`'s ``log_scale``).
    log_curve : callable
        ``log_curve(t, e, theta) -> log size``.
    start : tuple of float
        A default unconstrained starting point (``log_v0`` relative to the first reading).
    ode : callable
        ``ode(t, state, u, natural) -> d state/dt`` with ``u`` the treatment (0/1) and the
        natural parameters of :meth:`natural`; ``state0(v0, natural)`` gives its start and
        ``size(state)`` the size, for checking the closed form.

    Examples
    --------
    >>> m = EXPOSURE_MODELS["claret_onoff"]
    >>> th = np.array([np.log(50.0), np.log(0.002), np.log(0.02), np.log(0.01)])
    >>> bool(m(np.array([100.0]), np.array([100.0]), th)[0] < 50.0)
    True
    """

    name: str
    param_names: tuple[str, ...]
    log_curve: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] = field(repr=False)
    equation: str = ""
    reference: str = ""
    lower: tuple[float, ...] = ()
    upper: tuple[float, ...] = ()
    start: tuple[float, ...] = ()
    ode: Callable[..., np.ndarray] | None = field(default=None, repr=False)
    state0: Callable[[float, dict[str, float]], np.ndarray] | None = field(default=None, repr=False)
    size: Callable[[np.ndarray], float] | None = field(default=None, repr=False)

    @property
    def n_params(self) -> int:
        """Number of parameters ``k``."""
        return len(self.param_names)

    def __call__(self, t: np.ndarray, e: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Size at days ``t`` after ``e`` days on treatment (broadcasting)."""
        theta = np.asarray(theta, dtype=float)
        if theta.shape[-1] != self.n_params:
            raise InputError(
                f"{self.name} takes {self.n_params} parameters {self.param_names}; "
                f"got an array with last axis {theta.shape[-1]}",
                field="theta",
            )
        t = np.asarray(t, dtype=float)
        return _exp(self.log_curve(t, np.asarray(e, dtype=float), theta))

    def natural(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """Natural parameters (``logit_*`` as fractions, ``log_*`` exponentiated)."""
        theta = np.asarray(theta, dtype=float)
        out: dict[str, np.ndarray] = {}
        for j, name in enumerate(self.param_names):
            value = theta[..., j]
            if name.startswith("log_"):
                out[name[4:]] = np.exp(value)
            elif name.startswith("logit_"):
                out[name[6:]] = 1.0 / (1.0 + np.exp(-value))
            else:
                out[name] = value
        return out

    def bounds(self, log_scale: float = 0.0) -> np.ndarray:
        """``(k, 2)`` box on the unconstrained scale; ``log_v0`` shifted by ``log_scale``."""
        box = np.array([self.lower, self.upper], dtype=float).T
        box[self.param_names.index("log_v0")] += log_scale
        return box


EXPOSURE_MODELS: dict[str, ExposureModel] = {
    m.name: m
    for m in (
        ExposureModel(
            "stein_onoff",
            ("log_v0", "logit_resistant", "log_decay", "log_growth"),
            _stein_onoff,
            "V = S + R; dS/dt = (-d u(t) + g (1 - u(t))) S, dR/dt = g R, R0 = f V0: "
            "V = V0 ((1 - f) exp(-d E(t) + g (t - E(t))) + f exp(g t)), E(t) = days on "
            "drug; off treatment the sensitive cells regrow at the resistant cells' rate g",
            "Stein et al. 2008 (doi:10.1634/theoncologist.2008-0075), with the drug effect "
            "switched by the schedule",
            lower=(-3.0, -12.0, _BOX_RATE[0], _BOX_RATE[0]),
            upper=(3.0, 8.0, _BOX_RATE[1], np.log(0.1)),
            start=(0.0, -2.0, np.log(0.01), np.log(0.002)),
            ode=_rhs_stein_onoff,
            state0=lambda v0, p: np.array([v0 * (1.0 - p["resistant"]), v0 * p["resistant"]]),
            size=lambda x: float(x[0] + x[1]),
        ),
        ExposureModel(
            "claret_onoff",
            ("log_v0", "log_kg", "log_kd", "log_lambda"),
            _claret_onoff,
            "dV/dt = k_g V - k_d exp(-lambda E(t)) u(t) V: the kill wanes with the days on "
            "drug E(t) (resistance) and stops off treatment; V = V0 exp(k_g t - (k_d / "
            "lambda)(1 - exp(-lambda E(t))))",
            "Claret et al. 2009 (doi:10.1200/JCO.2008.21.0807), resistance driven by "
            "exposure rather than time",
            lower=(-3.0, _BOX_RATE[0], _BOX_RATE[0], _BOX_RATE[0]),
            upper=(3.0, np.log(0.1), _BOX_RATE[1], _BOX_RATE[1]),
            start=(0.0, np.log(0.002), np.log(0.01), np.log(0.005)),
            ode=_rhs_claret_onoff,
            state0=lambda v0, p: np.array([v0, 0.0]),
            size=lambda x: float(x[0]),
        ),
    )
}


def get_exposure_model(model: str | ExposureModel) -> ExposureModel:
    """The :class:`ExposureModel` called ``model`` (a model passes through).

    Raises
    ------
    InputError
        For a name not in :data:`EXPOSURE_MODELS`.
    """
    if isinstance(model, ExposureModel):
        return model
    try:
        return EXPOSURE_MODELS[model]
    except KeyError:
        raise InputError(
            f"unknown treatment-effect model {model!r}; expected one of "
            f"{', '.join(EXPOSURE_MODELS)}",
            field="model",
        ) from None
