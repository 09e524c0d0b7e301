"""The signer's cache of verified tokens keeps every check that verifying does: expiry, the
signature of each byte, and a bounded size."""

from __future__ import annotations

import time

from api.security import TokenSigner

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
