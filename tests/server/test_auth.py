"""Identity: password hashes, tokens (expired, forged, alg=none), login throttling."""

import base64
import json

import pytest

from oncoresist.server import (
    AuthError,
    LoginThrottle,
    decode_token,
    hash_password,
    issue_token,
    needs_rehash,
    verify_password,
)

SECRET = bytes(range(32))


def test_password_hashes_are_salted_and_verify():
    a, b = hash_password("correct horse"), hash_password("correct horse")
    assert a != b and a.startswith("$argon2id$")
    assert verify_password(a, "correct horse") and not verify_password(a, "wrong horse")
    assert not verify_password("not a hash", "correct horse")
    assert not needs_rehash(a)
    with pytest.raises(AuthError):
        hash_password("")


def test_token_round_trip_and_claims():
    token = issue_token("ana", site="site-a", role="clinician", secret=SECRET, now=1_000_000)
    claims = decode_token(token, secret=SECRET, now=1_000_100)
    assert (claims.subject, claims.site, claims.role) == ("ana", "site-a", "clinician")
    assert claims.expires == 1_000_000 + 15 * 60


def test_expired_not_yet_valid_and_wrongly_signed_tokens_are_refused():
    token = issue_token("ana", site="site-a", role="clinician", secret=SECRET, now=1_000_000)
    with pytest.raises(AuthError, match="expired"):
        decode_token(token, secret=SECRET, now=1_000_000 + 15 * 60)
    with pytest.raises(AuthError, match="expired"):
        decode_token(token, secret=SECRET, now=999_000)
    with pytest.raises(AuthError, match="invalid token"):
        decode_token(token, secret=bytes(32), now=1_000_100)
    live = issue_token("ana", site="site-a", role="admin", secret=SECRET)
    assert decode_token(live, secret=SECRET).role == "admin"  # real clock
    old = issue_token("ana", site="site-a", role="admin", secret=SECRET, seconds=-1)
    with pytest.raises(AuthError, match="ExpiredSignature"):
        decode_token(old, secret=SECRET)


def _b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_alg_none_and_tampered_tokens_are_refused():
    payload = {"sub": "eve", "site": "site-a", "role": "admin", "iat": 1_000_000,
               "nbf": 1_000_000, "exp": 9_999_999_999, "jti": "x"}  # fmt: skip
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."
    with pytest.raises(AuthError, match="invalid token"):
        decode_token(unsigned, secret=SECRET)
    token = issue_token("ana", site="site-a", role="clinician", secret=SECRET)
    header, _, signature = token.split(".")
    forged = f"{header}.{_b64({**payload, 'sub': 'ana'})}.{signature}"
    with pytest.raises(AuthError, match="invalid token"):
        decode_token(forged, secret=SECRET)
    hs512 = f"{_b64({'alg': 'HS512', 'typ': 'JWT'})}.{_b64(payload)}.{signature}"
    with pytest.raises(AuthError, match="invalid token"):
        decode_token(hs512, secret=SECRET)
    with pytest.raises(AuthError, match="invalid token"):
        decode_token("garbage", secret=SECRET)


def test_bad_roles_and_short_secrets_are_refused():
    with pytest.raises(AuthError, match="role"):
        issue_token("ana", site="s", role="root", secret=SECRET)  # type: ignore[arg-type]
    with pytest.raises(AuthError, match="32 bytes"):
        issue_token("ana", site="s", role="admin", secret=b"short")


def test_eleventh_failed_login_in_a_minute_is_refused(tmp_path):
    from oncoresist.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    throttle = LoginThrottle(store.engine, secret=SECRET)  # counted in the store
    for i in range(10):
        assert throttle.wait("ana", "10.0.0.1", now=100.0 + i) == 0.0
        throttle.failed("ana", "10.0.0.1", now=100.0 + i)
    # the 11th attempt within the minute waits a minute from the 10th failure
    assert throttle.wait("ana", "10.0.0.1", now=109.5) == pytest.approx(59.5)
    assert throttle.wait("bob", "10.0.0.1", now=109.5) == 0.0  # other accounts are unaffected
    assert throttle.wait("ana", "10.0.0.2", now=109.5) == 0.0  # and other addresses
    assert throttle.wait("ana", "10.0.0.1", now=169.5) == 0.0  # the back-off is over
    throttle.succeeded("ana", "10.0.0.1", now=170.0)
    assert throttle.wait("ana", "10.0.0.1", now=170.0) == 0.0
    store.close()
