"""The browser interface: server-rendered pages over the functions the API uses.

Pages are Jinja2 templates under ``templates/`` (autoescaped); they read through the same
functions as the API (:func:`~oncoresist.server._api.patient_list`,
:func:`~oncoresist.server._api.own_patient`, :func:`~oncoresist.server._api.patient_detail`
and so on), so authorisation and audit are the API's. The VAF trajectory chart
is the report's own SVG (:func:`oncoresist.report._svg.trajectory_svg`, same styles per
variant), rendered on the server; the one script, ``static/chart.js``, only adds
interaction on top of it (legend toggles, keyboard focus, tooltips), so the page reads the
same without JavaScript, and the Content Security Policy can forbid inline script.

Sessions: the login form puts the token in an HttpOnly, SameSite=Strict cookie; every page
checks it as the API does and sends anyone without a valid one to ``/login``; a page read
past half the token's life renews it (up to the session's absolute maximum), and logout
revokes the session. Every form that changes something carries a CSRF token, HMAC-SHA256
of the session's token under the service's CSRF secret (the synchroniser-token pattern of
the OWASP Cross-Site Request Forgery Prevention Cheat Sheet), and is refused with 403
without it. The login form itself carries one too, bound to a random pre-session cookie
(the signed double-submit cookie of the same cheat sheet), so another site cannot sign a
browser in to an account of its choosing (login CSRF). Pages show pseudonyms
only (their first 12 hex digits in text), never a site's identifiers: a clinician opens a
patient by the site's own identifier (such as the MRN) through the lookup form, whose POST
body alone carries it; it is hashed under the site key as on ingest and goes no further
(no URL, log, audit event or stored row holds it). Colours are the
Okabe-Ito palette (Okabe & Ito 2008, *Color Universal Design*), and every colour comes
with a shape or a word.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from pydantic import ValidationError

from oncoresist import figures as fg
from oncoresist.errors import InputError
from oncoresist.report import _svg
from oncoresist.report._forecast_html import forecast_section
from oncoresist.report._html import (
    alert_row,
    day_scale,
    draw_rows,
    lod_band,
    option_row,
    verdict_row,
)
from oncoresist.report._templates import environment
from oncoresist.server import _api
from oncoresist.server import _schemas as m
from oncoresist.server import _views as v
from oncoresist.server._app import (
    COOKIE,
    RENEWED,
    Principal,
    ServiceState,
    bearer,
    renew_cookie,
    service,
    state_of,
)
from oncoresist.server._consent import DUO
from oncoresist.server._forecasts import patient_forecast
from oncoresist.store import StoreConflictError

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).with_name("static")
TEMPLATES = Path(__file__).with_name("templates")

#: DUO codes the consent form offers (permissions, then modifiers)
CONSENT_CODES = ("DUO:0000042", "DUO:0000006", "DUO:0000043", "DUO:0000046", "DUO:0000021")
#: what each upload kind holds, and its columns
UPLOAD_KINDS: dict[str, tuple[str, str]] = {
    "serial": (
        "Serial ctDNA results (one row per draw and variant)",
        "patient_id, sample_id, collection_date, gene, alteration, and the counts: "
        "alt_reads and depth (reads), and/or alt_molecules and unique_molecules (unique "
        "molecules, i.e. UMI families; also named unique_alt_molecules, umi_depth ...). "
        "Molecule counts on every row can replace alt_reads and depth. Optionally "
        "cfdna_ng, tumor_fraction",
    ),
    "therapy": (
        "Lines of therapy (one row per regimen)",
        "patient_id, regimen, start_date, end_date (empty while ongoing); "
        "optionally reason_stopped",
    ),
    "events": (
        "Clinical events (such as progression)",
        "patient_id, event, date",
    ),
    "measurements": (
        "Serial marker measurements, such as PSA (one row per measurement), for forecasts",
        "patient_id, day or date, marker (psa, ctdna_mtm_per_ml, sum_of_diameters ...), "
        "value ('<0.1' when below the limit of quantification); optionally "
        "lower_limit_of_quantification, on_treatment (1/0; else from the therapy lines)",
    ),
}
_SIGN_IN = "/login"
#: the pre-session cookie that the login form's CSRF token is bound to
LOGIN_COOKIE = "oncoresist_login"
LOGIN_COOKIE_SECONDS = 3600


# ----------------------------------------------------------------------- templates
def _short(pseudonym: str) -> str:
    return pseudonym[:12]


def _environment() -> jinja2.Environment:
    env = environment(TEMPLATES)  # the report's, searching these pages' templates first
    env.filters.update(short=_short)
    return env


templates = Jinja2Templates(env=_environment())


def mount_static(app: FastAPI) -> None:
    """Serve ``static/`` (scripts and styles shipped with the package) at ``/static``."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")


