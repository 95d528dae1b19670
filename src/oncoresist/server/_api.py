"""The versioned JSON API (``/api/v1``): patients, draws, uploads, consent, knowledge base.

Object-level authorisation: every route with a patient or sample ID goes through
:func:`own_patient`, which answers 404 (not 403) when the patient belongs to another site
or does not exist, so IDs of other sites cannot even be confirmed. Every read or export of
patient-level data, every consent change and every refusal writes an audit event.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response

from oncoresist import __version__
from oncoresist.errors import InputError
from oncoresist.server import _consent as consent_
from oncoresist.server import _pages as pages
from oncoresist.server import _schemas as m
from oncoresist.server import _users as users_
from oncoresist.server import _views as v
from oncoresist.server._app import (
    Principal,
    ServiceState,
    bearer,
    current,
    route_template,
    state_of,
)
from oncoresist.server._auth import Claims
from oncoresist.server._uploads import ExpansionLimits, UploadTimeout, UploadTooLarge, parse_upload
from oncoresist.server._views import site_scoped
from oncoresist.store import _schema as s
from oncoresist.store import pseudonym as make_pseudonym
from oncoresist.store import verify_log

_PROBLEM = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
router = APIRouter(
    responses={
        401: {"description": "not authenticated"} | _PROBLEM,
        403: {"description": "not allowed for this role"} | _PROBLEM,
        404: {"description": "not found (or another site's)"} | _PROBLEM,
        413: {"description": "request body too large"} | _PROBLEM,
        422: {"description": "invalid request or file"} | _PROBLEM,
    }
)
_PSEUDONYM = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"[^A-Za-z0-9._-]+")
State = Annotated[ServiceState, Depends(state_of)]
Who = Annotated[Principal, Depends(current)]
_NOT_FOUND = "not found"
upload_log = logging.getLogger("oncoresist.server.uploads")


# --------------------------------------------------------------------- access
def _role(principal: Principal, *roles: str) -> None:
    if principal.role not in roles:
        raise HTTPException(403, f"this needs the role {' or '.join(roles)}")


def own_patient(state: ServiceState, principal: Principal, pid: str, route: str) -> None:
    """Check that ``pid`` is a patient of the principal's site.

    Anything else (another site's patient, no such patient, a malformed ID, a user who is
    not a clinician) is the same 404, and an audit event.
    """
    site = v.patient_site(state.store.engine, pid) if _PSEUDONYM.match(pid) else None
    check_site(state, principal, pid, site, route)


def check_site(state: ServiceState, principal: Principal, pid: str, site: str | None,
               route: str) -> None:  # fmt: skip
    """404 (and an audit event) unless the principal is a clinician of ``site``."""
    if principal.role != "clinician" or principal.site is None or site != principal.site:
        state.audit(principal.username, "access_denied",
                    pseudonym=pid if _PSEUDONYM.match(pid) else None, route=route)  # fmt: skip
        raise HTTPException(404, _NOT_FOUND)


def _patient(request: Request, pid: str, state: State, who: Who) -> str:
    own_patient(state, who, pid, route_template(request))
    return pid


Patient = Annotated[str, Depends(_patient)]


# --------------------------------------------------------------------- public
@router.get("/health", response_model=m.Health, tags=["service"],
            responses={503: {"model": m.Health, "description": "the audit log cannot be "
                             "written, so no audited request can be served"}})  # fmt: skip
def health(state: State) -> m.Health | JSONResponse:
    """Liveness and the audit log's state: the only route that needs no token."""
    audit = state.audit_log.health()
    body = m.Health(status="unavailable" if audit == "unwritable" else "ok",
                    version=__version__, audit=audit)  # fmt: skip
    if audit == "unwritable":
        return JSONResponse(body.model_dump(), status_code=503)
    return body


@router.post("/auth/login", response_model=m.TokenOut, tags=["identity"],
             responses={429: {"description": "too many failed logins"} | _PROBLEM})  # fmt: skip
def login(body: m.LoginIn, request: Request, state: State) -> m.TokenOut:
    """Exchange a user name and password for a short-lived bearer token.

    Failed logins are throttled per account and address (see ``docs/server.md``). The
    token lives ``token_seconds``; ``POST /auth/refresh`` renews it within its session.
    """
    _, token = state.login(body.username, body.password, state.client(request))
    return m.TokenOut(access_token=token, token_type="bearer",
                      expires_in=state.settings.token_seconds)  # fmt: skip


