"""The declarative evolutionary model: clones, mutations, drugs, competition (YAML + pydantic).

A model file (see ``oncoresist/evolve/examples/*.yaml``) holds:

* ``clones``: name, ``birth`` and ``death`` per day without drug, ``initial`` cells;
* ``mutations``: ``from``, ``to`` and ``rate`` per division (the probability that a
  division of ``from`` gives one daughter of type ``to``); Bozic's "n sites x rate per
  site" is written as ``sites`` and ``rate_per_site``;
* ``drugs``: per drug a ``pk`` block (``one_compartment``: ``dose_mg``, ``interval_days``,
  ``half_life_days``, ``absorption_per_day``, ``bioavailability``, ``volume_l``; or
  ``constant``: ``level`` mg/L, ``interval_days``) and ``effects`` per clone (``acts_on: birth``
  or ``death``, written ``acts_on`` as a bare ``on`` is a boolean in YAML, ``emax``,
  ``ic50`` mg/L, ``hill``);
* ``combination``: ``bliss`` (default) or ``hsa``;
* ``competition`` (optional): Lotka-Volterra carrying capacity (cells) and interaction
  matrix, for the deterministic competition models;
* ``detection_cells`` and ``references``.

Every rate is per day; every mutation rate per division.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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


class Competition(_Strict):
    """Lotka-Volterra competition: ``dx_i/dt = r_i x_i (1 - sum_j A_ij x_j / K_i)``."""

    carrying_capacity: list[float]
    matrix: list[list[float]]


class EvolutionModel(_Strict):
    """A validated model (see the module docstring for the file format)."""

    name: str = ""
    clones: list[Clone] = Field(min_length=1)
    mutations: list[Mutation] = []
    drugs: dict[str, Drug] = {}
    combination: Literal["bliss", "hsa"] = "bliss"
    competition: Competition | None = None
    detection_cells: float = Field(default=1e9, gt=0)
    references: list[str] = []

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
            n = len(names)
            comp = self.competition
            if len(comp.carrying_capacity) != n or np.shape(comp.matrix) != (n, n):
                raise ValueError(f"competition needs {n} capacities and a {n}x{n} matrix")
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
