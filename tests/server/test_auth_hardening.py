"""Issue 17, findings 3 and 5: the login throttle is no lockout tool, and tokens and sessions
end when they should.

Throttling is per account and address pair, per account and per address, with exponential
back-off, in the store (so every worker process counts the same failures); X-Forwarded-For
counts only from a trusted proxy. Tokens have a server-side lifetime cap, a session id that
logout revokes, their own signing key, a login form with a CSRF token and sliding renewal
up to an absolute maximum.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from server_helpers import PASSWORD, TEST_KEY, make_service, read_files

from oncoresist.errors import InputError
from oncoresist.server import ServerSettings, create_app, issue_token
from oncoresist.server._app import COOKIE
from oncoresist.server._auth import LoginThrottle, client_address

ATTACKER = ("203.0.113.9", 40000)
NURSE = ("198.51.100.7", 40001)
PROXY = ("10.0.0.5", 443)
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def _login(client: TestClient, user: str, password: str, **headers: str):
    return client.post("/api/v1/auth/login", json={"username": user, "password": password},
                       headers=headers)  # fmt: skip


def _me(client: TestClient, token: str) -> int:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


def _sign_in(client: TestClient, user: str = "alice", password: str = PASSWORD):
    csrf = _CSRF.search(client.get("/login").text).group(1)
    return client.post("/login", data={"username": user, "password": password,
                                       "csrf_token": csrf}, follow_redirects=False)  # fmt: skip


# ------------------------------------------------------------------ finding 3: throttle
def test_a_correct_password_from_another_address_is_not_locked_out(tmp_path: Path):
    service = make_service(tmp_path)
    attacker = TestClient(service.app, client=ATTACKER)
    statuses = [_login(attacker, "alice", "wrong password!").status_code for _ in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    # the account is not locked: alice signs in from her own address
    nurse = TestClient(service.app, client=NURSE)
    assert _login(nurse, "alice", PASSWORD).status_code == 200
    # nor is every account of the attacker's address: bob (same address) still gets in
    assert _login(attacker, "bob", PASSWORD).status_code == 200


def test_two_instances_sharing_one_store_see_the_same_failure_count(tmp_path: Path):
    service = make_service(tmp_path)
    other = TestClient(create_app(service.settings), client=ATTACKER)
    first = TestClient(service.app, client=ATTACKER)
    for client in (first, other) * 5:
        assert _login(client, "alice", "wrong password!").status_code == 401
    # ten failures in all, five through each worker: the eleventh is refused by both
    assert _login(first, "alice", "wrong password!").status_code == 429
    assert _login(other, "alice", PASSWORD).status_code == 429


def test_back_off_doubles_and_a_success_clears_the_pair(tmp_path: Path):
    service = make_service(tmp_path)
    throttle = LoginThrottle(service.app.state.oncoresist.store.engine, secret=bytes(32),
                             limit=3, window=60.0, cap=1000.0)  # fmt: skip
    t = 1_000_000.0
    for i in range(3):
        assert throttle.wait("ana", "a1", now=t + i) == 0.0
        throttle.failed("ana", "a1", now=t + i)
    assert throttle.wait("ana", "a1", now=t + 2) == pytest.approx(60.0)
    assert throttle.wait("ana", "a2", now=t + 2) == 0.0  # another address
    assert throttle.wait("bo", "a1", now=t + 2) == 0.0  # another account
    throttle.failed("ana", "a1", now=t + 70)  # after the first block: twice as long
    assert throttle.wait("ana", "a1", now=t + 70) == pytest.approx(120.0)
    throttle.failed("ana", "a1", now=t + 200)
    assert throttle.wait("ana", "a1", now=t + 200) == pytest.approx(240.0)
    for k in range(5):
        throttle.failed("ana", "a1", now=t + 500 + 1000 * k)
    assert throttle.wait("ana", "a1", now=t + 4500) == pytest.approx(1000.0)  # the cap
    throttle.succeeded("ana", "a1", now=t + 9000)
    assert throttle.wait("ana", "a1", now=t + 9000) == 0.0


def test_account_and_address_limits_spare_known_addresses(tmp_path: Path):
    service = make_service(tmp_path)
    throttle = LoginThrottle(service.app.state.oncoresist.store.engine, secret=bytes(32),
                             limit=2, window=60.0, wide_limit=4)  # fmt: skip
    t = 2_000_000.0
    throttle.succeeded("ana", "home", now=t)  # ana signs in from home: a known address
    for i, address in enumerate(("x1", "x2", "x3", "x4")):  # spread over four addresses
        throttle.failed("ana", address, now=t + i)
    assert throttle.wait("ana", "x5", now=t + 5) > 0  # a new address waits: account back-off
    assert throttle.wait("ana", "home", now=t + 5) == 0.0  # ana at home does not
    for i, account in enumerate(("u1", "u2", "u3", "u4")):  # spraying from one address
        throttle.failed(account, "nat", now=t + i)
    assert throttle.wait("u5", "nat", now=t + 5) > 0
    throttle.succeeded("carl", "nat", now=t - 10)
    assert throttle.wait("carl", "nat", now=t + 5) == 0.0


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(tmp_path: Path):
    assert client_address("10.0.0.5", "198.51.100.1, 10.0.0.6", ("10.0.0.0/24",)) == (
        "198.51.100.1"
    )
    # the client's own entries left of the proxy's are not believed
    assert client_address("10.0.0.5", "1.2.3.4, 198.51.100.1", ("10.0.0.5",)) == "198.51.100.1"
    assert client_address("203.0.113.9", "198.51.100.1", ("10.0.0.5",)) == "203.0.113.9"
    assert client_address("10.0.0.5", None, ("10.0.0.5",)) == "10.0.0.5"
    assert client_address("10.0.0.5", "not an address", ("10.0.0.5",)) == "10.0.0.5"

    trusted = make_service(tmp_path / "t", trusted_proxies=("10.0.0.5",))
    proxy = TestClient(trusted.app, client=PROXY)
    for _ in range(10):
        _login(proxy, "alice", "wrong password!", **{"X-Forwarded-For": "203.0.113.9"})
    via = {"X-Forwarded-For": "203.0.113.9"}
    assert _login(proxy, "alice", PASSWORD, **via).status_code == 429
    via = {"X-Forwarded-For": "198.51.100.7"}  # another client behind the same proxy
    assert _login(proxy, "alice", PASSWORD, **via).status_code == 200

    untrusted = make_service(tmp_path / "u")  # no trusted proxy: the header is ignored
    sender = TestClient(untrusted.app, client=ATTACKER)
    for i in range(10):
        _login(sender, "alice", "wrong password!", **{"X-Forwarded-For": f"198.51.100.{i}"})
    assert _login(sender, "alice", PASSWORD, **{"X-Forwarded-For": "192.0.2.1"}).status_code == 429
    with pytest.raises(InputError, match="trusted_proxies"):
        ServerSettings(key=TEST_KEY, trusted_proxies=("not-an-address",))


# ------------------------------------------------------------------ finding 5: tokens
def test_a_logged_out_token_is_refused(tmp_path: Path):
    service = make_service(tmp_path)
    client = service.client
    token = _login(client, "alice", PASSWORD).json()["access_token"]
    renewed = client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {token}"})
    assert renewed.status_code == 200
    again = renewed.json()["access_token"]
    assert _me(client, token) == 200 and _me(client, again) == 200
    out = client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert out.status_code == 204
    assert _me(client, token) == 401 and _me(client, again) == 401  # the whole session
    assert _me(client, service.tokens["alice"]) == 200  # another session of alice is not
    # the browser's logout revokes its token too
    browser = TestClient(service.app)
    assert _sign_in(browser).status_code == 303
    cookie = browser.cookies[COOKIE]
    csrf = _CSRF.search(browser.get("/upload").text).group(1)
    assert browser.post("/logout", data={"csrf_token": csrf}).status_code == 200
    assert _me(client, cookie) == 401


def test_a_one_year_token_is_refused(tmp_path: Path):
    service = make_service(tmp_path)
    state = service.app.state.oncoresist
    year = issue_token("alice", site="SITEA", role="clinician", secret=state.token_secret,
                       seconds=365 * 86400)  # fmt: skip
    assert _me(service.client, year) == 401
    fine = issue_token("alice", site="SITEA", role="clinician", secret=state.token_secret,
                       seconds=60)  # fmt: skip
    assert _me(service.client, fine) == 200


def test_the_signing_key_is_not_the_pseudonym_key(tmp_path: Path):
    token_key = bytes(range(200, 232))
    first = make_service(tmp_path / "a", token_key=token_key)
    token = first.tokens["alice"]
    # another pseudonym key, the same signing key: the token holds
    other_pseudonyms = ServerSettings(db=first.settings.db, key=bytes(range(1, 33)),
                                      audit_log=tmp_path / "b.log",
                                      token_key=token_key)  # fmt: skip
    assert _me(TestClient(create_app(other_pseudonyms)), token) == 200
    # the same pseudonym key, another signing key: it does not
    other_signing = ServerSettings(db=first.settings.db, key=TEST_KEY,
                                   audit_log=tmp_path / "c.log",
                                   token_key=bytes(range(32)))  # fmt: skip
    assert _me(TestClient(create_app(other_signing)), token) == 401
    with pytest.raises(InputError, match="token_key"):
        ServerSettings(key=TEST_KEY, token_key=TEST_KEY)
    # without one, a random key is made once beside the audit log and kept (0600)
    second = make_service(tmp_path / "d")
    key_file = tmp_path / "d" / "token.key"
    assert key_file.exists() and key_file.stat().st_mode & 0o077 == 0
    again = TestClient(create_app(second.settings))
    assert _me(again, second.tokens["alice"]) == 200


def test_login_without_the_csrf_token_is_refused(tmp_path: Path):
    service = make_service(tmp_path)
    browser = TestClient(service.app)
    bare = browser.post("/login", data={"username": "alice", "password": PASSWORD},
                        follow_redirects=False)  # fmt: skip
    assert bare.status_code == 403 and COOKIE not in bare.headers.get("set-cookie", "")
    # a token from another browser's form is no good either (it is bound to that browser)
    stranger = TestClient(service.app)
    csrf = _CSRF.search(stranger.get("/login").text).group(1)
    browser.get("/login")
    forged = browser.post("/login", data={"username": "alice", "password": PASSWORD,
                                          "csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert forged.status_code == 403
    assert _sign_in(browser).status_code == 303


def test_an_active_session_is_renewed_and_an_idle_one_expires(tmp_path: Path):
    service = make_service(tmp_path, token_seconds=600, session_max_seconds=3600)
    state = service.app.state.oncoresist
    t0 = 1_900_000_000.0
    state.clock = lambda: t0
    browser = TestClient(service.app)
    assert _sign_in(browser).status_code == 303
    first = browser.cookies[COOKIE]
    state.clock = lambda: t0 + 100  # early in the token's life: no renewal
    response = browser.get("/", follow_redirects=False)
    assert response.status_code == 200 and "set-cookie" not in response.headers
    state.clock = lambda: t0 + 400  # past half its life: renewed
    response = browser.get("/", follow_redirects=False)
    assert response.status_code == 200 and COOKIE in response.headers["set-cookie"]
    assert browser.cookies[COOKIE] != first
    state.clock = lambda: t0 + 900  # the first token has expired, the renewed one holds
    assert _me(service.client, first) == 401
    assert browser.get("/", follow_redirects=False).status_code == 200
    # active every 500 s: renewed, but never past the absolute maximum (12 h by default)
    for t in range(1400, 3600, 500):
        state.clock = lambda t=t: t0 + t
        assert browser.get("/", follow_redirects=False).status_code == 200, t
    state.clock = lambda: t0 + 3601
    assert browser.get("/", follow_redirects=False).status_code == 303
    # idle: a new session, left alone past its token's life, ends
    assert _sign_in(browser).status_code == 303
    state.clock = lambda: t0 + 3601 + 601
    assert browser.get("/", follow_redirects=False).status_code == 303
    assert ServerSettings().session_max_seconds == 12 * 3600


def test_a_refreshed_api_token_keeps_the_session_maximum(tmp_path: Path):
    service = make_service(tmp_path, token_seconds=600, session_max_seconds=900)
    state = service.app.state.oncoresist
    t0 = 1_900_000_000.0
    state.clock = lambda: t0
    token = _login(service.client, "alice", PASSWORD).json()["access_token"]
    state.clock = lambda: t0 + 500
    body = service.client.post("/api/v1/auth/refresh",
                               headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
    assert body["expires_in"] == 400  # capped at the session's end, not 600 s on
    state.clock = lambda: t0 + 899
    assert _me(service.client, body["access_token"]) == 200
    state.clock = lambda: t0 + 901
    assert _me(service.client, body["access_token"]) == 401


def test_store_holds_no_raw_address_or_account_in_the_throttle(tmp_path: Path):
    service = make_service(tmp_path)
    attacker = TestClient(service.app, client=ATTACKER)
    _login(attacker, "alice", "wrong password!")
    for data in read_files(tmp_path.glob("store.sqlite*")):
        assert ATTACKER[0].encode() not in data
        assert b"ip:" not in data