def _claims(who: Principal) -> Claims:
    if who.claims is None:  # every principal made from a token has them
        raise HTTPException(401, "not authenticated")
    return who.claims


@router.post("/auth/refresh", response_model=m.TokenOut, tags=["identity"])
def refresh(request: Request, state: State, who: Who) -> m.TokenOut:
    """A new token of the same session (sliding renewal), never past the session's maximum.

    The session's maximum (``session_max_seconds`` after the login, 12 h by default) is
    absolute: at its end, sign in again. The old token stays valid until it expires.
    """
    claims = _claims(who)
    renewed = state.renewed(claims)
    if renewed is None:  # at the session's maximum: the token sent is as good as it gets
        token, _ = bearer(request)
        return m.TokenOut(access_token=token or "", token_type="bearer",
                          expires_in=max(0, claims.expires - int(state.clock())))  # fmt: skip
    token, seconds = renewed
    return m.TokenOut(access_token=token, token_type="bearer", expires_in=seconds)


@router.post("/auth/logout", status_code=204, tags=["identity"])
def logout(state: State, who: Who) -> Response:
    """End the token's session: this token and every renewal of it are refused from now on."""
    state.logout(_claims(who))
    state.audit(who.username, "logout")
    return Response(status_code=204)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, who: Who) -> dict:
    """The OpenAPI schema of this API (authenticated)."""
    return request.app.openapi()


@router.get("/me", response_model=m.UserOut, tags=["identity"])
def me(who: Who) -> m.UserOut:
    """The authenticated user."""
    return m.UserOut(username=who.username, role=who.role, site=who.site, active=True)


# --------------------------------------------------------------------- patients
def _clinician(who: Principal) -> str:
    _role(who, "clinician")
    if who.site is None:
        raise HTTPException(403, "this needs a user of a site")
    return who.site


def _patient_items(state: ServiceState, site: str, pid: str | None = None) -> list[m.PatientItem]:
    """The site's patients (or the one ``pid``) as list rows: draws, alerts, consent.

    Alerts are resistance alerts only (category ``emerging_resistance``), as stored with
    each page; patients without a current page get theirs built here, in one run.
    """
    rows = v.site_patients(state.store.engine, site, pseudonym=pid)
    pids = [r["pseudonym"] for r in rows]
    fingerprint = state.monitor_config.fingerprint
    with state.store.engine.connect() as connection:
        consents = consent_.consent_in_force(connection, pids)
        stored = pages.stored_alerts(connection, pids, fingerprint)
    missing = [p for p in pids if p not in stored]
    if missing:  # no current page yet: build them once, for this list and later reads
        built = pages.fresh_pages(state.store, missing, kb=state.kb, config=state.monitor_config)
        stored |= {p: page.alerts for p, page in built.items()}
        state.limits.add(p for p, page in built.items() if not page.complete)
    items = []
    for row in rows:
        c = consents.get(row["pseudonym"])
        items.append(m.PatientItem(
            pseudonym=row["pseudonym"], disease=row["disease"], draws=int(row["draws"] or 0),
            last_draw=row["last_draw"].date() if row["last_draw"] is not None else None,
            alerts=stored.get(row["pseudonym"], 0), consent=c.scope if c else None,
        ))  # fmt: skip
    return items


def patient_list(state: ServiceState, who: Principal) -> m.PatientList:
    """The site's patients with draw counts, alert counts and consent scope."""
    site = _clinician(who)
    items = _patient_items(state, site)
    state.audit(who.username, "list_patients", site=site, patients=len(items))
    return m.PatientList(site=site, patients=items)


@router.get("/patients", response_model=m.PatientList, tags=["patients"])
def list_patients(state: State, who: Who) -> m.PatientList:
    """The patients of the user's site (pseudonyms), with alert counts."""
    return patient_list(state, who)


@router.post("/patients/lookup", response_model=m.LookupOut, tags=["patients"])
def lookup(body: m.LookupIn, request: Request, state: State, who: Who) -> m.LookupOut:
    """The pseudonym of one of the site's patients, from the site's own identifier.

    The identifier is hashed under the site key and never stored or logged; an identifier
    with no stored patient at this site is 404.
    """
    site = _clinician(who)
    pid = make_pseudonym(state.key, "patient", site_scoped(site, body.identifier))
    own_patient(state, who, pid, "/patients/lookup")
    state.audit(who.username, "lookup_patient", pseudonym=pid)
    return m.LookupOut(pseudonym=pid)


