"""HTTPS: the service's own TLS, or a proxy's; ``Secure`` cookies and HSTS (RFC 6797).

Issue 17, finding 8: the service had no TLS option, no way to turn on ``Secure`` cookies from
``oncoresist serve``, and no ``Strict-Transport-Security`` header. The certificates here are
self-signed, made with the ``openssl`` command for ``localhost`` and ``127.0.0.1``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("jinja2")

from fastapi.testclient import TestClient

from oncoresist.errors import InputError
from oncoresist.server import ServerSettings, create_app
from oncoresist.server._settings import ENVIRONMENT, settings_from_env
from oncoresist.server._users import add_user

KEY = bytes(range(100, 132))
PASSWORD = "correct horse battery staple"
YEAR = "max-age=31536000; includeSubDomains"
HSTS = "strict-transport-security"
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


# ------------------------------------------------------------------------------- fixtures
def _pem_pair(folder: Path, name: str, *, password: str | None = None) -> tuple[Path, Path]:
    """A self-signed P-256 certificate and its key, made by the ``openssl`` command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)  # fmt: skip
    if password is not None:
        plain = key.rename(folder / f"{name}.plain.key")
        subprocess.run([openssl, "pkey", "-in", str(plain), "-out", str(key), "-aes256",
                        "-passout", f"pass:{password}"], check=True, capture_output=True,
                       timeout=60)  # fmt: skip
    key.chmod(0o600)
    return cert, key