# ----------------------------------------------------------------------- sessions
@dataclass(frozen=True)
class Session:
    """A signed-in user of the browser interface, with the CSRF token of the session."""

    who: Principal
    csrf: str


def csrf_for(state: ServiceState, token: str) -> str:
    """The CSRF token of a session: HMAC-SHA256 of its login token (hex)."""
    return hmac.new(state.csrf_secret, token.encode(), hashlib.sha256).hexdigest()


def _session(request: Request) -> Session:
    """Dependency: the signed-in user, or a redirect to the login page."""
    state = service(request)
    token, _ = bearer(request)
    try:
        who = state.principal(token, via_cookie=True)
    except HTTPException:
        # the app's error handler answers with this status and Location: the redirect
        raise HTTPException(303, "sign in first", headers={"Location": _SIGN_IN}) from None
    request.state.principal = who
    renew_cookie(request, who)
    return Session(who, csrf_for(state, token or ""))


State = Annotated[ServiceState, Depends(state_of)]
Signed = Annotated[Session, Depends(_session)]
CsrfField = Annotated[str, Form(max_length=128)]


def _forged(session: Session, sent: str) -> bool:
    return not hmac.compare_digest(sent.encode(), session.csrf.encode())


def _page(
    request: Request,
    name: str,
    session: Session | None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    base = {"who": session.who if session else None, "csrf": session.csrf if session else "",
            "section": None}  # fmt: skip
    return templates.TemplateResponse(request, name, base | context, status_code=status,
                                      headers=headers)  # fmt: skip


def _error(request: Request, session: Session | None, status: int, message: str) -> Response:
    return _page(request, "error.html", session, status=status, status_code=status,
                 message=message)  # fmt: skip


_REFUSED = "The form had no valid security token; reload the page and send it again."


# ----------------------------------------------------------------------- login
def _login_csrf(state: ServiceState, nonce: str) -> str:
    return hmac.new(state.csrf_secret, f"login|{nonce}".encode(), hashlib.sha256).hexdigest()


def _login_page(request: Request, state: ServiceState, *, status: int = 200,
                headers: dict[str, str] | None = None, error: str | None = None,
                username: str = "") -> Response:  # fmt: skip
    """The login form, its CSRF token bound to the browser's pre-session cookie."""
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    fresh = len(nonce) != 32
    if fresh:
        nonce = secrets.token_hex(16)
    response = _page(request, "login.html", None, status=status, headers=headers, error=error,
                     username=username, csrf=_login_csrf(state, nonce))  # fmt: skip
    if fresh:
        response.set_cookie(LOGIN_COOKIE, nonce, max_age=LOGIN_COOKIE_SECONDS, path=_SIGN_IN,
                            secure=state.settings.secure_cookies, httponly=True,
                            samesite="strict")  # fmt: skip
    return response


@router.get("/login")
def login_form(request: Request, state: State) -> Response:
    """The login form."""
    return _login_page(request, state)


@router.post("/login")
def login(
    request: Request,
    state: State,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf_token: CsrfField = "",
) -> Response:
    """Check the password; on success set the session cookie and go to the patient list.

    A form without the CSRF token of this browser's login page is refused (403) before
    the password is looked at.
    """
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    expected = _login_csrf(state, nonce)
    if len(nonce) != 32 or not hmac.compare_digest(csrf_token.encode(), expected.encode()):
        state.audit("anonymous", "login_refused", reason="no valid CSRF token")
        return _login_page(request, state, status=403, error=_REFUSED, username=username)
    try:
        _, token = state.login(username, password, state.client(request))
    except HTTPException as exc:
        return _login_page(request, state, status=exc.status_code, headers=exc.headers,
                           error=exc.detail, username=username)  # fmt: skip
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, token, max_age=state.settings.token_seconds, path="/",
                        secure=state.settings.secure_cookies, httponly=True,
                        samesite="strict")  # fmt: skip
    return response