def monitoring(state: ServiceState, pid: str) -> v.Monitoring:
    """One patient's monitoring results under the service's settings (cached)."""
    return v.monitoring(state.store, pid, kb=state.kb, config=state.monitor_config)


def page_json(state: ServiceState, who: Principal, pid: str, route: str) -> str:
    """The patient page's JSON: access checked, the read audited.

    One query reads the patient's site, data version and stored page; a page behind the
    data version is built here and stored (see :mod:`oncoresist.server._pages`).
    """
    found = None
    if _PSEUDONYM.match(pid):
        with state.reader.connect() as connection:
            found = pages.stored_page(connection, pid, state.monitor_config.fingerprint)
    check_site(state, who, pid, found.site if found else None, route)
    assert found is not None  # check_site refused a patient that is not stored
    body, complete = found.body, found.complete
    if not found.current:
        body, complete = pages.fresh_page(state.store, pid, kb=state.kb,
                                          config=state.monitor_config)  # fmt: skip
    if not complete:  # its limits of detection are computed in the background
        state.limits.add([pid])
    state.audit(who.username, "read_patient", pseudonym=pid)
    return body  # type: ignore[return-value]


def patient_detail(state: ServiceState, who: Principal, pid: str) -> m.PatientDetail:
    """Everything the patient page shows (access checked, the read audited)."""
    return m.PatientDetail.model_validate_json(page_json(state, who, pid, "/patients/{pid}"))


@router.get("/patients/{pid}", response_model=m.PatientDetail, tags=["patients"])
def get_patient(pid: str, request: Request, state: State, who: Who) -> Response:
    """A patient: therapy lines, draws, alerts, molecular response, trends, trajectories."""
    body = page_json(state, who, pid, route_template(request))
    return Response(body, media_type="application/json")


@router.patch("/patients/{pid}", response_model=m.PatientItem, tags=["patients"])
def update_patient(pid: Patient, body: m.PatientUpdate, state: State, who: Who) -> m.PatientItem:
    """Set the patient's disease (name, synonym or OncoTree code of the knowledge base)."""
    disease = None
    if body.disease:
        try:
            disease = state.kb.resolve_disease(body.disease)
        except (KeyError, ValueError, InputError):
            raise InputError("unknown disease; expected a name, synonym or OncoTree code "
                             "of the knowledge base", field="disease") from None  # fmt: skip
    with state.store.engine.begin() as connection:
        connection.execute(s.patients.update().where(s.patients.c.pseudonym == pid)
                           .values(disease=disease))  # fmt: skip
    state.audit(who.username, "update_patient", pseudonym=pid, field="disease")
    return _patient_items(state, who.site or "", pid)[0]


@router.get("/patients/{pid}/samples", response_model=list[m.SampleOut], tags=["patients"])
def list_samples(pid: Patient, state: State, who: Who) -> list[m.SampleOut]:
    """The patient's draws (sample pseudonyms, dates, day offsets, counts)."""
    state.audit(who.username, "read_samples", pseudonym=pid)
    return pages.samples_of(monitoring(state, pid))


@router.get("/patients/{pid}/samples/{sid}", response_model=m.SampleDetail, tags=["patients"])
def get_sample(pid: Patient, sid: str, state: State, who: Who) -> m.SampleDetail:
    """One draw: every tracked variant's reads, VAF, call and limit of detection."""
    mon = monitoring(state, pid)
    rows = mon.calls[mon.calls["sample_id"] == sid] if not mon.calls.empty else mon.calls
    if rows.empty:
        state.audit(who.username, "access_denied", pseudonym=pid, route="sample")
        raise HTTPException(404, _NOT_FOUND)
    sample = next(x for x in pages.samples_of(mon) if x.sample == sid)
    observations = [
        m.ObservationOut(
            gene=r["gene"],
            alteration=r["alteration"],
            alt_reads=int(r["alt_reads"]),
            depth=int(r["depth"]),
            vaf=r["alt_reads"] / r["depth"] if r["depth"] else 0.0,
            state=str(r["state"]),
            p_value=v.number(r["p_value"]),
            q_value=v.number(r["q_value"]),
            lod_vaf=v.number(r["lod_vaf"]),
        )
        for r in rows.to_dict("records")
    ]
    state.audit(who.username, "read_sample", pseudonym=pid)
    return m.SampleDetail(sample=sample, observations=observations)


