"""The resistance a drug pair is meant to prevent: knowledge-base mechanisms and Bozic 2013.

A synergy score says how two drugs act together on the cells of a plate; it says nothing
about the resistant cells a combination is given to outlast. :func:`resistance_link` puts
the evolutionary rationale beside the score:

* **Mechanisms.** Every knowledge-base assertion that makes a tumour resistant (or respond
  less) to drug A, with what the knowledge base says of drug B (or of the pair A + B) for
  the same alteration: *answered* (B, or A + B, is listed as active against it), *shared*
  (B, or A + B, is also affected: the mechanism escapes the combination) or *not known*.
  And the same for drug B. Each row cites its assertions (PMIDs, DOIs, labels).
* **Pre-existing resistance.** Eq. 1 of Bozic et al. 2013 (PMID 23805382), through
  :func:`oncoresist.evolve.analytic.eradication_factors`: a lesion grows from one cell to
  ``M`` cells; ``n`` point mutations make a cell resistant to a drug. Resistance to drug A
  alone pre-exists (a surviving resistant lineage present at the start of treatment) with
  probability ``1 - p1_up``, ``p1_up = exp(-M u n)``; resistance to the pair needs one
  cross-resistance mutation (``n12`` sites) or two (one per drug), so it pre-exists with
  probability ``1 - p1_up p2_up``: far smaller unless cross-resistance sites exist. The
  knowledge base sets ``n12``: each mechanism that the pair shares (it escapes both drugs,
  or the knowledge base says it escapes the pair) counts
  :attr:`EvolutionParams.sites_per_shared_mechanism` sites. The probability that the
  therapy eradicates the lesion (all four factors of eq. 1) is given beside it.

Unknown drugs are said so (``unknown``) and do not stop anything: with no mechanism known,
``n12 = 0`` is assumed and stated.

References
----------
Bozic I, Reiter JG, Allen B, et al. Evolutionary dynamics of cancer in response to targeted
combination therapy. eLife 2013;2:e00747. PMID 23805382.
Komarova NL, Wodarz D. Drug resistance in cancer: principles of emergence and prevention.
PNAS 2005;102:9714-9719. PMID 16172254.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from oncoresist.errors import InputError, UnknownDiseaseError, UnknownDrugError

if TYPE_CHECKING:
    import pandas as pd

    from oncoresist.kb import KnowledgeBase, SourcedAssertion

__all__ = ["EvolutionParams", "ResistanceLink", "resistance_link"]

_AGAINST = ("resistant", "reduced_response")
_BOZIC = "Bozic et al. 2013, eLife 2:e00747, Table 1 (PMID 23805382)"


@dataclass(frozen=True)
class EvolutionParams:
    """Parameters of the Bozic 2013 model, each with its source; every one can be overridden.

    Attributes
    ----------
    detection_cells
        ``M``: lesion size when treatment starts, cells (about 1 cm3).
    birth, death
        ``b``, ``d``: division and death rates per cell per day before treatment.
    death_treated
        ``d'``: death rate per day of cells sensitive to a drug being given.
    mutation_rate
        ``u``: point-mutation rate per base per division.
    sites_per_drug
        ``n1 = n2``: point mutations conferring resistance to each drug.
    sites_per_shared_mechanism
        Sites added to ``n12`` (cross-resistance) for each mechanism the pair shares in the
        knowledge base (Bozic's scenario of one cross-resistance mutation: ``n12 = 1``).
    """

    detection_cells: float = 1e9
    birth: float = 0.14
    death: float = 0.13
    death_treated: float = 0.17
    mutation_rate: float = 1e-9
    sites_per_drug: float = 50.0
    sites_per_shared_mechanism: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or value != value or value < 0:
                raise InputError(f"{value!r}: expected a number >= 0", field=f.name)
        if self.sites_per_drug <= 0:
            raise InputError("expected > 0 sites conferring resistance to each drug",
                             field="sites_per_drug")  # fmt: skip
        if not self.birth > self.death:
            raise InputError("the lesion must grow before treatment: needs birth > death",
                             field="death")  # fmt: skip
        if not self.death_treated > self.birth:
            raise InputError("treatment must make sensitive cells decline: needs "
                             "death_treated > birth", field="death_treated")  # fmt: skip

    @staticmethod
    def sources() -> dict[str, str]:
        """Where each default comes from."""
        return {
            "detection_cells": f"{_BOZIC}: a 1 cm3 lesion, about 1e9 cells",
            "birth": f"{_BOZIC}: melanoma metastases, net growth 0.01 per day",
            "death": _BOZIC,
            "death_treated": f"{_BOZIC}: decline of sensitive cells on a targeted drug",
            "mutation_rate": f"{_BOZIC}: 1e-9 per base per division",
            "sites_per_drug": f"{_BOZIC}: about 50 point mutations confer resistance to a drug",
            "sites_per_shared_mechanism": f"{_BOZIC}: the scenario with one cross-resistance "
            "mutation (n12 = 1), here per mechanism the knowledge base says the pair shares",
        }


@dataclass
class ResistanceLink:
    """What the knowledge base and Bozic 2013 say of a drug pair (:func:`resistance_link`).

    Attributes
    ----------
    drug_a, drug_b
        The names as given.
    key_a, key_b
        Their knowledge-base names, ``None`` when unknown.
    unknown
        The names the knowledge base does not know (with its suggestions, if any).
    disease
        The disease the mechanisms were restricted to, or ``None`` (every disease).
    mechanisms
        One row per resistance mechanism of a drug: ``drug`` (whose resistance), ``partner``,
        ``gene``, ``biomarker``, ``mechanism`` (class), ``effect``, ``disease``, ``evidence``,
        ``references`` (``; ``-joined), ``status`` (``answered``, ``shared``, ``not known``),
        ``by`` (the knowledge-base entry that answers or shares it, in words),
        ``by_references``, ``summary`` and ``assertion`` (its id). Rows with ``drug`` equal
        to ``"A + B"`` are assertions about the pair itself.
    evolution
        One row per therapy (``A``, ``B``, ``A + B``): ``therapy``, ``sites`` (in words),
        ``p_preexisting`` (probability that a surviving lineage resistant to the therapy is
        present when treatment starts), ``p_eradication``.
    shared
        The mechanisms counted as cross-resistance (``gene biomarker``), hence ``n12``.
    n12
        Cross-resistance sites used.
    params
        The :class:`EvolutionParams` used.
    notes
        Plain sentences: unknown drugs, assumptions.
    """

    drug_a: str
    drug_b: str
    key_a: str | None
    key_b: str | None
    unknown: list[str]
    disease: str | None
    mechanisms: pd.DataFrame
    evolution: pd.DataFrame
    shared: list[str]
    n12: float
    params: EvolutionParams
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for JSON): every field, the tables as lists of records."""
        return {
            "drug_a": self.drug_a,
            "drug_b": self.drug_b,
            "key_a": self.key_a,
            "key_b": self.key_b,
            "unknown": list(self.unknown),
            "disease": self.disease,
            "mechanisms": self.mechanisms.to_dict(orient="records"),
            "evolution": self.evolution.to_dict(orient="records"),
            "shared": list(self.shared),
            "n12": self.n12,
            "params": asdict(self.params),
            "param_sources": EvolutionParams.sources(),
            "notes": list(self.notes),
        }


# ----------------------------------------------------------------------- knowledge base
def _resolve(kb: KnowledgeBase, name: str, unknown: list[str]) -> str | None:
    try:
        key = kb.resolve_drug(name)
    except UnknownDrugError as exc:
        unknown.append(exc.message)
        return None
    if " + " in key:
        unknown.append(f"{name!r} is a combination; give one drug on each side")
        return None
    return key


def _biomarker(sourced: SourcedAssertion) -> str:
    return " + ".join(sourced.assertion.members)


def _mechanism_key(kb: KnowledgeBase, sourced: SourcedAssertion) -> tuple[str, str]:
    genes = " / ".join(sorted(kb.assertion_genes(sourced)))
    return genes, _biomarker(sourced).strip().lower()


def _words(sourced: SourcedAssertion, subject: str) -> str:
    a = sourced.assertion
    return f"{subject}: {a.effect.replace('_', ' ')} (evidence {a.evidence})"


class _Index:
    """The knowledge base's assertions, their drugs expanded once, restricted to a disease."""

    def __init__(self, kb: KnowledgeBase, disease: str | None) -> None:
        lineage = None if disease is None else set(kb.disease_lineage(disease))
        self.items: list[tuple[SourcedAssertion, frozenset[str], tuple[str, str]]] = []
        self._drugs: dict[int, frozenset[str]] = {}
        for sourced in kb.assertions:
            a = sourced.assertion
            if lineage is not None and a.disease != "any" and a.disease not in lineage:
                continue
            drugs = kb.expand_drugs(a.drugs, a.except_)
            self._drugs[id(sourced)] = drugs
            self.items.append((sourced, drugs, _mechanism_key(kb, sourced)))

    def names(self, sourced: SourcedAssertion, key: str) -> bool:
        """Whether an assertion names ``key`` (a drug or a pair), classes expanded."""
        return key in self._drugs[id(sourced)]

    def against(self, key: str) -> list[tuple[SourcedAssertion, tuple[str, str]]]:
        """Assertions that make ``key`` work less (resistant or reduced response)."""
        return [(s, m) for s, drugs, m in self.items
                if key in drugs and s.assertion.effect in _AGAINST]  # fmt: skip

    def about(self, mech: tuple[str, str], key: str) -> list[SourcedAssertion]:
        """Assertions on the same alteration that name ``key`` (a drug or a pair)."""
        return [s for s, drugs, m in self.items if m == mech and key in drugs]


def _status(index: _Index, mech, partner: str, pair: str) -> tuple[str, SourcedAssertion | None]:
    """What the partner (or the pair) does against a mechanism, and the entry that says so.

    The pair's own assertions come first (the most specific), then the partner's; an
    assertion that the partner or the pair is affected wins over one that it is active.
    """
    for key in (pair, partner):
        found = index.about(mech, key)
        worse = [s for s in found if s.assertion.effect in _AGAINST]
        if worse:
            return "shared", worse[0]
        better = [s for s in found if s.assertion.effect == "sensitive"]
        if better:
            return "answered", better[0]
    return "not known", None


def _row(sourced: SourcedAssertion, gene: str, *, drug: str, partner: str, status: str,
         by: SourcedAssertion | None, who: str) -> dict[str, Any]:  # fmt: skip
    """One row of the mechanisms table."""
    a = sourced.assertion
    return {
        "drug": drug, "partner": partner, "gene": gene, "biomarker": _biomarker(sourced),
        "mechanism": a.mechanism or "", "effect": a.effect, "disease": a.disease,
        "evidence": a.evidence, "references": "; ".join(a.references), "status": status,
        "by": "" if by is None else _words(by, who),
        "by_references": "" if by is None else "; ".join(by.assertion.references),
        "summary": a.summary, "assertion": sourced.id,
    }  # fmt: skip


def _mechanism_rows(index: _Index, key: str, partner: str, pair: str) -> list[dict[str, Any]]:
    """The resistance mechanisms of drug ``key`` and what ``partner`` or ``pair`` does."""
    rows, seen = [], set()
    for sourced, mech in index.against(key):
        if partner and index.names(sourced, partner):  # one entry names both drugs
            status, by = "shared", sourced
        else:
            status, by = _status(index, mech, partner, pair)
        if (mech, sourced.assertion.mechanism, status) in seen:
            continue
        seen.add((mech, sourced.assertion.mechanism, status))
        who = "the pair" if by is not None and index.names(by, pair) else partner
        rows.append(_row(sourced, mech[0], drug=key, partner=partner, status=status, by=by,
                         who=who))  # fmt: skip
    return rows


def _pair_rows(index: _Index, pair: str, listed: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """Assertions that the pair itself is affected by, not already listed for a drug."""
    rows = []
    for sourced, mech in index.against(pair):
        if mech not in listed:
            listed.add(mech)
            rows.append(_row(sourced, mech[0], drug=pair, partner="", status="shared",
                             by=sourced, who="the pair"))  # fmt: skip
    return rows


# ----------------------------------------------------------------------- Bozic 2013
def _evolution(a: str, b: str, n12: float, p: EvolutionParams) -> list[dict[str, Any]]:
    from oncoresist.evolve.analytic import eradication_factors

    args = (p.detection_cells, p.birth, p.death, p.death_treated, p.mutation_rate)
    n = p.sites_per_drug
    rows = []
    for name, sites, words in (
        (a, {(a,): n + n12}, f"{n:g} + {n12:g} shared"),
        (b, {(b,): n + n12}, f"{n:g} + {n12:g} shared"),
        (f"{a} + {b}", {(a,): n, (b,): n, (a, b): n12},
         f"{n:g} and {n:g} (one per drug), {n12:g} shared"),
    ):  # fmt: skip
        f = eradication_factors(*args, {k: v for k, v in sites.items() if v > 0})
        rows.append({
            "therapy": name, "sites": words,
            "p_preexisting": float(1 - f["p1_up"] * f["p2_up"]),
            "p_eradication": float(f["p1_up"] * f["p1_down"] * f["p2_up"] * f["p2_down"]),
        })  # fmt: skip
    return rows


def resistance_link(
    drug_a: str,
    drug_b: str,
    *,
    kb: KnowledgeBase | None = None,
    disease: str | None = None,
    params: EvolutionParams | None = None,
) -> ResistanceLink:
    """The knowledge-base mechanisms and Bozic 2013 probabilities of a drug pair.

    Parameters
    ----------
    drug_a, drug_b
        Drug names (generic, brand or code names of the knowledge base). An unknown name is
        reported in ``unknown`` and ``notes``, never an error.
    kb
        The knowledge base (default: the bundled one).
    disease
        Restrict the mechanisms to this disease and its parents (name, synonym or OncoTree
        code); ``None``: every disease.
    params
        The model's parameters (default :class:`EvolutionParams`, Bozic 2013's values).

    Returns
    -------
    ResistanceLink
        The mechanisms table, the evolution table (``A``, ``B``, ``A + B``: probability that
        resistance pre-exists and that the therapy eradicates the lesion), ``n12`` and notes.

    Raises
    ------
    InputError
        An unknown disease, or parameters out of range.

    References
    ----------
    Bozic I et al. (2013). eLife 2:e00747, eq. 1 and Table 1. PMID 23805382.

    Examples
    --------
    >>> link = resistance_link("osimertinib", "capmatinib")
    >>> p = link.evolution.set_index("therapy")["p_preexisting"]
    >>> bool(p["osimertinib + capmatinib"] < min(p["osimertinib"], p["capmatinib"]))
    True
    """
    import pandas as pd

    from oncoresist.kb import load_kb

    kb = load_kb() if kb is None else kb
    params = EvolutionParams() if params is None else params
    unknown: list[str] = []
    key_a, key_b = _resolve(kb, drug_a, unknown), _resolve(kb, drug_b, unknown)
    disease_id = None
    if disease is not None:
        try:
            disease_id = kb.resolve_disease(disease)
        except UnknownDiseaseError as exc:
            raise exc.located(field="disease") from None
    notes = [f"not in the knowledge base: {u}" for u in unknown]
    rows: list[dict[str, Any]] = []
    if key_a is not None and key_b is not None and key_a == key_b:
        notes.append(f"{drug_a!r} and {drug_b!r} are the same drug ({key_a})")
    elif key_a is not None or key_b is not None:
        index = _Index(kb, disease_id)
        pair = " + ".join(sorted(k for k in (key_a, key_b) if k is not None))
        for key, partner in ((key_a, key_b), (key_b, key_a)):
            if key is not None:
                rows += _mechanism_rows(index, key, partner or "", pair if partner else "")
        if key_a is not None and key_b is not None:
            listed = {(r["gene"], r["biomarker"].strip().lower()) for r in rows}
            rows += _pair_rows(index, pair, listed)
    columns = ["drug", "partner", "gene", "biomarker", "mechanism", "effect", "disease",
               "evidence", "references", "status", "by", "by_references", "summary",
               "assertion"]  # fmt: skip
    mechanisms = pd.DataFrame(rows, columns=columns)
    shared_rows = mechanisms[mechanisms["status"] == "shared"]
    shared = sorted({f"{g} {b}" for g, b in zip(shared_rows["gene"], shared_rows["biomarker"],
                                                 strict=True)})  # fmt: skip
    if key_a is None or key_b is None:
        notes.append("cross-resistance unknown: n12 = 0 assumed (no shared mechanism counted)")
    n12 = len(shared) * params.sites_per_shared_mechanism
    name_a, name_b = key_a or drug_a.strip(), key_b or drug_b.strip()
    same = name_a.lower() == name_b.lower()
    evolution = pd.DataFrame(
        [] if same else _evolution(name_a, name_b, n12, params),
        columns=["therapy", "sites", "p_preexisting", "p_eradication"],
    )
    return ResistanceLink(drug_a, drug_b, key_a, key_b, unknown, disease_id, mechanisms,
                          evolution, shared, float(n12), params, notes)  # fmt: skip
