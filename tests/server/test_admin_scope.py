"""Site-scoped administration: a site's admin manages that site's accounts only, and reads
no patient data through the admin role (issue 17, finding 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from server_helpers import PASSWORD, Service, upload_example
from test_api_access import _fill, _public, _request, _routes, _sample_of

from oncoresist.errors import InputError
from oncoresist.server._users import add_user, get_user, list_users
from oncoresist.store import _schema as s

USERS = "/api/v1/admin/users"


def _events(service: Service, action: str) -> list[dict]:
    lines = Path(service.settings.audit_log).read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["action"] == action]


def _new_user(service: Service, admin: str, **body):
    body = {"password": PASSWORD, "role": "clinician"} | body
    return service.client.post(USERS, headers=service.headers(admin), json=body)


def _site_b_admin(service: Service) -> str:
    """Site B's first admin, made on the host (the store's credentials), then signed in."""
    add_user(service.app.state.oncoresist.store.engine, "bea", PASSWORD, role="admin",
             site="SITEB")  # fmt: skip
    response = service.login("bea")
    assert response.status_code == 200, response.text
    service.tokens["bea"] = response.json()["access_token"]
    return "bea"


def test_an_admin_cannot_create_an_account_at_another_site(service: Service):
    """The finding: site A's admin made a clinician of site B with a chosen password and
    read site B's patients through it."""
    own_b = upload_example(service, "bob")
    response = _new_user(service, "root", username="mallory", site="SITEB")
    assert response.status_code == 403, response.text
    detail = response.json()["detail"]
    assert "site 'SITEB'" in detail and "'SITEA'" in detail  # located: which site, and why
    assert get_user(service.app.state.oncoresist.store.engine, "mallory") is None
    assert service.login("mallory").status_code == 401
    # an admin of site A, too, is refused at site B
    assert _new_user(service, "root", username="mallory", role="admin",
                     site="SITEB").status_code == 403  # fmt: skip
    refused = _events(service, "user_add_refused")
    assert [(e["actor"], e["detail"]["site"]) for e in refused] == [("root", "SITEB")] * 2
    # and site B's patients stay out of site A's admin's reach
    response = service.client.get(f"/api/v1/patients/{own_b}", headers=service.headers("root"))
    assert response.status_code == 404


def test_an_admin_creates_accounts_of_their_own_site(service: Service):
    made = _new_user(service, "root", username="carl")  # no site: the admin's own
    assert made.status_code == 201, made.text
    assert made.json() == {"username": "carl", "role": "clinician", "site": "SITEA",
                           "active": True}  # fmt: skip
    explicit = _new_user(service, "root", username="dora", role="admin", site="SITEA")
    assert explicit.status_code == 201 and explicit.json()["site"] == "SITEA"
    assert service.login("carl").status_code == 200
    added = _events(service, "user_added")
    assert [(e["detail"]["user"], e["detail"]["site"]) for e in added] == [
        ("carl", "SITEA"), ("dora", "SITEA")]  # fmt: skip


def test_the_other_sites_admin_is_the_one_who_creates_its_accounts(service: Service):
    bea = _site_b_admin(service)
    response = _new_user(service, bea, username="bruno", site="SITEB")
    assert response.status_code == 201, response.text
    assert response.json()["site"] == "SITEB"
    assert _new_user(service, bea, username="ali", site="SITEA").status_code == 403
    listed = service.client.get(USERS, headers=service.headers(bea)).json()
    assert {u["username"] for u in listed} == {"bea", "bob", "bruno"}


def test_a_site_admin_makes_no_researcher(service: Service):
    """A researcher's cohort spans every site: such accounts are made on the host."""
    response = _new_user(service, "root", username="rex", role="researcher")
    assert response.status_code == 403
    assert "role 'researcher'" in response.json()["detail"]
    assert get_user(service.app.state.oncoresist.store.engine, "rex") is None


def test_an_admin_lists_only_their_sites_accounts(service: Service):
    listed = service.client.get(USERS, headers=service.headers("root")).json()
    assert {(u["username"], u["site"]) for u in listed} == {("alice", "SITEA"), ("root", "SITEA")}


