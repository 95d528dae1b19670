"""cBioPortal clinical and timeline files for the monitoring side (serial ctDNA).

A study directory cBioPortal's importer reads: ``meta_study.txt``; the patient and sample
clinical files with their 5-line headers (display names, descriptions, datatypes,
priorities, attribute names); and one timeline file per event type - ``TREATMENT``
(therapy lines), ``SPECIMEN`` (plasma draws), ``LAB_TEST`` (each monitored marker's VAF
per draw, and the molecular-response level) and ``STATUS`` (the monitor's alerts and the
clinical events) - each with its meta file, as cBioPortal's "File Formats" page
describes them.

Identifiers are pseudonyms only: patient and sample ids are replaced by keyed HMAC-SHA256
pseudonyms (:func:`oncoresist.store.pseudonym`, first 12 hex digits, ``P-``/``S-``
prefixes), and no calendar date is written: timeline days count from day 0, the start of
the patient's first therapy line (else the first draw), as the monitor's alerts do.

References
----------
cBioPortal documentation, "File Formats": Clinical Data, Timeline Data
(https://docs.cbioportal.org/file-formats/).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from oncoresist._files import formula_safe_cell
from oncoresist.errors import InputError
from oncoresist.kb import KnowledgeBase, load_kb

_STUDY_ID = re.compile(r"^[A-Za-z0-9_]+$")
_CATEGORY_WORDS = {
    "emerging_resistance": "resistance alert",
    "new_alteration": "new alteration",
    "driver_rising": "driver rising",
    "present_at_baseline": "present at baseline",
}


_MEASURE_TESTS = {
    "mean_vaf_truncal": "ctDNA mean truncal VAF",
    "tumor_fraction": "ctDNA tumour fraction",
}


def _level(value: object) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 6)


@dataclass(frozen=True)
class Attribute:
    """One clinical attribute: its 5 header rows."""

    name: str
    display: str
    description: str
    datatype: str  # STRING, NUMBER or BOOLEAN
    priority: int = 1


PATIENT_ATTRIBUTES = (
    Attribute("PATIENT_ID", "Patient Identifier", "Pseudonym of the patient (keyed HMAC)",
              "STRING"),
    Attribute("DRAWS", "Plasma draws", "Number of serial plasma draws monitored", "NUMBER"),
    Attribute("RESISTANCE_ALERTS", "Resistance alerts",
              "Alterations called as emerging resistance by the monitor", "NUMBER", 10),
    Attribute("FIRST_ALERT_DAY", "First resistance alert (day)",
              "Day of the first resistance alert (day 0: first therapy line, else first draw)",
              "NUMBER"),
    Attribute("ALERT_ALTERATIONS", "Alerted alterations",
              "Alterations behind the resistance alerts", "STRING"),
    Attribute("LAST_MOLECULAR_RESPONSE", "Last molecular response",
              "Molecular-response category at the last draw", "STRING"),
)  # fmt: skip

SAMPLE_ATTRIBUTES = (
    Attribute("PATIENT_ID", "Patient Identifier", "Pseudonym of the patient (keyed HMAC)",
              "STRING"),
    Attribute("SAMPLE_ID", "Sample Identifier", "Pseudonym of the plasma draw (keyed HMAC)",
              "STRING"),
    Attribute("SAMPLE_TYPE", "Sample type", "Material of the sample", "STRING"),
    Attribute("ONCOTREE_CODE", "OncoTree code", "Disease of the patient (OncoTree)", "STRING"),
    Attribute("DRAW_DAY", "Draw day", "Day of the draw (day 0: first therapy line, else "
              "first draw)", "NUMBER"),
    Attribute("CFDNA_NG", "cfDNA input (ng)", "Cell-free DNA put into the assay, in ng",
              "NUMBER"),
    Attribute("MOLECULAR_RESPONSE", "Molecular response",
              "Molecular-response category of the draw (oncoresist monitor)", "STRING"),
    Attribute("RESPONSE_MEASURE", "Response measure",
              "What the molecular response is measured on: mean_vaf_truncal (mean VAF of the "
              "truncal variants) or tumor_fraction", "STRING"),
    Attribute("RESPONSE_LEVEL", "Response level",
              "The response measure in this draw (fraction, 0-1)", "NUMBER"),
    Attribute("DETECTED_ALTERATIONS", "Detected alterations",
              "Monitored alterations called in this draw", "STRING"),
)  # fmt: skip


@dataclass(frozen=True)
class StudyFiles:
    """What :func:`write_cbioportal_study` wrote.

    Attributes
    ----------
    directory
        The study directory.
    files
        File names written, sorted.
    patients, samples
        Pseudonymous ids written, by the identifiers they replace.
    """

    directory: Path
    files: tuple[str, ...]
    patients: dict[str, str]
    samples: dict[str, str]


_STORED = re.compile(r"^[0-9a-f]{64}$")


def _pseudonyms(key: bytes | None, kind: str, values: Sequence[str], prefix: str) -> dict[str, str]:
    """``P-``/``S-`` and the first 12 hex digits of each value's keyed pseudonym.

    Without a key the values must already be the store's pseudonyms (64 hex digits).
    """
    from oncoresist.store import pseudonym

    if key is not None:
        return {v: f"{prefix}-{pseudonym(key, kind, str(v))[:12]}" for v in values}
    raw = [v for v in values if not _STORED.match(str(v))]
    if raw:
        raise InputError(
            f"{kind} id {raw[0]!r} is not a store pseudonym (64 hex digits); expected the "
            "key, so that site identifiers are written only as pseudonyms",
            field=f"{kind}_id",
        )
    return {v: f"{prefix}-{str(v)[:12]}" for v in values}


def _cell(value: object) -> str:
    """A TSV cell: ``NA`` for missing, integers without ``.0``, no tabs or newlines."""
    if value is None or value is pd.NaT:
        return "NA"
    if isinstance(value, float):
        if math.isnan(value):
            return "NA"
        return str(int(value)) if value.is_integer() else f"{value:.6g}"
    if isinstance(value, int | bool):
        return str(value)
    text = re.sub(r"[\t\r\n]+", " ", str(value)).strip()
    return formula_safe_cell(text) if text else "NA"


def _clinical(attributes: Sequence[Attribute], rows: list[dict]) -> str:
    lines = [
        "#" + "\t".join(a.display for a in attributes),
        "#" + "\t".join(a.description for a in attributes),
        "#" + "\t".join(a.datatype for a in attributes),
        "#" + "\t".join(str(a.priority) for a in attributes),
        "\t".join(a.name for a in attributes),
    ]
    for row in rows:
        lines.append("\t".join(_cell(row.get(a.name)) for a in attributes))
    return "\n".join(lines) + "\n"


def _timeline(columns: Sequence[str], rows: list[dict]) -> str:
    lines = ["\t".join(columns)]
    for row in rows:
        # a missing value is a blank cell: STOP_DATE of a point event must be blank
        cells = ["" if row.get(c) is None else _cell(row.get(c)) for c in columns]
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def _meta(study: str, datatype: str, filename: str) -> str:
    return (f"cancer_study_identifier: {study}\ngenetic_alteration_type: CLINICAL\n"
            f"datatype: {datatype}\ndata_filename: {filename}\n")  # fmt: skip


def _day(date: object, anchor: pd.Timestamp) -> int | None:
    if date is None or pd.isna(date):
        return None
    return int((pd.Timestamp(date).normalize() - anchor.normalize()).days)


def write_cbioportal_study(
    result,
    directory: str | Path,
    *,
    key: bytes | None,
    study_id: str = "oncoresist_ctdna",
    name: str = "oncoresist serial ctDNA monitoring",
    therapy: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    disease: str | None = None,
    kb: KnowledgeBase | None = None,
) -> StudyFiles:
    """Write the monitor's results as a cBioPortal study directory (clinical + timeline).

    Parameters
    ----------
    result
        A :class:`oncoresist.monitor.MonitorResult` (``calls``, ``response``, ``alerts``).
    directory
        A new or empty directory; the files are written to a temporary directory beside
        it and moved into place at the end, so a failure leaves nothing behind.
    key
        The pseudonymisation key (:func:`oncoresist.store.resolve_key`); patient and
        sample ids are written only as pseudonyms under it. ``None`` when the ids are
        already the store's pseudonyms (:meth:`oncoresist.store.Store.observations`);
        any other id is then an error. Either way the same patient gets the same id.
    study_id
        ``cancer_study_identifier`` (letters, digits and underscores).
    name
        The study's name.
    therapy, events
        Therapy lines and clinical events (:func:`oncoresist.monitor.read_therapy`,
        :func:`~oncoresist.monitor.read_events`), for the treatment timeline and status
        events.
    disease
        Disease of the patients (name, synonym or OncoTree code): ``type_of_cancer`` and
        ``ONCOTREE_CODE``; ``mixed`` and ``NA`` without one.
    kb
        Knowledge base (the shipped one by default).

    Returns
    -------
    StudyFiles
        The directory, the files written (``meta_study.txt``,
        ``meta_clinical_patient.txt``, ``data_clinical_patient.txt``,
        ``meta_clinical_sample.txt``, ``data_clinical_sample.txt`` and
        ``meta_timeline_<type>.txt`` / ``data_timeline_<type>.txt`` for ``specimen``,
        ``labtest``, ``status`` and, with therapy lines, ``treatment``) and the
        pseudonym of each patient and sample id.

    Raises
    ------
    InputError
        A study id with other characters, a directory that holds files, a result with
        no draws, a sample id shared by two patients, an id that is not a pseudonym
        without a key, or an unknown disease.
    """
    kb = kb or load_kb()
    if not _STUDY_ID.match(study_id):
        raise InputError(f"{study_id!r}: expected letters, digits and underscores only",
                         field="--study-id")  # fmt: skip
    target = Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError("exists and is not an empty directory; expected a new directory "
                         "for the study", file=target)  # fmt: skip
    calls = result.calls
    if calls is None or not len(calls):
        raise InputError("no draws to export; expected the monitor's calls of at least one draw")
    oncotree = None
    cancer_type = "mixed"
    if disease:
        found = kb.diseases[kb.resolve_disease(disease)]
        if found.oncotree:
            oncotree = found.oncotree[0]
            cancer_type = oncotree.lower()
    owners = calls.groupby(calls["sample_id"].astype(str))["patient_id"].nunique()
    shared = sorted(owners[owners > 1].index)
    if shared:
        raise InputError(
            f"sample id(s) {', '.join(shared[:5])} belong to more than one patient; expected "
            "one patient per sample id (a sample's pseudonym is keyed on its id alone, as in "
            "the store)",
            field="sample_id",
        )
    patients = _pseudonyms(key, "patient", sorted(calls["patient_id"].astype(str).unique()), "P")
    samples = _pseudonyms(key, "sample", sorted(calls["sample_id"].astype(str).unique()), "S")
    anchors = _anchors(calls, therapy)
    files: dict[str, str] = {}
    files["meta_study.txt"] = (
        f"type_of_cancer: {cancer_type}\ncancer_study_identifier: {study_id}\n"
        f"name: {_cell(name)}\ndescription: Serial ctDNA monitoring exported by oncoresist "
        "(pseudonymous identifiers; days from the first therapy line)\n"
        "add_global_case_list: true\n"
    )
    files["meta_clinical_patient.txt"] = _meta(study_id, "PATIENT_ATTRIBUTES",
                                               "data_clinical_patient.txt")  # fmt: skip
    files["data_clinical_patient.txt"] = _clinical(
        PATIENT_ATTRIBUTES, _patient_rows(result, patients, anchors)
    )
    files["meta_clinical_sample.txt"] = _meta(study_id, "SAMPLE_ATTRIBUTES",
                                              "data_clinical_sample.txt")  # fmt: skip
    files["data_clinical_sample.txt"] = _clinical(
        SAMPLE_ATTRIBUTES, _sample_rows(result, patients, samples, anchors, oncotree)
    )
    timelines = {
        "specimen": (
            ["PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE", "SAMPLE_ID",
             "SPECIMEN_TYPE", "SPECIMEN_SITE", "SOURCE"],
            _specimen_rows(calls, patients, samples, anchors),
        ),
        "labtest": (
            ["PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE", "TEST", "RESULT",
             "SAMPLE_ID", "CALL", "ALT_COUNT", "DEPTH", "COUNT_UNIT"],
            _lab_rows(result, patients, samples, anchors),
        ),
        "status": (
            ["PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE", "STATUS", "ALTERATION",
             "REGIMEN", "VERDICT", "MECHANISM", "EVIDENCE", "LEAD_TIME_DAYS", "SOURCE"],
            _status_rows(result, events, patients, anchors),
        ),
    }  # fmt: skip
    if therapy is not None and len(therapy):
        timelines["treatment"] = (
            ["PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE", "TREATMENT_TYPE", "AGENT",
             "ONGOING", "REASON_STOPPED"],
            _treatment_rows(therapy, calls, patients, anchors),
        )  # fmt: skip
    for kind, (columns, rows) in timelines.items():
        data = f"data_timeline_{kind}.txt"
        files[f"meta_timeline_{kind}.txt"] = _meta(study_id, "TIMELINE", data)
        files[data] = _timeline(columns, rows)
    _write_directory(target, files)
    return StudyFiles(target, tuple(sorted(files)), patients, samples)


def _anchors(calls: pd.DataFrame, therapy: pd.DataFrame | None) -> dict[str, pd.Timestamp]:
    """Day 0 per patient: the first therapy line's start, else the first draw."""
    out = {str(p): pd.Timestamp(d) for p, d in
           calls.groupby("patient_id")["collection_date"].min().items()}  # fmt: skip
    if therapy is not None and len(therapy):
        for patient, start in therapy.groupby("patient_id")["start_date"].min().items():
            if str(patient) in out and not pd.isna(start):
                out[str(patient)] = pd.Timestamp(start)
    return out


