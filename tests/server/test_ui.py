"""The browser interface through the test client: sessions, pages, forms, CSRF and CSP.

One service per module (a fresh SQLite store); site A's clinician uploads the
illustrative EGFR patient through the upload form itself.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("jinja2")

from fastapi.testclient import TestClient

from oncoresist.server import ServerSettings, create_app
from oncoresist.server._app import COOKIE
from oncoresist.server._users import add_user

PASSWORD = "correct horse battery"
EXAMPLES = Path(str(resources.files("oncoresist") / "examples"))
RAW_IDS = ("ILLUS-P1", "ILLUS-P9", "ILLUS-P1-D0")
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
_PATIENT = re.compile(r'href="/patients/([0-9a-f]{64})"')


class UI:
    """The app, a client signed in as site A's clinician, and the uploaded patient."""

    def __init__(self, app, client: TestClient, patient: str) -> None:
        self.app = app
        self.client = client
        self.patient = patient

    @property
    def state(self):
        return self.app.state.oncoresist

    def fresh(self) -> TestClient:
        return TestClient(self.app)

    def csrf(self, client: TestClient | None = None) -> str:
        page = (client or self.client).get("/upload")
        return _CSRF.search(page.text).group(1)


def sign_in(client: TestClient, user: str = "alice", password: str = PASSWORD):
    csrf = _CSRF.search(client.get("/login").text).group(1)  # the login form's CSRF token
    return client.post("/login", data={"username": user, "password": password,
                                       "csrf_token": csrf}, follow_redirects=False)  # fmt: skip


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> UI:
    tmp = tmp_path_factory.mktemp("ui")
    settings = ServerSettings(db=f"sqlite:///{tmp / 's.sqlite'}", key=bytes(range(32)),
                              audit_log=tmp / "audit.log")  # fmt: skip
    app = create_app(settings)
    engine = app.state.oncoresist.store.engine
    add_user(engine, "alice", PASSWORD, role="clinician", site="SITEA")
    add_user(engine, "bob", PASSWORD, role="clinician", site="SITEB")
    client = TestClient(app)
    assert sign_in(client).status_code == 303
    csrf = _CSRF.search(client.get("/upload").text).group(1)
    for kind, name in (("serial", "egfr_ctdna_series.csv"), ("therapy", "egfr_ctdna_therapy.csv"),
                       ("events", "egfr_ctdna_events.csv")):  # fmt: skip
        data = (EXAMPLES / name).read_bytes()
        response = client.post("/upload", data={"kind": kind, "csrf_token": csrf},
                               files={"file": (name, data, "text/csv")})  # fmt: skip
        assert response.status_code == 200, response.text
        assert 'id="upload-result"' in response.text
    patient = _PATIENT.search(response.text).group(1)
    assert app.state.oncoresist.limits.wait(120)  # the pages' limits of detection are in
    return UI(app, client, patient)


def _no_raw_ids(html: str) -> None:
    for raw in RAW_IDS:
        assert raw not in html


# ----------------------------------------------------------------------- sessions
@pytest.mark.parametrize("path", ["/", "/upload", "/kb", "/kb?q=egfr", "/kb/genes/EGFR",
                                  "/kb/drugs/osimertinib", "/patients/{pid}"])  # fmt: skip