@pytest.fixture(scope="module")
def pem(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, and its key."""
    return _pem_pair(tmp_path_factory.mktemp("pem"), "server")


def _app(tmp_path: Path, **overrides):
    settings = ServerSettings(db=f"sqlite:///{tmp_path / 's.sqlite'}", key=KEY,
                              audit_log=tmp_path / "audit.log", **overrides)  # fmt: skip
    app = create_app(settings)
    add_user(app.state.oncoresist.store.engine, "alice", PASSWORD, role="clinician", site="A")
    return app


def _sign_in(client: TestClient):
    csrf = _CSRF.search(client.get("/login").text).group(1)
    return client.post("/login", data={"username": "alice", "password": PASSWORD,
                                       "csrf_token": csrf}, follow_redirects=False)  # fmt: skip


def _cookie_flags(response) -> list[set[str]]:
    return [{part.strip().split("=")[0].lower() for part in cookie.split(";")}
            for cookie in response.headers.get_list("set-cookie")]  # fmt: skip


# ------------------------------------------------------------------------------- settings
def test_plain_http_by_default_https_under_a_proxy_or_tls(pem: tuple[Path, Path]) -> None:
    plain = ServerSettings(key=KEY)
    assert (plain.https, plain.secure_cookies, plain.hsts) == (False, False, None)
    proxied = ServerSettings(key=KEY, behind_https_proxy=True)
    assert (proxied.https, proxied.secure_cookies, proxied.hsts) == (True, True, YEAR)
    tls = ServerSettings(key=KEY, tls_cert=str(pem[0]), tls_key=str(pem[1]))
    assert (tls.https, tls.secure_cookies, tls.hsts) == (True, True, YEAR)
    assert (tls.tls_cert, tls.tls_key) == pem  # paths, whatever was given
    assert ServerSettings(key=KEY, tls_cert=pem[0], tls_key=pem[1], hsts_seconds=600).hsts == (
        "max-age=600; includeSubDomains"
    )
    assert ServerSettings(key=KEY, behind_https_proxy=True, hsts_seconds=0).hsts is None
    assert ServerSettings(key=KEY, hsts_seconds=600).hsts is None  # never over plain HTTP
    assert ServerSettings(key=KEY, secure_cookies=True).secure_cookies is True
    with pytest.raises(InputError, match=r"field hsts_seconds: -1; expected 0 \(no header\)"):
        ServerSettings(key=KEY, behind_https_proxy=True, hsts_seconds=-1)


def test_tls_files_are_checked_with_a_located_error(tmp_path: Path, pem: tuple[Path, Path]) -> None:
    cert, key = pem
    missing = tmp_path / "none.crt"
    cert_field = "field tls_cert (--tls-cert, ONCORESIST_TLS_CERT)"
    key_field = "field tls_key (--tls-key, ONCORESIST_TLS_KEY)"
    with pytest.raises(InputError) as caught:
        ServerSettings(key=KEY, tls_cert=missing, tls_key=key)
    assert str(caught.value) == f"{missing}, {cert_field}: no such file"
    with pytest.raises(InputError) as caught:
        ServerSettings(key=KEY, tls_cert=cert, tls_key=tmp_path / "none.key")
    assert str(caught.value) == f"{tmp_path / 'none.key'}, {key_field}: no such file"
    with pytest.raises(InputError, match=rf"{re.escape(str(tmp_path))}, {re.escape(cert_field)}: "
                                         r"cannot be read"):  # fmt: skip
        ServerSettings(key=KEY, tls_cert=tmp_path, tls_key=key)  # a folder
    with pytest.raises(InputError) as caught:
        ServerSettings(key=KEY, tls_key=key)
    assert str(caught.value) == (
        f"{key_field}: a key without a certificate; give the certificate too"
    )
    garbage = tmp_path / "garbage.crt"
    garbage.write_text("not a certificate\n")
    with pytest.raises(InputError, match=rf"{re.escape(cert_field)}: the certificate and key "
                                         r"cannot be used \(.+\); expected a PEM"):  # fmt: skip
        ServerSettings(key=KEY, tls_cert=garbage, tls_key=key)
    other_cert, other_key = _pem_pair(tmp_path, "other")
    with pytest.raises(InputError, match="cannot be used"):
        ServerSettings(key=KEY, tls_cert=cert, tls_key=other_key)  # not the certificate's key
    _, locked = _pem_pair(tmp_path, "locked", password="secret")
    with pytest.raises(InputError, match=rf"{re.escape(key_field)}: the private key is encrypted"):
        ServerSettings(key=KEY, tls_cert=other_cert, tls_key=locked)
    both = tmp_path / "both.pem"  # certificate and key in one file: no --tls-key needed
    both.write_bytes(other_cert.read_bytes() + other_key.read_bytes())
    assert ServerSettings(key=KEY, tls_cert=both).https


def test_https_settings_from_the_environment(pem: tuple[Path, Path]) -> None:
    env = {"ONCORESIST_TLS_CERT": str(pem[0]), "ONCORESIST_TLS_KEY": str(pem[1]),
           "ONCORESIST_HSTS_SECONDS": "600"}  # fmt: skip
    settings = settings_from_env(env, key=KEY)
    assert (settings.tls_cert, settings.tls_key, settings.hsts) == (
        *pem,
        "max-age=600; includeSubDomains",
    )
    assert settings.secure_cookies
    proxied = settings_from_env({"ONCORESIST_BEHIND_HTTPS_PROXY": "yes"}, key=KEY)
    assert (proxied.behind_https_proxy, proxied.secure_cookies, proxied.hsts) == (True, True, YEAR)
    off = settings_from_env({"ONCORESIST_BEHIND_HTTPS_PROXY": "1",
                             "ONCORESIST_SECURE_COOKIES": "false"}, key=KEY)  # fmt: skip
    assert (off.secure_cookies, off.hsts) == (False, YEAR)
    with pytest.raises(InputError, match=r"field ONCORESIST_BEHIND_HTTPS_PROXY: 'maybe' is not "
                                         r"true or false"):  # fmt: skip
        settings_from_env({"ONCORESIST_BEHIND_HTTPS_PROXY": "maybe"}, key=KEY)
    with pytest.raises(InputError, match=r"ONCORESIST_HSTS_SECONDS.*'a year' is not a whole"):
        settings_from_env({"ONCORESIST_HSTS_SECONDS": "a year"}, key=KEY)
    with pytest.raises(InputError, match="a key without a certificate"):
        settings_from_env({"ONCORESIST_TLS_KEY": str(pem[1])}, key=KEY)


# ------------------------------------------------------------------------ headers, cookies
@pytest.mark.parametrize("https", ["tls", "proxy"])
def test_hsts_and_secure_cookies_over_https(
    tmp_path: Path, pem: tuple[Path, Path], https: str
) -> None:
    given = ({"tls_cert": pem[0], "tls_key": pem[1]} if https == "tls"
             else {"behind_https_proxy": True, "trusted_proxies": ("127.0.0.1",)})  # fmt: skip
    client = TestClient(_app(tmp_path, **given), base_url="https://testserver")
    form = client.get("/login")
    assert form.headers.get_list("set-cookie")  # the login form's pre-session cookie
    assert all("secure" in flags for flags in _cookie_flags(form))
    for path in ("/api/v1/health", "/login", "/api/v1/no-such-route", "/"):
        response = client.get(path, follow_redirects=False)
        assert response.headers[HSTS] == YEAR, path
        assert response.headers["x-frame-options"] == "DENY"  # the other headers stay
    signed_in = _sign_in(client)
    assert signed_in.status_code == 303
    assert _cookie_flags(signed_in) and all("secure" in f for f in _cookie_flags(signed_in))
    assert client.get("/").status_code == 200  # the Secure cookie goes back over HTTPS
    assert TestClient(client.app).get("/", follow_redirects=False).status_code == 303


def test_no_hsts_and_no_secure_cookies_over_plain_http(tmp_path: Path) -> None:
    client = TestClient(_app(tmp_path))
    for path in ("/api/v1/health", "/login"):
        assert HSTS not in client.get(path).headers, path
    signed_in = _sign_in(client)
    assert signed_in.status_code == 303
    assert not any("secure" in flags for flags in _cookie_flags(signed_in))
    disabled = TestClient(_app(tmp_path / "off", behind_https_proxy=True, hsts_seconds=0),
                          base_url="https://testserver")  # fmt: skip
    response = disabled.get("/api/v1/health")
    assert HSTS not in response.headers
    assert "secure" in _cookie_flags(disabled.get("/login"))[0]  # Secure stays on


# ------------------------------------------------------------------------------ serve
@pytest.fixture
def serve_env(monkeypatch: pytest.MonkeyPatch):
    """``oncoresist serve`` with ``uvicorn.run`` recorded, not run; the environment restored."""
    import uvicorn

    for variable in ENVIRONMENT.values():  # serve sets them
        monkeypatch.setenv(variable, "")
    monkeypatch.setenv("ONCORESIST_KEY", KEY.hex())
    access = logging.getLogger("oncoresist.server.access")
    monkeypatch.setattr(access, "disabled", access.disabled)  # serve sets it: restore it
    ran: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: ran.append({"target": target, **kw}))
    return ran


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _serve(*args: str) -> tuple[object, list[str]]:
    from typer.testing import CliRunner

    from oncoresist.cli import app

    records = _Records()
    log = logging.getLogger("oncoresist.server")
    log.addHandler(records)
    try:
        result = CliRunner().invoke(app, ["serve", *args])
    finally:
        log.removeHandler(records)
    assert result.exit_code == 0, result.output
    return result, records.messages


def test_serve_passes_the_certificate_to_uvicorn(serve_env, pem: tuple[Path, Path]) -> None:
    _, warnings = _serve("--host", "0.0.0.0", "--tls-cert", str(pem[0]), "--tls-key", str(pem[1]),
                         "--hsts-seconds", "600")  # fmt: skip
    assert (serve_env[0]["ssl_certfile"], serve_env[0]["ssl_keyfile"]) == pem
    assert os.environ["ONCORESIST_TLS_CERT"] == str(pem[0].resolve())
    settings = settings_from_env()  # what each worker builds its app from
    assert (settings.secure_cookies, settings.hsts) == (True, "max-age=600; includeSubDomains")
    assert warnings == []


def test_serve_behind_a_proxy_and_the_plain_http_warning(serve_env) -> None:
    _, warnings = _serve("--host", "127.0.0.1")
    assert warnings == [] and serve_env[-1]["ssl_certfile"] is None
    assert not settings_from_env().secure_cookies
    _, warnings = _serve("--host", "0.0.0.0")
    assert len(warnings) == 1 and warnings[0].startswith("serving plain HTTP on 0.0.0.0: ")
    assert "--tls-cert" in warnings[0]
    _, warnings = _serve("--host", "::1")
    assert warnings == []
    _, warnings = _serve("--host", "0.0.0.0", "--behind-https-proxy")
    assert warnings == ["--behind-https-proxy without ONCORESIST_TRUSTED_PROXIES: the login "
                        "throttle counts every client as the proxy's address"]  # fmt: skip
    assert os.environ["ONCORESIST_BEHIND_HTTPS_PROXY"] == "1"
    settings = settings_from_env()
    assert (settings.secure_cookies, settings.hsts, settings.tls_cert) == (True, YEAR, None)
    os.environ["ONCORESIST_TRUSTED_PROXIES"] = "10.0.0.5"
    assert _serve("--host", "0.0.0.0", "--behind-https-proxy")[1] == []


def test_serve_stops_on_a_missing_certificate_with_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "oncoresist", "serve", "--tls-cert", str(tmp_path / "none.crt"),
         "--port", "9"],
        env={**os.environ, "ONCORESIST_KEY": KEY.hex(), "ONCORESIST_TLS_KEY": ""},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: {tmp_path / 'none.crt'}, field tls_cert (--tls-cert, ONCORESIST_TLS_CERT): "
        "no such file"
    )


# --------------------------------------------------------------------------- round trip
def test_a_tls_round_trip(tmp_path: Path, pem: tuple[Path, Path]) -> None:
    """uvicorn with the certificate: /health over HTTPS, verified; plain HTTP gets nothing."""
    import httpx
    import uvicorn

    app = _app(tmp_path, tls_cert=pem[0], tls_key=pem[1])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                           ssl_certfile=str(pem[0]), ssl_keyfile=str(pem[1]),
                                           lifespan="off"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.05)
        trust = ssl.create_default_context(cafile=str(pem[0]))
        with httpx.Client(verify=trust, timeout=10) as client:
            response = client.get(f"https://localhost:{port}/api/v1/health")
        assert response.status_code == 200, response.text
        assert response.headers[HSTS] == YEAR
        with httpx.Client(timeout=10) as client, pytest.raises(httpx.ConnectError):
            client.get(f"https://localhost:{port}/api/v1/health")  # the default trust store
        with httpx.Client(timeout=10) as client, pytest.raises(httpx.HTTPError):
            client.get(f"http://localhost:{port}/api/v1/health")  # no plain HTTP on this port
    finally:
        server.should_exit = True
        thread.join(30)
    assert not thread.is_alive()