def _patient_rows(result, patients: dict[str, str], anchors) -> list[dict]:
    calls, alerts, response = result.calls, result.alerts, result.response
    rows = []
    for patient, pseudo in patients.items():
        mine = calls[calls["patient_id"].astype(str) == patient]
        resist = alerts[(alerts["patient_id"].astype(str) == patient)
                        & (alerts["category"] == "emerging_resistance")]  # fmt: skip
        days = [_day(d, anchors[patient]) for d in resist["first_called_date"]]
        days = [d for d in days if d is not None]
        last = response[response["patient_id"].astype(str) == patient]
        if len(last):
            last = last.sort_values("collection_date")
        rows.append(
            {
                "PATIENT_ID": pseudo,
                "DRAWS": int(mine["sample_id"].nunique()),
                "RESISTANCE_ALERTS": len(resist),
                "FIRST_ALERT_DAY": min(days) if days else None,
                "ALERT_ALTERATIONS": ", ".join(sorted(resist["alteration"].astype(str))) or None,
                "LAST_MOLECULAR_RESPONSE": str(last["category"].iloc[-1]) if len(last) else None,
            }
        )
    return rows


def _sample_rows(result, patients, samples, anchors, oncotree: str | None) -> list[dict]:
    calls, response = result.calls, result.response
    rows = []
    for (patient, sample), draw in calls.groupby(["patient_id", "sample_id"], sort=False):
        patient, sample = str(patient), str(sample)
        level = response[response["sample_id"].astype(str) == sample]
        detected = sorted(draw.loc[draw["state"] == "detected", "alteration"].astype(str))
        cfdna = draw["cfdna_ng"].iloc[0] if "cfdna_ng" in draw else None
        rows.append(
            {
                "PATIENT_ID": patients[patient],
                "SAMPLE_ID": samples[sample],
                "SAMPLE_TYPE": "plasma cfDNA",
                "ONCOTREE_CODE": oncotree,
                "DRAW_DAY": _day(draw["collection_date"].iloc[0], anchors[patient]),
                "CFDNA_NG": None if cfdna is None or pd.isna(cfdna) else float(cfdna),
                "MOLECULAR_RESPONSE": str(level["category"].iloc[0]) if len(level) else None,
                "RESPONSE_MEASURE": str(level["measure"].iloc[0]) if len(level) else None,
                "RESPONSE_LEVEL": _level(level["level"].iloc[0]) if len(level) else None,
                "DETECTED_ALTERATIONS": ", ".join(detected) or None,
            }
        )
    rows.sort(key=lambda r: (r["PATIENT_ID"], r["DRAW_DAY"]))
    return rows