@router.get("/patients/{pid}/therapy", response_model=list[m.TherapyLineOut],
            tags=["patients"])  # fmt: skip
def get_therapy(pid: Patient, state: State, who: Who) -> list[m.TherapyLineOut]:
    """The patient's lines of therapy."""
    state.audit(who.username, "read_therapy", pseudonym=pid)
    return pages.therapy_of(monitoring(state, pid))


@router.get("/patients/{pid}/alerts", response_model=m.AlertsOut, tags=["monitoring"])
def get_alerts(pid: Patient, state: State, who: Who) -> m.AlertsOut:
    """Alerts of one patient with their category, linked to the knowledge base.

    Only those of category ``emerging_resistance`` are resistance alerts.
    """
    state.audit(who.username, "read_alerts", pseudonym=pid)
    mon = monitoring(state, pid)
    return m.AlertsOut(patient=pid, alerts=pages.alerts_of(mon))


@router.get("/alerts", response_model=list[m.AlertsOut], tags=["monitoring"])
def site_alerts(state: State, who: Who) -> list[m.AlertsOut]:
    """Every patient of the site that has alerts (of any category), from the stored pages."""
    site = _clinician(who)
    pids = [row["pseudonym"] for row in v.site_patients(state.store.engine, site) if row["draws"]]
    found = pages.fresh_pages(state.store, pids, kb=state.kb, config=state.monitor_config)
    state.limits.add(p for p, page in found.items() if not page.complete)
    out = []
    for pid in pids:
        alerts = m.PatientDetail.model_validate_json(found[pid].body).alerts if pid in found else []
        if alerts:
            out.append(m.AlertsOut(patient=pid, alerts=alerts))
            state.audit(who.username, "read_alerts", pseudonym=pid)
    return out


@router.get("/patients/{pid}/interpretation", response_model=m.InterpretationOut,
            tags=["interpretation"])  # fmt: skip
def get_interpretation(pid: Patient, state: State, who: Who) -> m.InterpretationOut:
    """Per-drug verdicts for the latest draw (the patient's regimens first) and options."""
    from oncoresist.report import interpret_latest

    mon = monitoring(state, pid)
    state.audit(who.username, "read_interpretation", pseudonym=pid)
    if mon.calls.empty:
        return m.InterpretationOut(latest_draw=None, disease=mon.disease, alterations=[],
                                   verdicts=[], options=[], notes=["no draws stored"])  # fmt: skip
    verdicts, options = interpret_latest(mon.calls, response=mon.response,
                                         therapy=mon.therapy, disease=mon.disease,
                                         kb=state.kb)  # fmt: skip
    base = verdicts or options
    return m.InterpretationOut(
        latest_draw=pd.Timestamp(mon.calls["collection_date"].max()).date(),
        disease=mon.disease, alterations=base.alterations if base else [],
        verdicts=verdicts.drugs if verdicts else [], options=options.options if options else [],
        notes=(base.notes if base else ["nothing detected at the latest draw"]),
    )  # fmt: skip


@router.get("/patients/{pid}/report", response_class=HTMLResponse, tags=["reports"],
            responses={200: {"content": {"text/html": {}}}})  # fmt: skip
def get_report(pid: Patient, state: State, who: Who) -> HTMLResponse:
    """The patient's self-contained HTML report (download)."""
    from oncoresist.report import build_report
    from oncoresist.server._forecasts import patient_forecast

    mon = monitoring(state, pid)
    if mon.calls.empty:
        raise HTTPException(404, "no draws stored for this patient")
    config = state.monitor_config  # the report states and uses the service's settings
    html = build_report(mon.calls, therapy=mon.therapy, events=mon.events,
                        disease=mon.disease, patient_label=pid[:12], kb=state.kb,
                        background=config.background, budget=config.budget,
                        fpr=config.fpr,
                        forecast=patient_forecast(state, pid))  # as the page shows it  # fmt: skip
    state.audit(who.username, "export_report", pseudonym=pid)
    return HTMLResponse(html, headers={
        "Content-Disposition": f'attachment; filename="report-{pid[:12]}.html"'})  # fmt: skip


