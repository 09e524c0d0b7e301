"""tools/pgwire: the wire front end that lets asyncpg share PGlite's single session.

The protocol rewrites are unit-tested; the behaviour is tested against the running service
(the session's PGlite with TimescaleDB, see tests/timescale/service.py).
"""

from __future__ import annotations

import asyncio
import io
import socket
import struct

import asyncpg
import pytest

from tools.pgwire import protocol as pg

pytestmark = pytest.mark.timescale


# -- pure rewrites ------------------------------------------------------------------------------


def test_copy_from_stdin_is_read_from_the_blob_device_and_other_sql_is_not_touched():
    sql = 'COPY "readings"("meter_id", "ts") FROM STDIN (FORMAT binary)'
    assert pg.copy_in(sql) == (
        """COPY "readings"("meter_id", "ts") FROM '/dev/blob' (FORMAT binary)""",
        True,
    )
    assert pg.copy_in("copy t from stdin") == ("COPY t FROM '/dev/blob'", False)
    assert pg.copy_in("COPY t TO STDOUT") is None
    assert pg.copy_in("SELECT 'COPY t FROM STDIN'") is None


def test_listen_statements_are_recognised_and_unlisten_in_scripts_replaced():
    assert pg.listen('LISTEN "Mixed Case"') == (True, "Mixed Case")
    assert pg.listen("UNLISTEN Foo;") == (False, "foo")
    assert pg.listen("UNLISTEN *") == (False, "*")
    assert pg.listen("SELECT 1") is None
    script, channels = pg.unlistens("SELECT pg_advisory_unlock_all();\nCLOSE ALL;\nUNLISTEN *;")
    assert channels == ["*"] and "UNLISTEN" not in script and pg.NOOP in script
    assert pg.resets("CLOSE ALL;\nRESET ALL;") and not pg.resets("SELECT 1")


def test_statement_names_are_per_connection_and_the_unnamed_one_is_fresh_per_parse():
    names = pg.Names(7)
    parse = pg.rewrite(b"P", b"__asyncpg_stmt_1__\0SELECT 1\0\0\0", names)
    assert parse == pg.message(b"P", b"pgwire7___asyncpg_stmt_1__\0SELECT 1\0\0\0")
    first = pg.rewrite(b"P", b"\0SELECT 2\0\0\0", names)
    second = pg.rewrite(b"P", b"\0SELECT 3\0\0\0", names)
    assert b"pgwire7_u1\0" in first and b"pgwire7_u2\0" in second
    bind = pg.rewrite(b"B", b"\0\0\0\0\0\0\0\0", names)
    assert bind.startswith(pg.message(b"B", b"")[:1]) and b"\0pgwire7_u2\0" in bind
    assert pg.rewrite(b"E", b"\0\0\0\0\0", names) == pg.message(b"E", b"\0\0\0\0\0")
    assert names.stale() == ["pgwire7_u1"] and names.stale() == []
    pg.rewrite(b"C", b"S__asyncpg_stmt_1__\0", names)
    assert names.statements == {"pgwire7_u2"}


# -- the running service --------------------------------------------------------------------


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def test_ssl_is_refused_and_any_user_is_trusted(timescale_service):
    with socket.create_connection(("127.0.0.1", _port(timescale_service)), timeout=10) as s:
        s.sendall(struct.pack(">II", 8, pg.SSL_REQUEST))
        assert s.recv(1) == b"N"


async def test_ssl_require_fails_and_trust_needs_no_password(timescale_service):
    with pytest.raises((ConnectionError, OSError, asyncpg.PostgresError)):
        await asyncpg.connect(timescale_service, ssl="require", timeout=10)
    other = timescale_service.replace("postgres@", "anyone:wrong@")
    conn = await asyncpg.connect(other)
    try:
        assert await conn.fetchval("SELECT 41 + $1::int", 1) == 42
    finally:
        await conn.close()


async def test_connections_have_their_own_prepared_statements(timescale_service):
    a = await asyncpg.connect(timescale_service)
    b = await asyncpg.connect(timescale_service, statement_cache_size=0)
    c = await asyncpg.connect(timescale_service)
    try:
        # a and c both name their first statement __asyncpg_stmt_1__ (or the like).
        assert await a.fetchval("SELECT 'a'::text || $1::text", "1") == "a1"
        assert await c.fetchval("SELECT 'c'::text || $1::text", "2") == "c2"
        sa = await a.prepare("SELECT 'A'::text")
        sb = await b.prepare("SELECT 'B'::text")  # unnamed
        assert await b.fetchval("SELECT 'B2'::text") == "B2"
        assert (await sa.fetchval(), await sb.fetchval()) == ("A", "B")
        assert await a.fetchval("SELECT 'a'::text || $1::text", "3") == "a3"
    finally:
        await a.close()
        await b.close()
        await c.close()