def _specimen_rows(calls, patients, samples, anchors) -> list[dict]:
    rows = []
    for (patient, sample), draw in calls.groupby(["patient_id", "sample_id"], sort=False):
        patient = str(patient)
        rows.append(
            {
                "PATIENT_ID": patients[patient],
                "START_DATE": _day(draw["collection_date"].iloc[0], anchors[patient]),
                "STOP_DATE": None,
                "EVENT_TYPE": "SPECIMEN",
                "SAMPLE_ID": samples[str(sample)],
                "SPECIMEN_TYPE": "blood",
                "SPECIMEN_SITE": "plasma",
                "SOURCE": "oncoresist monitor",
            }
        )
    rows.sort(key=lambda r: (r["PATIENT_ID"], r["START_DATE"]))
    return rows


def _lab_rows(result, patients, samples, anchors) -> list[dict]:
    rows = []
    for row in result.calls.itertuples(index=False):
        patient = str(row.patient_id)
        depth = row.depth_count
        vaf = float(row.alt_count) / float(depth) if depth and not pd.isna(depth) else None
        rows.append(
            {
                "PATIENT_ID": patients[patient],
                "START_DATE": _day(row.collection_date, anchors[patient]),
                "STOP_DATE": None,
                "EVENT_TYPE": "LAB_TEST",
                "TEST": f"ctDNA VAF {row.alteration}",
                "RESULT": None if vaf is None else round(vaf, 6),
                "SAMPLE_ID": samples[str(row.sample_id)],
                "CALL": row.state,
                "ALT_COUNT": int(row.alt_count),
                "DEPTH": None if pd.isna(depth) else int(depth),
                "COUNT_UNIT": row.count_unit,
            }
        )
    for row in result.response.itertuples(index=False):
        patient = str(row.patient_id)
        rows.append(
            {
                "PATIENT_ID": patients[patient],
                "START_DATE": _day(row.collection_date, anchors[patient]),
                "STOP_DATE": None,
                "EVENT_TYPE": "LAB_TEST",
                "TEST": _MEASURE_TESTS.get(row.measure, f"ctDNA {row.measure}"),
                "RESULT": _level(row.level),
                "SAMPLE_ID": samples.get(str(row.sample_id)),
                "CALL": row.category,
            }
        )
    rows.sort(key=lambda r: (r["PATIENT_ID"], r["START_DATE"], r["TEST"]))
    return rows