@router.get("/patients/{pid}/forecast", response_model=m.ForecastOut, tags=["forecast"])
def get_forecast(pid: Patient, state: State, who: Who) -> m.ForecastOut:
    """The patient's PSA forecast under each strategy, from the stored measurements.

    Fitted to the patient's own readings under the bundled population prior (Zhang 2022
    trial); each strategy's chance of PCWG3 progression, median days to progression, days
    on drug and predictive bands, the accuracy of such forecasts in the prior's backtest and
    the assumptions. With too little data (fewer than 4 readings, none after a start of
    treatment, unknown treatment status) ``refusal`` says what is missing and nothing is
    forecast.
    """
    from oncoresist.server._forecasts import forecast_out, patient_forecast

    found = patient_forecast(state, pid)
    state.audit(who.username, "read_forecast", pseudonym=pid)
    return forecast_out(pid, found)


# --------------------------------------------------------------------- consent
@router.get("/patients/{pid}/consent", response_model=list[m.ConsentOut], tags=["consent"])
def get_consent(pid: Patient, state: State, who: Who) -> list[m.ConsentOut]:
    """The patient's consent records, oldest first (the last one is in force)."""
    with state.store.engine.connect() as connection:
        history = consent_.consent_history(connection, pid)
    state.audit(who.username, "read_consent", pseudonym=pid)
    return [pages.consent_out(c) for c in history]


def record_consent(state: ServiceState, who: Principal, pid: str,
                   body: m.ConsentIn) -> m.ConsentOut:  # fmt: skip
    """Add a consent record (one transaction) and audit the change."""
    with state.store.engine.begin() as connection:
        c = consent_.record_consent(
            connection, pid, duo_codes=body.duo_codes, version=body.version,
            consent_date=body.consent_date, recorded_by=who.username,
            disease=body.disease, withdrawn=body.withdrawn,
        )  # fmt: skip
    state.audit(who.username, "consent_change", pseudonym=pid, scope=c.scope,
                codes=list(c.duo_codes), version=c.version)  # fmt: skip
    return pages.consent_out(c)


@router.post("/patients/{pid}/consent", response_model=m.ConsentOut, status_code=201,
             tags=["consent"])  # fmt: skip
def post_consent(pid: Patient, body: m.ConsentIn, state: State, who: Who) -> m.ConsentOut:
    """Record new consent (DUO codes, form version and date) or its withdrawal."""
    return record_consent(state, who, pid, body)


# --------------------------------------------------------------------- uploads
def _display_name(name: str | None) -> str:
    base = Path(name or "upload").name
    return (_NAME.sub("_", base).strip("._") or "upload")[:100]


@contextlib.asynccontextmanager
async def spooled(state: ServiceState,
                  upload: UploadFile) -> AsyncIterator[tuple[Path, str, bytes]]:  # fmt: skip
    """The upload saved to a private file of the service's spool, removed however it ends."""
    limit = state.settings.max_upload_bytes
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"file too large; expected at most {limit} bytes")
    name = _display_name(upload.filename)
    with state.spool.file(name) as path:
        path.write_bytes(data)
        yield path, name, data


def expansion_limits(state: ServiceState) -> ExpansionLimits:
    """How far an upload may decompress, from the service's settings."""
    s = state.settings
    return ExpansionLimits(max_bytes=s.max_decompressed_bytes,
                           max_ratio=s.max_decompression_ratio,
                           max_line_bytes=s.max_line_bytes)  # fmt: skip