def test_pages_send_strangers_to_login(ui: UI, path: str) -> None:
    response = ui.fresh().get(path.format(pid=ui.patient), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


def test_forms_send_strangers_to_login(ui: UI) -> None:
    client = ui.fresh()
    for path in ("/upload", f"/patients/{ui.patient}/consent", "/logout"):
        response = client.post(path, data={"csrf_token": "0" * 64}, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_a_forged_cookie_is_no_session(ui: UI) -> None:
    client = ui.fresh()
    client.cookies.set(COOKIE, "e30.e30.forged")
    response = client.get("/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_login_sets_a_strict_httponly_cookie(ui: UI) -> None:
    client = ui.fresh()
    form = client.get("/login")
    assert form.status_code == 200
    assert '<label for="username">' in form.text and '<label for="password">' in form.text
    response = sign_in(client)
    assert (response.status_code, response.headers["location"]) == (303, "/")
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert cookie.startswith(f"{COOKIE}=ey")
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=strict"
    assert attributes["path"] == "Path=/"
    assert attributes["max-age"] == f"Max-Age={ui.state.settings.token_seconds}"
    assert "secure" not in attributes  # settings.secure_cookies is off in this test
    assert client.get("/").status_code == 200


def test_a_wrong_password_is_401_and_says_so(ui: UI) -> None:
    response = sign_in(ui.fresh(), password="not the password")
    assert response.status_code == 401
    assert "wrong user name or password" in response.text
    assert 'role="alert"' in response.text
    assert "set-cookie" not in response.headers


def test_secure_cookies_and_the_login_throttle(tmp_path: Path) -> None:
    settings = ServerSettings(db=f"sqlite:///{tmp_path / 's.sqlite'}", key=bytes(range(32)),
                              audit_log=tmp_path / "audit.log", secure_cookies=True,
                              login_limit=2)  # fmt: skip
    app = create_app(settings)
    add_user(app.state.oncoresist.store.engine, "carol", PASSWORD, role="clinician", site="S")
    client = TestClient(app, base_url="https://testserver")  # Secure cookies need HTTPS
    response = sign_in(client, "carol")
    assert response.status_code == 303
    assert "secure" in [p.strip().lower() for p in response.headers["set-cookie"].split(";")]
    for _ in range(2):
        assert sign_in(client, "carol", "wrong password!").status_code == 401
    throttled = sign_in(client, "carol")  # even the right password, until the window moves on
    assert throttled.status_code == 429
    assert "too many failed logins; try again later" in throttled.text
    assert int(throttled.headers["retry-after"]) >= 1
    assert "set-cookie" not in throttled.headers


def test_logout_needs_the_csrf_token_and_clears_the_cookie(ui: UI) -> None:
    client = ui.fresh()
    sign_in(client)
    assert client.post("/logout", data={"csrf_token": "0" * 64}).status_code == 403
    response = client.post("/logout", data={"csrf_token": ui.csrf(client)},
                           follow_redirects=False)  # fmt: skip
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert re.search(rf'{COOKIE}=""?;.*Max-Age=0', response.headers["set-cookie"])


# ----------------------------------------------------------------------- pages
def test_patient_list_shows_the_alert_badge(ui: UI) -> None:
    response = ui.client.get("/")
    assert response.status_code == 200
    html = response.text
    assert f'href="/patients/{ui.patient}"' in html
    assert f"<code>{ui.patient[:12]}</code>" in html
    assert re.search(r'class="badge badge-alert"><span aria-hidden="true">⚠</span> 1 resistance '
                     r'alert<', html)  # fmt: skip
    assert '<th scope="col">Resistance alerts</th>' in html
    _no_raw_ids(html)


def test_patient_page_has_chart_alerts_and_verdicts(ui: UI) -> None:
    response = ui.client.get(f"/patients/{ui.patient}")
    assert response.status_code == 200
    html = response.text
    assert re.search(r'<svg[^>]* id="trajectory-chart"', html)
    assert re.search(r'<svg[^>]* id="therapy-timeline"', html)
    alerts = html[html.index('id="alert-table"') :]
    alerts = alerts[: alerts.index("</table>")]
    # the series-level test (2 % budget per patient) first calls C797S on day 238, 92 days
    # before the progression recorded on day 330
    assert "EGFR C797S" in alerts and "resistant" in alerts and "92 days" in alerts
    assert "emerging resistance" in alerts and 'data-category="emerging_resistance"' in alerts
    verdicts = html[html.index('id="verdict-table"') :]
    verdicts = verdicts[: verdicts.index("</table>")]
    assert 'data-drug="osimertinib" data-verdict="resistant"' in verdicts
    assert "PMID:25939061" in verdicts  # the decisive C797S assertion's reference
    assert "on target" in verdicts  # the mechanism, in words
    # the chart's text fallback: one row per draw and tracked variant (9 draws x 4)
    assert html.count('<tr data-series="') == 36
    assert 'data-series="EGFR C797S" data-day="182"' in html
    assert f'href="/api/v1/patients/{ui.patient}/report"' in html
    assert 'name="csrf_token"' in html and 'value="DUO:0000042"' in html
    _no_raw_ids(html)


def test_the_chart_data_matches_the_api(ui: UI) -> None:
    html = ui.client.get(f"/patients/{ui.patient}").text
    detail = ui.client.get(f"/api/v1/patients/{ui.patient}").json()  # the cookie reads the API
    c797s = next(t for t in detail["trajectories"] if t["alteration"] == "EGFR C797S")
    rows = re.findall(r'<tr data-series="EGFR C797S" data-day="(-?\d+)" data-date="[^"]+" '
                      r'data-vaf="([^"]+)" data-state="(\w+)"', html)  # fmt: skip
    assert [(int(d), float(v), s) for d, v, s in rows] == [
        (p["day"], pytest.approx(p["vaf"], rel=1e-12), p["state"]) for p in c797s["points"]
    ]


def test_another_sites_patient_is_404(ui: UI) -> None:
    client = ui.fresh()
    sign_in(client, "bob")
    response = client.get(f"/patients/{ui.patient}")
    assert response.status_code == 404
    assert "EGFR" not in response.text and ui.patient not in response.text
    assert client.get("/patients/not-a-pseudonym").status_code == 404
    assert ui.patient not in client.get("/").text


def test_consent_needs_the_csrf_token(ui: UI) -> None:
    form = {"duo_codes": ["DUO:0000042", "DUO:0000046"], "version": "v3",
            "consent_date": "2024-05-01"}  # fmt: skip
    path = f"/patients/{ui.patient}/consent"
    assert ui.client.post(path, data=form).status_code == 403
    assert ui.client.post(path, data=form | {"csrf_token": "f" * 64}).status_code == 403
    other = ui.fresh()
    sign_in(other)  # a session's token is not another session's
    assert ui.client.post(path, data=form | {"csrf_token": ui.csrf(other)}).status_code == 403
    assert ui.client.get(f"/api/v1/patients/{ui.patient}/consent").json() == []

    response = ui.client.post(path, data=form | {"csrf_token": ui.csrf()}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/patients/{ui.patient}?saved=consent#consent"
    page = ui.client.get(response.headers["location"])
    assert "Consent recorded." in page.text
    assert "GRU: general research use; NCU: non-commercial use only" in page.text
    history = ui.client.get(f"/api/v1/patients/{ui.patient}/consent").json()
    assert [(c["scope"], c["version"], c["recorded_by"]) for c in history] == [
        ("research", "v3", "alice")
    ]


def test_a_bad_consent_form_is_422_with_the_field(ui: UI) -> None:
    path = f"/patients/{ui.patient}/consent"
    response = ui.client.post(path, data={"version": "v4", "consent_date": "May 1st",
                                          "csrf_token": ui.csrf()})  # fmt: skip
    assert response.status_code == 422
    assert "field consent_date" in response.text
    assert "May 1st" not in response.text  # the message, never the value sent


def test_a_malformed_upload_shows_line_and_field_and_stores_nothing(ui: UI) -> None:
    lines = (EXAMPLES / "egfr_ctdna_series.csv").read_text().replace("ILLUS-P1", "ILLUS-P9")
    rows = lines.splitlines()
    rows[3] = rows[3].replace(",0,3311,", ",99999,3311,")  # line 4: alt_reads above depth
    before = len(ui.state.store.ingests())
    response = ui.client.post(
        "/upload", data={"kind": "serial", "csrf_token": ui.csrf()},
        files={"file": ("series.csv", "\n".join(rows) + "\n", "text/csv")},
    )  # fmt: skip
    assert response.status_code == 422
    html = response.text
    box = html[html.index('id="upload-error"') :]
    box = box[: box.index("</div>")]
    assert 'role="alert"' in box and 'tabindex="-1"' in box
    assert "series.csv line 4, field alt_reads: alt_reads 99999 is more than the depth 3311" in box
    assert len(ui.state.store.ingests()) == before
    assert html.count('href="/patients/') == 0
    assert len(_PATIENT.findall(ui.client.get("/").text)) == 1
    _no_raw_ids(html)


def test_uploads_need_the_csrf_token_and_a_kind(ui: UI) -> None:
    data = (EXAMPLES / "egfr_ctdna_events.csv").read_bytes()
    files = {"file": ("events.csv", data, "text/csv")}
    assert ui.client.post("/upload", data={"kind": "events"}, files=files).status_code == 403
    response = ui.client.post("/upload", data={"kind": "vcf", "csrf_token": ui.csrf()},
                              files=files)  # fmt: skip
    assert response.status_code == 422 and "field kind" in response.text


def test_a_repeated_upload_adds_nothing(ui: UI) -> None:
    data = (EXAMPLES / "egfr_ctdna_events.csv").read_bytes()
    response = ui.client.post("/upload", data={"kind": "events", "csrf_token": ui.csrf()},
                              files={"file": ("events.csv", data, "text/csv")})  # fmt: skip
    assert response.status_code == 200
    assert "This file was uploaded before; nothing was added." in response.text
    assert f'href="/patients/{ui.patient}"' in response.text


def test_kb_search_and_pages(ui: UI) -> None:
    found = ui.client.get("/kb", params={"q": "osim"})
    assert found.status_code == 200
    assert 'href="/kb/drugs/osimertinib"' in found.text
    assert 'role="search"' in found.text and '<label for="kb-q">' in found.text
    classes = ui.client.get("/kb", params={"q": "egfr_tki_3g"}).text
    assert "EGFR" in classes and 'href="/kb/drugs/osimertinib"' in classes
    gene = ui.client.get("/kb/genes/EGFR")
    assert gene.status_code == 200
    table = gene.text[gene.text.index('id="assertion-table"') :]
    assert "EGFR-022" in table and "PMID:25939061" in table and "Evidence level" in table
    drug = ui.client.get("/kb/drugs/Tagrisso")  # a brand name resolves to the drug
    assert drug.status_code == 200 and "<h1>osimertinib</h1>" in drug.text
    assert 'href="/kb/genes/EGFR"' in drug.text
    assert ui.client.get("/kb/genes/NOTAGENE").status_code == 404
    assert "Nothing in the knowledge base matches." in ui.client.get("/kb?q=zzzzqqq").text


def test_static_files_are_served(ui: UI) -> None:
    script = ui.fresh().get("/static/chart.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "trajectory-chart" in script.text
    assert ui.fresh().get("/static/ui.css").status_code == 200


# ----------------------------------------------------------------------- CSP, a11y
class _Page(HTMLParser):
    """Scripts, inline handlers, form controls and their labels of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.script_text = ""
        self.handlers: list[str] = []
        self.controls: list[tuple[str, str | None]] = []
        self.labels: set[str] = set()
        self.in_script = False
        self.skip_link = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.handlers += [k for k in found if k.startswith("on")]
        if tag == "script":
            self.scripts.append(found)
            self.in_script = True
        if tag in ("input", "select", "textarea") and found.get("type") != "hidden":
            self.controls.append((tag, found.get("id")))
        if tag == "label" and found.get("for"):
            self.labels.add(found["for"])
        if tag == "a" and found.get("href") == "#main":
            self.skip_link = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script:
            self.script_text += data


def test_no_inline_script_and_labelled_controls(ui: UI) -> None:
    paths = ["/", f"/patients/{ui.patient}", "/upload", "/kb?q=egfr", "/kb/genes/EGFR",
             "/kb/drugs/osimertinib", "/patients/" + "0" * 64]  # fmt: skip
    pages = [ui.fresh().get("/login")] + [ui.client.get(p) for p in paths]
    for response in pages:
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page = _Page()
        page.feed(response.text)
        assert page.handlers == [], response.url
        assert page.script_text.strip() == "", response.url
        assert all((s.get("src") or "").startswith("/static/") for s in page.scripts)
        assert page.skip_link and 'id="main"' in response.text
        for tag, ident in page.controls:
            assert ident and ident in page.labels, (response.url, tag, ident)