def _status_rows(result, events, patients, anchors) -> list[dict]:
    rows = []
    for row in result.alerts.itertuples(index=False):
        patient = str(row.patient_id)
        if patient not in patients:
            continue
        lead = getattr(row, "lead_time_days", None)
        rows.append(
            {
                "PATIENT_ID": patients[patient],
                "START_DATE": _day(row.first_called_date, anchors[patient]),
                "STOP_DATE": None,
                "EVENT_TYPE": "STATUS",
                "STATUS": f"{_CATEGORY_WORDS.get(row.category, row.category)}: {row.alteration}",
                "ALTERATION": row.alteration,
                "REGIMEN": row.regimen,
                "VERDICT": row.verdict,
                "MECHANISM": row.mechanism,
                "EVIDENCE": row.evidence,
                "LEAD_TIME_DAYS": None if lead is None or pd.isna(lead) else float(lead),
                "SOURCE": "oncoresist monitor",
            }
        )
    if events is not None:
        for row in events.itertuples(index=False):
            patient = str(row.patient_id)
            if patient not in patients:
                continue  # a patient without draws is not in this study
            rows.append(
                {
                    "PATIENT_ID": patients[patient],
                    "START_DATE": _day(row.date, anchors[patient]),
                    "STOP_DATE": None,
                    "EVENT_TYPE": "STATUS",
                    "STATUS": str(row.event),
                    "SOURCE": "clinical events",
                }
            )
    rows.sort(key=lambda r: (r["PATIENT_ID"], r["START_DATE"] or 0, r["STATUS"]))
    return rows