def ingest_upload(state: ServiceState, who: Principal, kind: str, path: Path, name: str,
                  data: bytes) -> m.UploadOut:  # fmt: skip
    """Parse an upload and ingest it for the user's site, in a worker process.

    The worker also rebuilds the pages of the file's patients in the ingest's transaction.
    """
    site = _clinician(who)
    store = functools.partial(pages.store_upload, kind=kind, url=state.store.engine.url,
                              key=state.key, site=site, config=state.monitor_config,
                              sha256=v.upload_sha256(site, kind, data))  # fmt: skip
    timings: dict[str, float] = {}
    started = time.perf_counter()
    try:
        stored = parse_upload(
            kind, path, display_name=name, timeout=state.settings.parse_timeout,  # type: ignore[arg-type]
            then=store, nice=state.settings.upload_nice, timings=timings,
            limits=expansion_limits(state),
        )  # fmt: skip
    except UploadTimeout:
        raise HTTPException(422, "the file took too long to parse") from None
    except UploadTooLarge as exc:
        raise HTTPException(413, str(exc)) from None
    result, patients = stored.result, stored.patients
    upload_log.info("upload %s: %d rows, %d patients%s in %.2f s: parse %.2f s, ingest %.2f s, "
                    "pages %.2f s", kind, result.rows, len(patients),
                    " (already stored)" if result.already_ingested else "",
                    time.perf_counter() - started, timings.get("parse_s", 0.0), stored.ingest_s,
                    stored.pages_s)  # fmt: skip
    if not result.already_ingested and kind != "measurements":  # pages unchanged by those
        state.limits.add(patients, again=True)
    for pid in patients:
        state.audit(who.username, "upload", pseudonym=pid, kind=kind,
                    ingest=result.ingest_id, already=result.already_ingested)  # fmt: skip
    return m.UploadOut(kind=kind, rows=result.rows, inserted=result.inserted,  # type: ignore[arg-type]
                       updated=result.updated, already_ingested=result.already_ingested,
                       ingest_id=int(result.ingest_id or 0), patients=patients)  # fmt: skip


@router.post(
    "/uploads/{kind}",
    response_model=m.UploadOut,
    tags=["uploads"],
    responses={409: {"description": "conflict with stored values"} | _PROBLEM},
)
async def upload(
    kind: Literal["serial", "therapy", "events", "measurements"],
    state: State,
    who: Who,
    file: Annotated[UploadFile, File(description="CSV, TSV (gzipped or not) or Parquet")],
) -> m.UploadOut:
    """Upload ctDNA draws, therapy lines, clinical events or serial marker measurements.

    Marker measurements (PSA and others): patient_id, day or date, marker, value, optional
    lower_limit_of_quantification and on_treatment; they feed the patient's forecast.

    Identifiers in the file are the site's own; they are stored only as keyed pseudonyms
    (namespaced by site). The same file uploaded twice adds nothing. A malformed file is
    refused with the line and field at fault, and nothing is stored.
    """
    _clinician(who)
    async with spooled(state, file) as (path, name, data):
        return await state.in_upload_worker(ingest_upload, state, who, kind, path, name, data)


@router.post("/interpret", response_model=m.VariantsOut, tags=["interpretation"])
async def interpret_upload(
    state: State,
    who: Who,
    file: Annotated[UploadFile, File(description="VCF, MAF or alteration table")],
    disease: Annotated[str | None, Form(max_length=100)] = None,
    drugs: Annotated[str | None, Form(max_length=500, description="drugs separated by ';'")] = None,
    build: Annotated[Literal["GRCh37", "GRCh38"] | None, Form()] = None,
) -> m.VariantsOut:
    """Interpret an uploaded variant file per drug (nothing is stored)."""
    from oncoresist.interpret import interpret

    async with spooled(state, file) as (path, name, _):
        try:
            parse = functools.partial(
                parse_upload, "variants", path, display_name=name,
                timeout=state.settings.parse_timeout, options={"build": build},
                nice=state.settings.upload_nice, limits=expansion_limits(state),
            )  # fmt: skip
            alterations = await state.in_upload_worker(parse)
        except UploadTimeout:
            raise HTTPException(422, "the file took too long to parse") from None
        except UploadTooLarge as exc:
            raise HTTPException(413, str(exc)) from None
    wanted = [d.strip() for d in (drugs or "").split(";") if d.strip()] or None
    result = interpret(alterations, drugs=wanted, disease=disease, kb=state.kb)
    state.audit(who.username, "interpret_upload", alterations=len(result.alterations))
    return m.VariantsOut(disease=result.disease, alterations=result.alterations,
                         verdicts=result.drugs, options=result.options,
                         notes=result.notes)  # fmt: skip


