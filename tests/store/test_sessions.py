"""The web service's shared login state in the store (migration 0005), on each backend."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from oncoresist.store import _sessions, open_store


def _lapsed(hits: int, last_at: float, until: float) -> bool:
    return hits == 0


def test_hits_count_atomically_and_lapse(store_url: str):
    store = open_store(store_url)
    engine = store.engine
    with ThreadPoolExecutor(8) as pool:  # eight writers at once lose no hit
        list(pool.map(lambda i: _sessions.record_hit(engine, "k", now=100.0 + i,
                                                     fresh=_lapsed,
                                                     until=lambda h: 1000.0 + h),
                      range(40)))  # fmt: skip
    hits, _, until = _sessions.key_rows(engine, ["k", "absent"])["k"]
    assert (hits, until) == (40, 1040.0)
    assert _sessions.record_hit(engine, "k", now=500.0, fresh=lambda *_: True,
                                until=lambda h: 0.0) == 1  # fmt: skip
    _sessions.set_until(engine, "known", now=10.0, until=99.0)
    _sessions.set_until(engine, "known", now=20.0, until=200.0)
    assert _sessions.key_rows(engine, ["known"])["known"] == (0, 20.0, 200.0)
    _sessions.clear_key(engine, "k")
    assert "k" not in _sessions.key_rows(engine, ["k"])
    _sessions.forget_old(engine, before=300.0)
    assert _sessions.key_rows(engine, ["known"]) == {}
    store.close()


def test_revoked_sessions(store_url: str):
    store = open_store(store_url)
    engine = store.engine
    assert not _sessions.is_revoked(engine, "s1")
    _sessions.revoke_session(engine, "s1", expires_at=50.0)
    _sessions.revoke_session(engine, "s1", expires_at=50.0)  # twice is once
    assert _sessions.is_revoked(engine, "s1") and not _sessions.is_revoked(engine, "s2")
    _sessions.forget_old(engine, before=60.0)  # past the session's end: it may go
    assert not _sessions.is_revoked(engine, "s1")
    store.close()