@pytest.mark.parametrize("target", ["bob", "rita", "nobody"])
def test_an_admin_cannot_enable_or_disable_another_sites_account(service: Service, target):
    """Another site's account (bob), a researcher (no site) and no account: the same 404."""
    engine = service.app.state.oncoresist.store.engine
    for active in (False, True):
        response = service.client.patch(f"{USERS}/{target}", headers=service.headers("root"),
                                        json={"active": active})  # fmt: skip
        assert response.status_code == 404, response.text
        assert response.json() == {"detail": "not found"}
    if target != "nobody":
        assert get_user(engine, target).active  # untouched
        who = "bob" if target == "bob" else "rita"
        assert service.client.get("/api/v1/me", headers=service.headers(who)).status_code == 200
    denied = [e for e in _events(service, "access_denied") if e["actor"] == "root"]
    assert [e["detail"]["user"] for e in denied] == [target, target]
    # and site B's own admin can disable bob
    if target == "bob":
        bea = _site_b_admin(service)
        response = service.client.patch(f"{USERS}/bob", headers=service.headers(bea),
                                        json={"active": False})  # fmt: skip
        assert response.status_code == 200 and response.json()["active"] is False
        assert service.client.get("/api/v1/me", headers=service.headers("bob")).status_code == 401


def test_every_admin_belongs_to_a_site(service: Service):
    engine = service.app.state.oncoresist.store.engine
    with pytest.raises(InputError, match="one site; give --site") as info:
        add_user(engine, "boss", PASSWORD, role="admin")
    assert info.value.field == "site"
    # an admin made before sites were required: signs in, manages nothing on the web
    with engine.begin() as connection:
        connection.execute(sa.update(s.users).where(s.users.c.username == "root")
                           .values(site=None))  # fmt: skip
    token = service.login("root").json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    eve = {"username": "eve", "password": PASSWORD, "role": "clinician", "site": "SITEB"}
    for method, body in (("GET", None), ("POST", eve)):
        response = service.client.request(method, USERS, headers=headers, json=body)
        assert response.status_code == 403
        assert "oncoresist users add NAME --role admin --site SITE" in response.json()["detail"]
    response = service.client.patch(f"{USERS}/bob", headers=headers, json={"active": False})
    assert response.status_code == 403
    assert get_user(engine, "eve") is None and get_user(engine, "bob").active
    assert {u.username for u in list_users(engine)} == {"alice", "bob", "rita", "root"}


_NOT_PATIENT_DATA = ("/api/v1/admin/", "/api/v1/auth/", "/api/v1/me", "/api/v1/openapi.json",
                     "/api/v1/kb/", "/api/v1/interpret", "/kb", "/login", "/logout",
                     "/static")  # fmt: skip


def test_an_admin_reads_no_patient_data_on_any_route(service: Service):
    """Site A's own admin, on every route but accounts, identity and the knowledge base:
    refused (403 for a role, 404 for a patient), never a pseudonym of the site."""
    sample = _sample_of(service, "alice", service.patient)
    checked = []
    for method, template in _routes(service.app):
        if _public(template) or template.startswith(_NOT_PATIENT_DATA):
            continue
        path = _fill(template, {"pid": service.patient, "sid": sample, "kind": "serial"})
        response = _request(service, method, path, service.headers("root"))
        if template.startswith("/api/"):
            assert response.status_code in (403, 404), (method, template, response.text)
        else:  # a browser page: a refusal, or a page with nothing of the site's patients
            assert response.status_code in (200, 303, 403, 404), (method, template)
        assert service.patient not in response.text, (method, template)
        assert sample not in response.text, (method, template)
        checked.append(template)
    wanted = {"/api/v1/patients", "/api/v1/patients/{pid}", "/api/v1/patients/lookup",
              "/api/v1/alerts", "/api/v1/research/cohort", "/patients/{pid}"}  # fmt: skip
    assert wanted <= set(checked)
    # the same routes, as the clinician, do show the patient (the check above is not vacuous)
    page = service.client.get(f"/api/v1/patients/{service.patient}",
                              headers=service.headers("alice"))  # fmt: skip
    assert page.status_code == 200 and service.patient in page.text