# --------------------------------------------------------------------- knowledge base
def _assertions(rows: list[dict]) -> list[m.AssertionOut]:
    return [
        m.AssertionOut(
            id=r["id"],
            biomarker=r["biomarker"],
            drugs=r["drugs"],
            effect=r["effect"],
            mechanism=r["mechanism"],
            disease=r["disease"],
            evidence=r["evidence"],
            references=r["references"],
            summary=r["summary"],
        )
        for r in rows
    ]


@router.get("/kb/search", response_model=m.SearchOut, tags=["knowledge base"])
def kb_search(q: Annotated[str, Query(min_length=1, max_length=100)], state: State,
              who: Who) -> m.SearchOut:  # fmt: skip
    """Genes, drugs, drug classes and diseases whose names contain ``q``."""
    kb, needle = state.kb, q.lower()
    return m.SearchOut(
        genes=[s_ for s_, g in kb.genes.items()
               if needle in " ".join([s_, g.name, *g.aliases]).lower()],
        drugs=[n for n, d in kb.drugs.items() if needle in " ".join([n, *d.synonyms]).lower()],
        classes=[c for c, k in kb.classes.items() if needle in f"{c} {k.name}".lower()],
        diseases=[i for i, d in kb.diseases.items()
                  if needle in " ".join([i, d.name, *d.oncotree, *d.synonyms]).lower()],
    )  # fmt: skip


@router.get("/kb/genes/{gene}", response_model=m.GeneOut, tags=["knowledge base"])
def kb_gene(gene: str, state: State, who: Who) -> m.GeneOut:
    """A gene and every assertion naming it, with references and evidence levels."""
    from oncoresist.kb import to_records

    try:
        symbol = state.kb.resolve_gene(gene)
    except (KeyError, ValueError, InputError):
        raise HTTPException(404, "no such gene in the knowledge base") from None
    g = state.kb.genes[symbol]
    rows = [r for r in to_records(state.kb) if symbol in r["genes"]]
    return m.GeneOut(symbol=symbol, name=g.name, aliases=list(g.aliases), role=g.role,
                     drivers=list(g.drivers), assertions=_assertions(rows))  # fmt: skip


@router.get("/kb/drugs/{drug}", response_model=m.DrugOut, tags=["knowledge base"])
def kb_drug(drug: str, state: State, who: Who) -> m.DrugOut:
    """A drug (or class): members, targets and every assertion covering it."""
    from oncoresist.kb import to_records

    kb = state.kb
    try:
        key = kb.resolve_drug(drug)
    except (KeyError, ValueError, InputError):
        raise HTTPException(404, "no such drug in the knowledge base") from None
    members = list(kb.members_of(key))
    targets = sorted({t for x in members for t in kb.drugs[x].targets})
    classes = sorted({c for x in members for c in kb.drug_classes(x)})
    rows = [r for r in to_records(kb) if key in r["expanded_drugs"]]
    return m.DrugOut(name=key, members=members, classes=classes, targets=targets,
                     approved=any(kb.drugs[x].approved for x in members),
                     assertions=_assertions(rows))  # fmt: skip


# --------------------------------------------------------------------- research
@router.get("/research/cohort", response_model=m.CohortOut, tags=["research"])
def research_cohort(
    state: State,
    who: Who,
    purpose: Literal["general", "health", "disease", "ancestry"] = "general",
    disease: Annotated[str | None, Query(max_length=100)] = None,
    commercial: bool = False,
    irb_approved: bool = False,
) -> m.CohortOut:
    """Draws of every patient whose consent in force permits this research purpose.

    Patients appear under research pseudonyms that cannot be linked to the clinical ones
    without the site key; draws carry day offsets, not dates.
    """
    _role(who, "researcher")
    wanted = consent_.ResearchPurpose(purpose, disease, commercial, irb_approved)
    # what the researcher asserts decides what is exported: each event records it
    claims = {"purpose": purpose, "disease": disease, "commercial": commercial,
              "irb_approved": irb_approved}  # fmt: skip
    with state.store.engine.connect() as connection:
        pids = state.store.patients()
        consents = consent_.consent_in_force(connection, pids)
    out = []
    for pid in pids:
        c = consents.get(pid)
        if not consent_.permits(c, wanted):
            continue
        mon = monitoring(state, pid)
        obs = [
            m.CohortObservation(
                day=v.day_of(mon.origin, r["collection_date"]),
                gene=r["gene"],
                alteration=r["alteration"],
                alt_reads=int(r["alt_reads"]),
                depth=int(r["depth"]),
            )
            for r in (mon.calls.to_dict("records") if not mon.calls.empty else [])
        ]
        state.audit(who.username, "export_research", pseudonym=pid, **claims)
        out.append(m.CohortPatient(
            research_id=make_pseudonym(state.key, "research", pid)[:32], disease=mon.disease,
            conditions=consent_.conditions(c), observations=obs,  # type: ignore[arg-type]
        ))  # fmt: skip
    state.audit(who.username, "research_query", patients=len(out), **claims)
    return m.CohortOut(purpose=purpose, patients=out)