def _treatment_rows(therapy, calls, patients, anchors) -> list[dict]:
    last_draw = calls.groupby(calls["patient_id"].astype(str))["collection_date"].max()
    rows = []
    for row in therapy.itertuples(index=False):
        patient = str(row.patient_id)
        if patient not in patients:
            continue
        ongoing = pd.isna(row.end_date)
        end = last_draw[patient] if ongoing else row.end_date
        reason = getattr(row, "reason_stopped", None)
        start = _day(row.start_date, anchors[patient]) or 0
        rows.append(
            {
                "PATIENT_ID": patients[patient],
                "START_DATE": start,
                "STOP_DATE": max(_day(end, anchors[patient]) or 0, start),
                "EVENT_TYPE": "TREATMENT",
                "TREATMENT_TYPE": "Medical Therapy",
                "AGENT": row.regimen,
                "ONGOING": "yes" if ongoing else "no",
                "REASON_STOPPED": None if reason is None or pd.isna(reason) else reason,
            }
        )
    rows.sort(key=lambda r: (r["PATIENT_ID"], r["START_DATE"]))
    return rows


def _write_directory(target: Path, files: dict[str, str]) -> None:
    """Write every file into a temporary sibling directory, then move it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        for filename, text in files.items():
            (staging / filename).write_text(text, encoding="utf-8")
        if target.exists():
            target.rmdir()  # empty, checked before
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
