"""The declarative evolutionary model: clones, mutations, drugs, competition (YAML + pydantic).

A model file (see ``oncoresist/evolve/examples/*.yaml``) holds:

* ``clones``: name, ``birth`` and ``death`` per day without drug, ``initial`` cells and
  ``initial_sd_log``, the spread of ``ln(initial)`` across the virtual patients of a
  cohort (``initial`` is then their median; default 0: every patient alike);
* ``mutations``: ``from``, ``to`` and ``rate`` per division (the probability that a
  division of ``from`` gives one daughter of type ``to``); Bozic's "n sites x rate per
  site" is written as ``sites`` and ``rate_per_site``;
* ``drugs``: per drug a ``pk`` block (``one_compartment``: ``dose_mg``, ``interval_days``,
  ``half_life_days``, ``absorption_per_day``, ``bioavailability``, ``volume_l``; or
  ``constant``: ``level`` mg/L, ``interval_days``) and ``effects`` per clone (``acts_on: birth``
  or ``death``, written ``acts_on`` as a bare ``on`` is a boolean in YAML, ``emax``,
  ``ic50`` mg/L, ``hill``);
* ``combination``: ``bliss`` (default) or ``hsa``;
* ``competition`` (optional): Lotka-Volterra carrying capacities (a size, or a share of
  another clone's size: ``{share: 1.5, of: TP}``), their values at each drug's full dose
  (``on_drug``), the interaction matrix, ``units`` and ``extinction_floor``; a model with
  this block runs as its ODE (:func:`~oncoresist.evolve.competition.lotka_volterra`) in
  every entry point;
* ``marker`` (optional, with competition): a serum marker made by the clones (PSA):
  ``production`` per clone per day, ``decay_per_day``, ``initial``; strategies then read
  the marker, not the burden;
* ``start`` (optional, with competition): untreated days, or untreated growth until the
  marker reaches ``until_marker`` (the observed zenith), before any strategy begins;
* ``detection_cells`` and ``references``;
* ``calibration`` (optional; one mapping or a list): the trial arms the model is
  calibrated to, each with ``strategy`` (as ``evolve compare -s`` writes it),
  ``median_days`` (the trial arm's median time to progression), ``trial`` (trial and arm),
  ``source`` (PMID or DOI), and ``progression`` (the ``evolve compare --progression`` rule,
  default ``nadir``; ``threshold`` in burden units for ``absolute``). With the command's
  other options at their defaults, the arm's Kaplan-Meier median should fall within 25 %
  of ``median_days`` (``tests/evolve/test_examples.py`` checks every bundled example).

Every rate is per day; every mutation rate per division.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from oncoresist._files import read_yaml
from oncoresist.errors import InputError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Clone(_Strict):
    """One cell type: rates per day without drug and the starting size (cells)."""

    name: str = Field(min_length=1)
    birth: float = Field(ge=0, description="divisions per cell per day")
    death: float = Field(ge=0, description="deaths per cell per day")
    initial: float = Field(default=0.0, ge=0, description="cells at time 0")
    initial_sd_log: float = Field(
        default=0.0,
        ge=0,
        description="between-patient spread: standard deviation of ln(initial) across "
        "virtual patients, whose median is `initial`",
    )


class Mutation(_Strict):
    """Per-division probability that a division of ``source`` yields a ``target`` daughter."""

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    rate: float | None = Field(default=None, ge=0, lt=1)
    sites: int | None = Field(default=None, ge=1)
    rate_per_site: float | None = Field(default=None, ge=0, lt=1)

    @model_validator(mode="after")
    def _one_rate(self) -> Mutation:
        if (self.rate is None) == (self.sites is None or self.rate_per_site is None):
            raise ValueError("give either rate, or sites and rate_per_site")
        return self

    @property
    def per_division(self) -> float:
        """Probability per division (``sites * rate_per_site`` when given by sites)."""
        if self.rate is not None:
            return self.rate
        return float(self.sites) * float(self.rate_per_site)


class PK(_Strict):
    """Pharmacokinetics of one drug (days, mg, litres, mg/L)."""

    kind: Literal["one_compartment", "constant"] = "one_compartment"
    dose_mg: float = Field(default=1.0, gt=0)
    interval_days: float = Field(default=1.0, gt=0)
    half_life_days: float = Field(default=1.0, gt=0)
    absorption_per_day: float = Field(default=24.0, gt=0)
    bioavailability: float = Field(default=1.0, gt=0, le=1)
    volume_l: float = Field(default=1.0, gt=0)
    level: float = Field(default=1.0, ge=0, description="mg/L while given (constant)")


class Effect(_Strict):
    """Emax/Hill effect of a drug on one clone's birth (fraction) or death (per day)."""

    clone: str
    acts_on: Literal["birth", "death"]
    emax: float = Field(ge=0)
    ic50: float = Field(gt=0, description="mg/L")
    hill: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _fraction(self) -> Effect:
        if self.acts_on == "birth" and self.emax > 1:
            raise ValueError("emax on birth is the fraction of divisions blocked: at most 1")
        return self