# --------------------------------------------------------------------- admin
def _user_out(u: users_.User) -> m.UserOut:
    return m.UserOut(username=u.username, role=u.role, site=u.site, active=u.active)


def _site_admin(who: Principal) -> str:
    """The site whose accounts this admin manages (403 for another role or no site)."""
    _role(who, "admin")
    if who.site is None:
        raise HTTPException(403, "this admin belongs to no site, and an admin manages only "
                                 "the accounts of their own site; on the host, make a site's "
                                 "admin with `oncoresist users add NAME --role admin --site "
                                 "SITE`")  # fmt: skip
    return who.site


@router.get("/admin/users", response_model=list[m.UserOut], tags=["admin"])
def admin_users(state: State, who: Who) -> list[m.UserOut]:
    """The users of the admin's site (admin only)."""
    site = _site_admin(who)
    return [_user_out(u) for u in users_.list_users(state.store.engine, site=site)]


@router.post("/admin/users", response_model=m.UserOut, status_code=201, tags=["admin"])
def admin_add_user(body: m.UserIn, state: State, who: Who) -> m.UserOut:
    """Create a clinician or admin of the admin's own site (admin only).

    An account of another site needs an admin of that site; a researcher (whose cohort
    spans every site) is made on the host with ``oncoresist users add``. Both are 403.
    """
    site = _site_admin(who)
    wanted = body.site if body.site is not None else site
    refusal = None
    if body.role == "researcher":
        refusal = ("role 'researcher': a researcher reads the consented cohort of every site, "
                   "so the account is made on the host (`oncoresist users add NAME --role "
                   "researcher`), not by a site's admin")  # fmt: skip
    elif wanted != site:
        refusal = (f"site {wanted!r}: an admin of site {site!r} creates accounts of that site "
                   f"only; an admin of site {wanted!r} must create this one")  # fmt: skip
    if refusal is not None:
        state.audit(who.username, "user_add_refused", user=body.username, role=body.role,
                    site=wanted)  # fmt: skip
        raise HTTPException(403, refusal)
    user = users_.add_user(state.store.engine, body.username, body.password, role=body.role,
                           site=wanted)  # fmt: skip
    state.audit(who.username, "user_added", user=user.username, role=user.role, site=user.site)
    return _user_out(user)


@router.patch("/admin/users/{username}", response_model=m.UserOut, tags=["admin"])
def admin_set_active(username: str, body: m.UserActive, state: State, who: Who) -> m.UserOut:
    """Enable or disable a user of the admin's site (admin only).

    A disabled user's tokens stop working. A user of another site (or none) is 404, as if
    there were no such user, and an audit event.
    """
    site = _site_admin(who)
    user = users_.get_user(state.store.engine, username)
    if user is None or user.site != site:
        state.audit(who.username, "access_denied", route="/admin/users/{username}",
                    user=username)  # fmt: skip
        raise HTTPException(404, _NOT_FOUND)
    users_.set_active(state.store.engine, username, body.active)
    state.audit(who.username, "user_active", user=username, active=body.active, site=site)
    user = users_.get_user(state.store.engine, username)
    return _user_out(user)  # type: ignore[arg-type]


@router.get("/admin/audit", response_model=m.AuditOut, tags=["admin"])
def admin_audit(state: State, who: Who) -> m.AuditOut:
    """Verify the audit log's hash chain (admin only)."""
    _role(who, "admin")
    try:
        report = verify_log(state.settings.audit_log, key=state.key, anchor=state.audit_log.anchor)
    except InputError:  # no log: say so without its path
        return m.AuditOut(ok=False, events=0, problem="the audit log cannot be read")
    return m.AuditOut(ok=report.ok, events=report.events, problem=report.problem or None)
