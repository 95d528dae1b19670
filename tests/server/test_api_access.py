"""Access control over every route: authentication, roles, and cross-site 404s."""

from __future__ import annotations

import re

import pytest
from server_helpers import Service, upload_example
from starlette.routing import Mount, Route

from oncoresist.server._app import PUBLIC_PATHS

PARAM = re.compile(r"\{(\w+)(:\w+)?\}")
BODIES = {
    "/api/v1/patients/{pid}": {"disease": "LUAD"},
    "/api/v1/patients/{pid}/consent": {
        "duo_codes": ["DUO:0000042"],
        "version": "v1",
        "consent_date": "2024-01-01",
    },
    "/api/v1/patients/lookup": {"identifier": "ILLUS-P1"},
}


def _flatten(routes, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for route in routes:
        if isinstance(route, Mount):
            continue
        included = getattr(route, "include_context", None)  # FastAPI >= 0.160 nests routers
        if included is not None:
            out += _flatten(included.included_router.routes, prefix + included.prefix)
            continue
        assert isinstance(route, Route), route
        for method in sorted(route.methods - {"HEAD"}):
            out.append((method, prefix + route.path))
    return out


def _routes(app) -> list[tuple[str, str]]:
    return _flatten(app.routes)


def _public(path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in PUBLIC_PATHS)


def _fill(path: str, values: dict[str, str]) -> str:
    return PARAM.sub(lambda m: values.get(m.group(1), "x"), path)


def _sample_of(service: Service, user: str, pid: str) -> str:
    response = service.client.get(f"/api/v1/patients/{pid}/samples", headers=service.headers(user))
    assert response.status_code == 200
    return response.json()[0]["sample"]


def _request(service: Service, method: str, path: str, headers: dict | None = None):
    template = path
    kwargs: dict = {"headers": headers or {}, "follow_redirects": False}
    body = next((b for t, b in BODIES.items() if template.endswith(t.split("/api/v1")[-1])), None)
    if method in ("POST", "PATCH", "PUT"):
        if "upload" in template or template.endswith("/interpret"):
            kwargs["files"] = {"file": ("x.csv", b"patient_id\n", "text/csv")}
            if "{kind}" in template:
                path = path.replace("{kind}", "serial")
        elif body is not None:
            kwargs["json"] = body
        else:
            kwargs["data"] = {"csrf_token": "x"}
    return service.client.request(method, path, **kwargs)


def test_the_route_table_is_what_these_tests_cover(service: Service):
    routes = _routes(service.app)
    assert len(routes) >= 25
    params = {name for _, p in routes for name, _ in PARAM.findall(p)}
    # every ID a route takes is one of these, each checked below
    assert params <= {"pid", "sid", "kind", "gene", "drug", "username", "path"}, params


def test_every_route_but_health_and_login_requires_authentication(service: Service):
    values = {"pid": service.patient, "sid": "0" * 64, "kind": "serial", "gene": "EGFR",
              "drug": "osimertinib", "username": "alice"}  # fmt: skip
    checked = 0
    for method, template in _routes(service.app):
        if _public(template):
            continue
        response = _request(service, method, _fill(template, values))
        if template.startswith("/api/"):
            assert response.status_code == 401, (method, template, response.status_code)
            assert "www-authenticate" in {k.lower() for k in response.headers}
        else:  # browser pages send the visitor to the login page
            assert response.status_code in (303, 401), (method, template)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/login")
        checked += 1
    assert checked >= 25
    # the public ones really are public
    assert service.client.get("/api/v1/health").status_code == 200


def test_a_garbage_token_is_refused_everywhere(service: Service):
    bad = {"Authorization": "Bearer not.a.token"}
    for method, template in _routes(service.app):
        if _public(template) or not template.startswith("/api/"):
            continue
        path = _fill(template, {"pid": service.patient, "kind": "serial", "gene": "EGFR"})
        assert _request(service, method, path, bad).status_code == 401, template


def test_every_route_with_a_patient_or_sample_id_hides_other_sites_patients(service: Service):
    """Bob (site B) asks for Alice's patient and sample by their real pseudonyms: 404."""
    own_b = upload_example(service, "bob")  # site B has a patient of its own
    sample_a = _sample_of(service, "alice", service.patient)
    sample_b = _sample_of(service, "bob", own_b)
    routes = [(m, t) for m, t in _routes(service.app) if "{pid}" in t or "{sid}" in t]
    assert len(routes) >= 10
    for method, template in routes:
        for pid, sid in ((service.patient, sample_a), (own_b, sample_a)):
            if pid == own_b and "{sid}" not in template:
                continue  # bob's own patient without a foreign sample is his to see
            path = _fill(template, {"pid": pid, "sid": sid})
            for user in ("bob", "rita", "root"):
                if user != "bob" and pid == own_b:
                    continue
                response = _request(service, method, path, service.headers(user))
                assert response.status_code == 404, (user, method, template, response.text)
                assert service.patient not in response.text
        # and the owner does get through (not 404) on the same route
        path = _fill(template, {"pid": service.patient, "sid": sample_a})
        response = _request(service, method, path, service.headers("alice"))
        assert response.status_code != 404, (method, template, response.text)
    # a sample of site B under site A's patient: 404 even for the owner of the patient
    path = f"/api/v1/patients/{service.patient}/samples/{sample_b}"
    assert service.client.get(path, headers=service.headers("alice")).status_code == 404


def test_a_malformed_or_unknown_id_is_the_same_404(service: Service):
    h = service.headers("alice")
    for pid in ("f" * 64, "../etc", "ILLUS-P1", service.patient.upper()):
        response = service.client.get(f"/api/v1/patients/{pid}", headers=h)
        assert response.status_code == 404
        assert response.json() == {"detail": "not found"}


def test_roles(service: Service):
    c = service.client
    assert c.get("/api/v1/admin/users", headers=service.headers("alice")).status_code == 403
    assert c.get("/api/v1/admin/users", headers=service.headers("rita")).status_code == 403
    users = c.get("/api/v1/admin/users", headers=service.headers("root")).json()
    assert {u["username"] for u in users} == {"alice", "root"}  # site A's admin: site A's
    assert all(set(u) == {"username", "role", "site", "active"} for u in users)
    assert c.get("/api/v1/research/cohort", headers=service.headers("alice")).status_code == 403
    assert c.get("/api/v1/patients", headers=service.headers("rita")).status_code == 403
    assert service.upload("rita", "serial", "x.csv", b"patient_id\n").status_code == 403
    assert service.upload("root", "serial", "x.csv", b"patient_id\n").status_code == 403


def test_a_disabled_users_token_stops_working(service: Service):
    c, h = service.client, service.headers("alice")
    assert c.get("/api/v1/patients", headers=h).status_code == 200
    response = c.patch("/api/v1/admin/users/alice", headers=service.headers("root"),
                       json={"active": False})  # fmt: skip
    assert response.status_code == 200 and response.json()["active"] is False
    assert c.get("/api/v1/patients", headers=h).status_code == 401
    assert service.login("alice").status_code == 401


def test_cookie_tokens_cannot_write_to_the_api(service: Service):
    c = service.client
    c.cookies.set("oncoresist_session", service.tokens["alice"])
    try:
        assert c.get("/api/v1/patients").status_code == 200  # reads: the browser's pages
        response = c.post(f"/api/v1/patients/{service.patient}/consent",
                          json=BODIES["/api/v1/patients/{pid}/consent"])  # fmt: skip
        assert response.status_code == 401  # writes need the Authorization header (CSRF)
    finally:
        c.cookies.clear()


@pytest.mark.parametrize("user", ["alice", "bob"])
def test_patient_lists_are_per_site(service: Service, user: str):
    listed = service.client.get("/api/v1/patients", headers=service.headers(user)).json()
    pids = [p["pseudonym"] for p in listed["patients"]]
    assert (service.patient in pids) == (user == "alice")
    assert listed["site"] == {"alice": "SITEA", "bob": "SITEB"}[user]
