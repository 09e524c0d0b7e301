"""The signer's cache of verified tokens keeps every check that verifying does: expiry, the
signature of each byte, and a bounded size; the premise cache hears every change of a login
or an account, made by any process."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from api.auth_db import set_password
from api.security import TokenSigner, hash_password
from api.token_cache import TokenCache
from tests.api.conftest import ALICE, BOB, Env

KEY = "cache-secret-" + "z" * 40


def test_a_cached_token_still_expires() -> None:
    signer = TokenSigner(KEY, ttl_s=60)
    now = time.time()
    token = signer.issue("100", 1, now=now)
    first = signer.check(token, now=now)
    assert first is not None and first.account == "100"
    assert signer.check(token, now=now + 30) == first  # served from the cache
    assert signer.check(token, now=first.expires) is None  # exp <= now: expired, as PyJWT
    assert signer.check(token, now=now + 30) is not None  # verified afresh, not remembered dead


def test_a_changed_token_is_verified_not_looked_up() -> None:
    signer = TokenSigner(KEY, ttl_s=60)
    token = signer.issue("100", 1)
    assert signer.check(token) is not None
    head, payload, sig = token.split(".")
    other = TokenSigner(KEY, ttl_s=60).issue("200", 1).split(".")[1]
    assert signer.check(f"{head}.{other}.{sig}") is None  # another payload, this signature
    assert signer.check(f"{head}.{payload}.{sig[:-2]}AA") is None
    assert TokenSigner("another-" + "k" * 40, ttl_s=60).check(token) is None


def test_the_cache_stays_bounded_and_drops_expired_first() -> None:
    signer = TokenSigner(KEY, ttl_s=60, cache_size=4)
    now = time.time()
    old = [signer.issue(f"o{i}", 1, now=now - 50) for i in range(3)]
    for t in old:
        assert signer.check(t, now=now) is not None
    fresh = [signer.issue(f"f{i}", 1, now=now) for i in range(3)]
    for t in fresh:
        assert signer.check(t, now=now + 20) is not None  # the old ones expire at now + 10
    assert len(signer._verified) <= 4
    assert all(t in signer._verified for t in fresh)
    for i in range(10):
        assert signer.check(signer.issue(f"n{i}", 1, now=now), now=now + 20) is not None
    assert len(signer._verified) <= 4


# The premise cache of a running app, kept true by PostgreSQL's notifications (migration 7).


def test_entries_live_long_only_while_listening() -> None:
    cache = TokenCache(ttl_s=0.0, listened_ttl_s=3600)
    cache.put("100", 2, "p1")
    assert cache.get("100", 2) is None  # not listening: a change elsewhere may be unheard
    cache.listening = True
    assert cache.get("100", 2) == "p1"
    assert cache.get("100", 1) is None  # a token of another version
    cache.drop("100")  # a notification
    assert cache.get("100", 2) is None


async def _until(predicate, seconds: float = 5.0) -> None:
    """Waits until ``predicate()`` (sync or async) is true, failing after ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.02)


async def _refused(env: Env, headers: dict[str, str]) -> bool:
    return (await env.client.get("/v1/resident/me", headers=headers)).status_code == 401


async def _listening(env: Env) -> TokenCache:
    tokens: TokenCache = env.app.state.services.tokens
    tokens.ttl_s = tokens.listened_ttl_s = 3600  # only a notification can end an entry
    await _until(lambda: tokens.listening)
    return tokens


@pytest.mark.postgres
async def test_a_reset_made_elsewhere_ends_cached_tokens_at_once(env: Env) -> None:
    tokens = await _listening(env)
    alice, bob = await env.login(ALICE), await env.login(BOB)
    for headers in (alice, bob):
        assert (await env.client.get("/v1/resident/me", headers=headers)).status_code == 200
    assert tokens.get(ALICE[0], 1) is not None  # cached
    conn = await asyncpg.connect(env.url)
    try:  # another process: the CLI's `uchet accounts set-password`
        await set_password(conn, ALICE[0], hash_password("a-new-password-1"))
    finally:
        await conn.close()
    await _until(lambda: _refused(env, alice), 5.0)
    assert (await env.client.get("/v1/resident/me", headers=bob)).status_code == 200
    assert tokens.get(BOB[0], 1) is not None  # only Alice's entry went


@pytest.mark.postgres
async def test_an_account_moved_off_its_premise_is_dropped(env: Env) -> None:
    await _listening(env)
    alice = await env.login(ALICE)
    assert (await env.client.get("/v1/resident/me", headers=alice)).status_code == 200
    conn = await asyncpg.connect(env.url)
    try:
        await conn.execute("UPDATE premises SET account = NULL WHERE account = $1", ALICE[0])
    finally:
        await conn.close()
    await _until(lambda: _refused(env, alice), 5.0)


@pytest.mark.postgres
async def test_a_lost_listener_empties_the_cache_and_comes_back(env: Env) -> None:
    tokens = await _listening(env)
    alice = await env.login(ALICE)
    assert (await env.client.get("/v1/resident/me", headers=alice)).status_code == 200
    assert tokens.get(ALICE[0], 1) is not None
    before = tokens.listens
    conn = await asyncpg.connect(env.url)
    try:
        killed = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
        )
        assert killed == 1
        await _until(lambda: tokens.listens == before + 1 and tokens.listening, 10.0)
        assert tokens.get(ALICE[0], 1) is None  # emptied: changes meanwhile were not heard
        # heard again: a reset reaches the cache
        assert (await env.client.get("/v1/resident/me", headers=alice)).status_code == 200
        await set_password(conn, ALICE[0], hash_password("a-new-password-2"))
    finally:
        await conn.close()
    await _until(lambda: _refused(env, alice), 5.0)