class Drug(_Strict):
    """A drug: its PK and its effects per clone."""

    pk: PK = PK()
    effects: list[Effect] = []


class SharedCapacity(_Strict):
    """A carrying capacity set by another clone: ``K = share x_of`` (T+ cells on TP's androgen)."""

    share: float = Field(ge=0)
    of: str = Field(min_length=1, description="the clone whose size sets the capacity")


CapacityEntry = Annotated[float, Field(ge=0)] | SharedCapacity


class Competition(_Strict):
    """Lotka-Volterra competition: ``dx_i/dt = b_i x_i (1 - sum_j A_ij x_j / K_i) - d_i x_i``.

    ``carrying_capacity`` per clone off drug (a size, or ``{share, of}``); ``on_drug``: per
    drug, every clone's capacity at the full dose (same kind per clone; linear in the dose
    between); ``units``: ``absolute`` (cells, extinction floor 1 cell) or ``normalised``
    (densities, floor 1e-9); ``extinction_floor`` overrides the floor.
    """

    carrying_capacity: list[CapacityEntry]
    on_drug: dict[str, list[CapacityEntry]] = {}
    matrix: list[list[float]]
    units: Literal["normalised", "absolute"] = "absolute"
    extinction_floor: float | None = Field(default=None, ge=0)

    @staticmethod
    def capacity_of(entry: float | SharedCapacity, index: dict[str, int]) -> float | tuple:
        """An entry as :class:`~oncoresist.evolve.competition.LotkaVolterra` takes it."""
        if isinstance(entry, SharedCapacity):
            return (entry.share, index[entry.of])
        return float(entry)


class Marker(_Strict):
    """A serum marker made by the clones (PSA): ``dm/dt = sum_i p_i x_i - decay m``."""

    name: str = Field(default="marker", min_length=1)
    production: list[float] = Field(description="made per unit of each clone per day")
    decay_per_day: float = Field(gt=0)
    initial: float | None = Field(default=None, ge=0, description="default: steady state")
    limit_of_detection: float = Field(
        default=0.0, ge=0, description="smallest value an assay reports (marker units)"
    )
    min_rise: float = Field(
        default=0.0, ge=0, description="PCWG3's absolute rise, marker units (PSA: 2 ng/mL)"
    )


class Start(_Strict):
    """Where strategies begin: after untreated days, or once untreated growth reaches a level.

    ``until_marker``: the marker (or the total burden without one) at which treatment
    starts, e.g. the observed PSA zenith of Zhang et al. 2017; ``max_days`` bounds the
    wait.
    """

    untreated_days: float = Field(default=0.0, ge=0)
    until_marker: float | None = Field(default=None, gt=0)
    max_days: float = Field(default=3650.0, gt=0)


class Calibration(_Strict):
    """A trial arm the model is calibrated to: the arm's strategy and the published median.

    ``oncoresist evolve compare MODEL -s STRATEGY --progression PROGRESSION`` (other options
    at their defaults) should give a Kaplan-Meier median time to progression near
    ``median_days``; ``trial`` names the trial and arm, ``source`` the publication.
    """

    strategy: str = Field(min_length=1, description="as evolve compare -s takes it")
    median_days: float = Field(gt=0, description="the trial arm's median, days")
    trial: str = Field(min_length=1)
    source: str = Field(min_length=1, description="PMID:... or DOI")
    progression: Literal["nadir", "baseline", "pcwg3", "absolute"] = "nadir"
    threshold: float | None = Field(default=None, gt=0, description="burden, for absolute")

    @model_validator(mode="after")
    def _threshold_with_absolute(self) -> Calibration:
        if (self.progression == "absolute") != (self.threshold is not None):
            raise ValueError("give a threshold with progression absolute, and only then")
        return self