async def test_copy_binary_and_text_in_and_out_and_a_bad_copy_leaves_the_session_usable(
    timescale_url,
):
    conn = await asyncpg.connect(timescale_url)
    try:
        await conn.execute("CREATE TABLE w (a int, b text, t timestamptz)")
        await conn.copy_records_to_table("w", records=[(1, "x", None), (2, "y\tz", None)])
        await conn.copy_to_table(
            "w", source=io.BytesIO(b"3\tq\t2026-03-01 00:00:00+00\n"), columns=["a", "b", "t"]
        )
        with pytest.raises(asyncpg.PostgresError):
            await conn.copy_to_table("w", source=io.BytesIO(b"not a number\tq\t\\N\n"))
        async with conn.transaction():
            await conn.copy_records_to_table("w", records=[(4, "in tx", None)])
        rows = await conn.fetch("SELECT a, b FROM w ORDER BY a")
        out = io.BytesIO()
        await conn.copy_from_table("w", output=out, columns=["a"])
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [(1, "x"), (2, "y\tz"), (3, "q"), (4, "in tx")]
    assert out.getvalue() == b"1\n2\n3\n4\n"


async def test_one_transaction_at_a_time_and_a_waiter_that_waits_too_long_is_told_why(
    timescale_url,
):
    a = await asyncpg.connect(timescale_url)
    b = await asyncpg.connect(timescale_url)
    impatient = await asyncpg.connect(timescale_url, server_settings={"pgwire.wait": "0.5"})
    try:
        await a.execute("CREATE TABLE s (n int)")
        tx = a.transaction()
        await tx.start()
        await a.execute("INSERT INTO s VALUES (1)")
        reader = asyncio.ensure_future(b.fetchval("SELECT count(*) FROM s"))
        await asyncio.sleep(0.5)
        assert not reader.done()  # b waits for a's transaction
        with pytest.raises((asyncpg.PostgresError, ConnectionError)) as refused:
            await impatient.fetchval("SELECT 1")
        assert "single PGlite session stayed busy" in str(refused.value)
        await tx.commit()
        assert await asyncio.wait_for(reader, 10) == 1
    finally:
        await a.close()
        await b.close()
        impatient.terminate()


async def test_a_client_that_leaves_mid_transaction_is_rolled_back_and_its_statements_closed(
    timescale_url,
):
    a = await asyncpg.connect(timescale_url)
    b = await asyncpg.connect(timescale_url)
    try:
        await b.execute("CREATE TABLE gone (n int)")
        await a.fetchval("SELECT 1 + $1::int", 1)  # a named statement
        tx = a.transaction()
        await tx.start()
        await a.execute("INSERT INTO gone VALUES (1)")
        a.terminate()  # the socket closes, no ROLLBACK sent
        assert await asyncio.wait_for(b.fetchval("SELECT count(*) FROM gone"), 10) == 0
        names = await b.fetch("SELECT name FROM pg_prepared_statements")
        assert len({r["name"].split("_", 1)[0] for r in names}) == 1  # b's own only
    finally:
        a.terminate()
        await b.close()


async def test_notifications_reach_the_listening_connections_only(timescale_url):
    a = await asyncpg.connect(timescale_url)
    b = await asyncpg.connect(timescale_url)
    got: dict[str, list[str]] = {"a": [], "b": []}
    try:
        await a.add_listener("news", lambda *args: got["a"].append(args[3]))

        def on_b(*args: object) -> None:
            got["b"].append(str(args[3]))

        await b.add_listener("news", on_b)
        await a.execute("NOTIFY news, 'one'")
        await asyncio.sleep(0.2)
        await b.remove_listener("news", on_b)
        async with a.transaction():
            await a.execute("SELECT pg_notify('news', 'two')")
            await a.execute("SELECT pg_notify('other', 'nobody')")
        await asyncio.sleep(0.2)
    finally:
        await a.close()
        await b.close()
    assert got == {"a": ["one", "two"], "b": ["one"]}


async def test_reset_all_from_a_pool_brings_back_sane_settings_not_pglite_start_up_ones(
    timescale_url,
):
    pool = await asyncpg.create_pool(timescale_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute("SET enable_seqscan = off; SET search_path = pg_catalog")
        async with pool.acquire() as conn:  # released with RESET ALL in between
            settings = await conn.fetchrow(
                "SELECT current_setting('enable_seqscan') AS seqscan,"
                " current_setting('search_path') AS path,"
                " current_setting('exit_on_error') AS exit_on_error"
            )
            with pytest.raises(asyncpg.DivisionByZeroError):
                await conn.fetchval("SELECT 1 / 0")
            assert await conn.fetchval("SELECT 2") == 2
    finally:
        await pool.close()
    assert dict(settings) == {"seqscan": "on", "path": "public", "exit_on_error": "off"}
