"""Case files: a YAML document per patient (disease, alterations, phase, drugs, variants)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from oncoresist._files import read_yaml, yaml_line
from oncoresist.errors import InputError


class Case(BaseModel):
    """One case file.

    Attributes
    ----------
    disease
        Disease name, synonym or OncoTree code.
    alterations
        Alteration texts (``EGFR L858R``).
    phase
        ``[alteration, alteration, cis|trans]`` triples.
    drugs
        Drugs or combinations (``gefitinib + osimertinib``) to judge; all relevant if absent.
    variants
        A VCF, MAF or alteration table, relative to the case file.
    build
        Genome build of ``variants`` (GRCh37 or GRCh38) when it is a VCF without a header
        that says so.
    driver
        The primary driver gene, when it should not be inferred.
    """

    model_config = ConfigDict(extra="forbid")

    disease: str | None = None
    alterations: list[str] = []
    phase: list[list[str]] = []
    drugs: list[str] | None = None
    variants: str | None = None
    build: str | None = None
    driver: str | None = None
    description: str | None = None

    @field_validator("phase")
    @classmethod
    def _triples(cls, value: list[list[str]]) -> list[list[str]]:
        for i, item in enumerate(value, start=1):
            if len(item) != 3 or str(item[2]).lower() not in ("cis", "trans"):
                raise ValueError(f"entry {i} must be [alteration, alteration, cis|trans]")
        return value


def read_case(path: str | Path) -> Case:
    """Read and validate one case file; errors name the file and the key.

    Raises
    ------
    InputError
        For unreadable YAML, unknown keys or wrongly typed values.
    """
    path = Path(path)
    data = read_yaml(path, what="case file")
    if not isinstance(data, dict):
        raise InputError(
            "expected a mapping with keys disease, alterations, phase, drugs", file=path
        )
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        raise _case_error(exc, path) from None
    if not case.alterations and not case.variants:
        raise InputError("a case needs alterations or a variants file", file=path)
    return case


def _case_error(exc: ValidationError, path: Path) -> InputError:
    """The first schema error of a case file, with its line, in a user's words.

    An unknown key names the allowed ones and the closest (``drug`` -> ``drugs``), not
    pydantic's "Extra inputs are not permitted".
    """
    from oncoresist.kb._load import did_you_mean, suggest

    err = exc.errors()[0]
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc)
    line = yaml_line(path, loc)
    if err["type"] == "extra_forbidden":
        allowed = list(Case.model_fields)
        hint = did_you_mean(suggest(str(loc[-1]), {k: k for k in allowed}))
        message = f"unknown key {str(loc[-1])!r}{hint}; the allowed keys are {', '.join(allowed)}"
        others = [".".join(map(str, e["loc"])) for e in exc.errors()[1:]
                  if e["type"] == "extra_forbidden"]  # fmt: skip
        if others:
            message += f" (also unknown: {', '.join(others)})"
        return InputError(message, file=path, record=line, field=key)
    message = str(err["msg"]).removeprefix("Value error, ")
    return InputError(message, file=path, record=line, field=key or None)