@router.post("/logout")
def logout(request: Request, state: State, session: Signed, csrf_token: CsrfField = "") -> Response:
    """End the session (its tokens are refused from now on) and clear the cookie."""
    if _forged(session, csrf_token):
        return _error(request, session, 403, _REFUSED)
    if session.who.claims is not None:
        state.logout(session.who.claims)
    setattr(request.state, RENEWED, None)  # no renewed cookie after the logout
    state.audit(session.who.username, "logout")
    response = RedirectResponse(_SIGN_IN, status_code=303)
    response.delete_cookie(COOKIE, path="/", secure=state.settings.secure_cookies,
                           httponly=True, samesite="strict")  # fmt: skip
    return response


# ----------------------------------------------------------------------- patients
_NO_SUCH_PATIENT = "No patient of your site has this pseudonym."
#: one answer for another site's patient and an unknown identifier: nothing to probe
_NO_SUCH_IDENTIFIER = "No patient of your site has this identifier."


def _patients_page(
    request: Request,
    state: ServiceState,
    session: Session,
    *,
    status: int = 200,
    lookup_error: str | None = None,
) -> Response:
    try:
        listing = _api.patient_list(state, session.who)
    except HTTPException as exc:
        return _error(request, session, exc.status_code, exc.detail)
    return _page(request, "patients.html", session, status=status, section="patients",
                 listing=listing, lookup_error=lookup_error)  # fmt: skip


@router.get("/")
def patients(request: Request, state: State, session: Signed) -> Response:
    """The site's patients, with draws, consent and an alert badge, and the lookup form."""
    return _patients_page(request, state, session)