class EvolutionModel(_Strict):
    """A validated model (see the module docstring for the file format)."""

    name: str = ""
    clones: list[Clone] = Field(min_length=1)
    mutations: list[Mutation] = []
    drugs: dict[str, Drug] = {}
    combination: Literal["bliss", "hsa"] = "bliss"
    competition: Competition | None = None
    marker: Marker | None = None
    start: Start | None = None
    detection_cells: float = Field(default=1e9, gt=0)
    references: list[str] = []
    calibration: list[Calibration] = []

    @model_validator(mode="after")
    def _consistent(self) -> EvolutionModel:
        names = [c.name for c in self.clones]
        if len(set(names)) != len(names):
            raise ValueError(f"clone names must be unique; got {names}")
        known = set(names)
        for m in self.mutations:
            for end in (m.source, m.target):
                if end not in known:
                    raise ValueError(f"mutation names unknown clone {end!r}; clones: {names}")
            if m.source == m.target:
                raise ValueError(f"mutation from {m.source!r} to itself")
        total = self.mutation_matrix().sum(axis=1)
        if np.any(total >= 1):
            raise ValueError("mutation probabilities out of one clone must sum to less than 1")
        for drug, d in self.drugs.items():
            for e in d.effects:
                if e.clone not in known:
                    raise ValueError(f"drug {drug!r} acts on unknown clone {e.clone!r}")
        if self.competition is not None:
            self._check_competition(names)
        if self.marker is not None and len(self.marker.production) != len(names):
            raise ValueError(f"marker.production needs one value per clone ({len(names)})")
        if (self.marker is not None or self.start is not None) and self.competition is None:
            raise ValueError("marker and start need a competition block (an ODE model)")
        return self

    def _check_competition(self, names: list[str]) -> None:
        n, comp = len(names), self.competition
        if len(comp.carrying_capacity) != n or np.shape(comp.matrix) != (n, n):
            raise ValueError(f"competition needs {n} capacities and a {n}x{n} matrix")
        for drug, caps in comp.on_drug.items():
            if drug not in self.drugs:
                raise ValueError(f"competition.on_drug names unknown drug {drug!r}")
            if len(caps) != n:
                raise ValueError(f"competition.on_drug.{drug} needs {n} capacities")
            for clone, off, on in zip(names, comp.carrying_capacity, caps, strict=True):
                if isinstance(off, SharedCapacity) != isinstance(on, SharedCapacity):
                    raise ValueError(
                        f"competition.on_drug.{drug}: {clone}'s capacity must be of the same "
                        "kind on and off drug (a size, or a share of a clone)"
                    )
        for clone, entry in zip(names, comp.carrying_capacity, strict=True):
            if isinstance(entry, SharedCapacity) and entry.of not in names:
                raise ValueError(f"{clone}'s capacity is a share of unknown clone {entry.of!r}")
            if isinstance(entry, SharedCapacity) and entry.of == clone:
                raise ValueError(f"{clone}'s capacity cannot be a share of itself")

    @field_validator("calibration", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _calibrated_arms_run(self) -> EvolutionModel:
        # imported here: strategies must stay free to import the model module
        from oncoresist.evolve.strategies import parse_strategy

        for i, cal in enumerate(self.calibration):
            try:
                drugs = parse_strategy(cal.strategy).all_drugs()
            except InputError as exc:
                raise ValueError(f"calibration {i}: {exc.message}") from None
            unknown = [d for d in drugs if d not in self.drugs]
            if unknown:
                raise ValueError(
                    f"calibration {i}: strategy {cal.strategy!r} names unknown drug "
                    f"{unknown[0]!r}; drugs: {sorted(self.drugs)}"
                )
        return self

    @property
    def clone_names(self) -> list[str]:
        """Clone names in model order."""
        return [c.name for c in self.clones]

    def mutation_matrix(self) -> np.ndarray:
        """``U[i, j]``: probability per division of ``i`` that a daughter is ``j``."""
        index = {c.name: i for i, c in enumerate(self.clones)}
        u = np.zeros((len(self.clones), len(self.clones)))
        for m in self.mutations:
            u[index[m.source], index[m.target]] += m.per_division
        return u

    def initial_sizes(self) -> np.ndarray:
        """Cells per clone at time 0."""
        return np.array([c.initial for c in self.clones])


def parse_model(data: object, *, source: str | Path | None = None) -> EvolutionModel:
    """Validate a model given as a mapping (e.g. parsed YAML).

    Raises
    ------
    InputError
        Naming the file and the offending key for every schema violation.
    """
    if not isinstance(data, dict):
        raise InputError("expected a mapping with clones, mutations, drugs", file=source)
    try:
        return EvolutionModel.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        raise InputError(msg, file=source, field=key or None) from None


def load_model(path: str | Path) -> EvolutionModel:
    """Read and validate a model YAML file.

    Parameters
    ----------
    path : str or Path
        The YAML file.

    Returns
    -------
    EvolutionModel

    Raises
    ------
    InputError
        Missing file, invalid YAML (with its line), or a schema violation (with its key).
    """
    path = Path(path)
    data = read_yaml(path, what="model file")
    return parse_model(data, source=path)


def example_path(name: str) -> Path:
    """Path of a bundled example model (``egfr_nsclc``, ``braf_mek_melanoma``, ``mcrpc``)."""
    path = Path(__file__).parent / "examples" / f"{name}.yaml"
    if not path.exists():
        avail = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise InputError(f"no example {name!r}; available: {avail}", field="example")
    return path