@router.post("/patients/lookup")
def lookup(
    request: Request,
    state: State,
    session: Signed,
    csrf_token: CsrfField = "",
    identifier: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Open one of the site's patients from the site's own identifier (such as the MRN).

    The identifier travels in the POST body only. It is pseudonymised as on ingest (keyed
    HMAC-SHA256 of ``SITE:identifier`` under the site key, :func:`_api.lookup`), checked
    against the user's site, and then dropped: the redirect names the pseudonym, the audit
    event (``lookup_patient``, or ``access_denied``) records the pseudonym only, and the
    form comes back empty. Another site's patient and an unknown identifier get the same
    404 page through the same steps (one hash, one query), so identifiers cannot be probed.
    """
    if _forged(session, csrf_token):
        return _error(request, session, 403, _REFUSED)
    try:
        body = m.LookupIn(identifier=identifier.strip())
    except ValidationError:  # the message names the field, never the value sent
        return _patients_page(request, state, session, status=422,
                              lookup_error="field identifier: type the patient's identifier "
                              "at your site (up to 128 characters)")  # fmt: skip
    try:
        found = _api.lookup(body, request, state, session.who)
    except HTTPException as exc:
        if exc.status_code != 404:  # not a clinician of a site: the role's refusal
            return _error(request, session, exc.status_code, exc.detail)
        return _patients_page(request, state, session, status=404,
                              lookup_error=_NO_SUCH_IDENTIFIER)  # fmt: skip
    return RedirectResponse(f"/patients/{found.pseudonym}", status_code=303)


def _plots(detail: m.PatientDetail, mon: v.Monitoring) -> dict[str, Any]:
    """The therapy timeline (SVG) and what the trajectory chart needs, on one day scale."""

    def day(date: Any) -> float | None:
        found = v.day_of(mon.origin, date)
        return None if found is None else float(found)

    lines = []
    for t in detail.therapy:
        start = day(t.start_date)
        if start is not None:
            end = day(t.end_date) if t.end_date is not None else None
            lines.append(_svg.Line(t.regimen, start, end, t.reason_stopped))
    events = []
    for row in [] if mon.events.empty else mon.events.sort_values("date").to_dict("records"):
        when = day(row["date"])
        if when is not None:
            events.append(_svg.Event(str(row["event"]), when))
    draws = [float(s.day) for s in detail.samples if s.day is not None]
    scale = day_scale(draws, lines, events)
    styles = fg.assign([t.alteration for t in detail.trajectories])
    series, drawn = [], []
    for t in detail.trajectories:
        st = styles[t.alteration]
        points = [p for p in t.points if p.day is not None]
        # the legend key drawn by the figure layer (it escapes what it writes)
        series.append({"label": t.alteration, "style": st,
                       "key": Markup(fg.series_key(st))})  # fmt: skip
        s = _svg.Series(t.alteration)
        for p in points:
            lod = p.lod_vaf if p.lod_vaf is not None else float("nan")
            s.points.append(_svg.Point(float(p.day), p.state, p.vaf, lod, None, None,
                                       date=p.collection_date.isoformat()))  # fmt: skip
        drawn.append(s)
    lod_per_draw = lod_band((p.day, p.lod) for s in drawn for p in s.points)
    timeline = _svg.timeline_svg(lines, events, draws, scale, ident="therapy-timeline")
    # the report's own plot (same function, same styles), without its legend: the page's
    # legend is a row of toggle buttons; static/chart.js adds interaction on top of it
    chart = _svg.trajectory_svg(drawn, lod_per_draw, events, scale, ident="trajectory-chart",
                                legend=False)  # fmt: skip
    return {
        "timeline": Markup(timeline),  # the report's plot, which escapes its labels
        "trajectory": Markup(chart),
        "scale": scale,
        "series": series,
        "rows": draw_rows(drawn),  # the report's table of the plotted values
        "events": events,
    }


def _disease_choices(state: ServiceState) -> list[dict[str, str]]:
    """The knowledge base's diseases for the disease form, by name: id and label."""
    return sorted(
        ({"id": i, "label": _disease_label(state, i) or i} for i in state.kb.diseases),
        key=lambda d: d["label"].casefold(),
    )


def _disease_label(state: ServiceState, disease: str | None) -> str | None:
    """``lung adenocarcinoma (LUAD)``: the name, then the id and OncoTree codes not in it."""
    if disease is None:
        return None
    found = state.kb.diseases.get(disease)
    if found is None:  # stored before the knowledge base dropped it: the id as stored
        return disease
    codes = [c for c in dict.fromkeys([disease, *found.oncotree]) if c != found.name]
    return f"{found.name} ({', '.join(codes)})" if codes else found.name


def _patient_page(
    request: Request,
    state: ServiceState,
    session: Session,
    pid: str,
    *,
    status: int = 200,
    consent_error: str | None = None,
    disease_error: str | None = None,
    notice: str | None = None,
) -> Response:
    try:
        detail = _api.patient_detail(state, session.who, pid)  # checks the site; audits
    except HTTPException:
        return _error(request, session, 404, _NO_SUCH_PATIENT)
    interpretation = _api.get_interpretation(pid, state, session.who)
    mon = _api.monitoring(state, pid)
    forecast = forecast_section(  # the report's section, the same template
        patient_forecast(state, pid), ident="forecast",
        note="From the PSA measurements stored for this patient (treatment status from the "
        "readings, else from the therapy lines).",
    )  # fmt: skip
    consent_codes = [(code, *DUO[code]) for code in CONSENT_CODES]
    return _page(
        request, "patient.html", session, status=status, section="patients", detail=detail,
        plots=_plots(detail, mon), interpretation=interpretation,
        # rows of the tables the page shares with the report (report/templates/_*_table.html)
        alert_rows=[alert_row(a, a.day) for a in detail.alerts],
        verdict_rows=[verdict_row(v) for v in interpretation.verdicts],
        option_rows=[option_row(o) for o in interpretation.options], consent_codes=consent_codes,
        consent_error=consent_error, notice=notice, forecast=Markup(forecast),
        today=dt.date.today().isoformat(), diseases=_disease_choices(state),
        disease_error=disease_error,
        disease_label=_disease_label(state, detail.disease),
        verdict_disease=_disease_label(state, interpretation.disease),  # what judged them
    )  # fmt: skip


_SAVED = {
    "consent": "Consent recorded.",
    "disease": "Disease saved: the verdicts below are judged for it.",
}


@router.get("/patients/{pid}")
def patient(
    request: Request, pid: str, state: State, session: Signed, saved: str | None = None
) -> Response:
    """One patient: therapy, VAF trajectories, alerts, verdicts, consent, report."""
    return _patient_page(request, state, session, pid, notice=_SAVED.get(saved or ""))


def _form_refused(
    request: Request, state: ServiceState, session: Session, pid: str, form: str, csrf_token: str
) -> Response | None:
    """The refusal of a patient's form, if any; ``None`` when the form may go on.

    404 for a patient not the user's to change (another site's, or a researcher or admin:
    the same 404 as every route, form or not), then 403 without the session's CSRF token.
    """
    try:
        _api.own_patient(state, session.who, pid, f"/patients/{{pid}}/{form}")
    except HTTPException:
        return _error(request, session, 404, _NO_SUCH_PATIENT)
    if _forged(session, csrf_token):
        return _error(request, session, 403, _REFUSED)
    return None


@router.post("/patients/{pid}/disease")
def disease(
    request: Request,
    pid: str,
    state: State,
    session: Signed,
    csrf_token: CsrfField = "",
    disease: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Set the patient's disease (a knowledge-base disease; empty clears it).

    The API's ``PATCH /api/v1/patients/{pid}`` does the write (one transaction, audited as
    ``update_patient``); the disease is part of the patient's data version, so the next
    read rebuilds the page and judges the verdicts in this disease's context.
    """
    refused = _form_refused(request, state, session, pid, "disease", csrf_token)
    if refused is not None:
        return refused
    try:
        body = m.PatientUpdate(disease=disease.strip() or None)
        _api.update_patient(pid, body, state, session.who)
    except ValidationError:
        return _patient_page(request, state, session, pid, status=422,
                             disease_error="field disease: expected a disease of the "
                             "knowledge base")  # fmt: skip
    except InputError as exc:  # an unknown disease: the message never echoes the value
        return _patient_page(request, state, session, pid, status=422, disease_error=str(exc))
    return RedirectResponse(f"/patients/{pid}?saved=disease#disease", status_code=303)


@router.post("/patients/{pid}/consent")
def consent(
    request: Request,
    pid: str,
    state: State,
    session: Signed,
    csrf_token: CsrfField = "",
    duo_codes: Annotated[list[str] | None, Form(max_length=20)] = None,
    version: Annotated[str, Form(max_length=32)] = "",
    consent_date: Annotated[str, Form(max_length=10)] = "",
    withdrawn: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Record a consent (DUO codes, form version and date) or its withdrawal."""
    refused = _form_refused(request, state, session, pid, "consent", csrf_token)
    if refused is not None:
        return refused
    try:
        body = m.ConsentIn.model_validate({
            "duo_codes": duo_codes or [], "version": version, "consent_date": consent_date,
            "withdrawn": bool(withdrawn)})  # fmt: skip
        _api.record_consent(state, session.who, pid, body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(x) for x in first["loc"]) or "form"
        problem = f"field {field}: {first['msg']}"  # never the value sent
        return _patient_page(request, state, session, pid, status=422, consent_error=problem)
    except InputError as exc:
        return _patient_page(request, state, session, pid, status=422, consent_error=str(exc))
    return RedirectResponse(f"/patients/{pid}?saved=consent#consent", status_code=303)


# ----------------------------------------------------------------------- uploads
def _panel_unit(state: ServiceState) -> str | None:
    """The unit the service's panel of normals counts in (``None``: no panel)."""
    return getattr(state.monitor_config.background, "unit_", None)


def _upload_page(request: Request, state: ServiceState, session: Session, *, status: int = 200,
                 kind: str = "serial", problem: str | None = None,
                 result: m.UploadOut | None = None) -> Response:  # fmt: skip
    """The upload form, with the last upload's problem or result."""
    return _page(request, "upload.html", session, status=status, section="upload",
                 kinds=UPLOAD_KINDS, kind=kind if kind in UPLOAD_KINDS else "serial",
                 problem=problem, result=result, panel_unit=_panel_unit(state))  # fmt: skip


@router.get("/upload")
def upload_form(request: Request, state: State, session: Signed) -> Response:
    """The upload form: what the file holds, and the file."""
    return _upload_page(request, state, session)


@router.post("/upload")
async def upload(
    request: Request,
    state: State,
    session: Signed,
    csrf_token: CsrfField = "",
    kind: Annotated[str, Form(max_length=16)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Store an uploaded table; a malformed file is shown with its line and field."""
    if _forged(session, csrf_token):
        return _error(request, session, 403, _REFUSED)

    def again(status: int, problem: str) -> Response:
        return _upload_page(request, state, session, status=status, kind=kind, problem=problem)

    if kind not in UPLOAD_KINDS:
        return again(422, f"field kind: expected one of {', '.join(UPLOAD_KINDS)}")
    if file is None or not file.filename:
        return again(422, "field file: choose a file to upload")
    try:
        async with _api.spooled(state, file) as (path, name, data):
            result = await state.in_upload_worker(_api.ingest_upload, state, session.who, kind,
                                             path, name, data)  # fmt: skip
    except InputError as exc:  # already redacted by the parser: no identifier of the file
        return again(422, str(exc))
    except StoreConflictError:
        return again(409, "the upload conflicts with stored values")
    except HTTPException as exc:
        return again(exc.status_code, str(exc.detail))
    return _upload_page(request, state, session, kind=kind, result=result)


# ----------------------------------------------------------------------- knowledge base
@router.get("/kb")
def kb_search(request: Request, state: State, session: Signed, q: str = "") -> Response:
    """Search the knowledge base: genes, drugs, drug classes and diseases."""
    q = q.strip()[:100]
    found = _api.kb_search(q, state, session.who) if q else None
    kb = state.kb
    classes, diseases = [], []
    if found is not None:
        for c in found.classes:
            members = [d for d in kb.drugs if c in kb.drug_classes(d)]
            classes.append({"id": c, "name": kb.classes[c].name, "members": members})
        for i in found.diseases:
            d = kb.diseases[i]
            diseases.append({"id": i, "name": d.name, "oncotree": list(d.oncotree)})
    return _page(request, "kb.html", session, section="kb", q=q, found=found,
                 classes=classes, diseases=diseases)  # fmt: skip


def _drug_names(state: ServiceState, names: list[str]) -> list[dict[str, str]]:
    """Drugs of assertions, each with its page: a drug's, or a search for a class."""
    out = []
    for name in names:
        if name.startswith("class:"):
            key = name.removeprefix("class:")
            known = state.kb.classes.get(key)
            out.append({"text": f"class: {known.name if known else key}",
                        "link": f"/kb?{urlencode({'q': key})}"})  # fmt: skip
        else:
            out.append({"text": name, "link": f"/kb/drugs/{quote(name, safe='')}"})
    return out


def _kb_entry(request: Request, state: ServiceState, session: Session, kind: str,
              lookup: Callable[[], Any]) -> Response:  # fmt: skip
    """The page of one gene or drug of the knowledge base (template ``kb_entry.html``)."""
    try:
        found = lookup()
    except HTTPException as exc:
        return _error(request, session, exc.status_code, exc.detail)
    return _page(request, "kb_entry.html", session, section="kb", kind=kind, found=found,
                 classes=state.kb.classes,
                 drug_names=lambda names: _drug_names(state, names))  # fmt: skip


@router.get("/kb/genes/{gene}")
def kb_gene(request: Request, gene: str, state: State, session: Signed) -> Response:
    """A gene and the assertions naming it, with evidence levels and references."""
    return _kb_entry(
        request, state, session, "gene", lambda: _api.kb_gene(gene, state, session.who)
    )


@router.get("/kb/drugs/{drug}")
def kb_drug(request: Request, drug: str, state: State, session: Signed) -> Response:
    """A drug (members, classes, targets) and the assertions covering it."""
    return _kb_entry(
        request, state, session, "drug", lambda: _api.kb_drug(drug, state, session.who)
    )
