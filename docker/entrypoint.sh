#!/bin/sh
# Builds the settings that come from compose secrets, then runs uchet:
# - UCHET_DATABASE_URL from /run/secrets/db_password (URL-escaped: any character is allowed);
# - UCHET_API_SECRET from /run/secrets/api_secret (sessions survive restarts, replicas share it).
# Variables already set win.
set -eu
secrets=${SECRETS_DIR:-/run/secrets}
if [ -z "${UCHET_DATABASE_URL:-}" ] && [ -r "$secrets/db_password" ]; then
  UCHET_DATABASE_URL=$(python -c 'import sys, urllib.parse as u; p = open(sys.argv[1]).read().rstrip("\n"); print("postgresql://uchet:" + u.quote(p, safe="") + "@db:5432/uchet")' "$secrets/db_password")
  export UCHET_DATABASE_URL
fi
if [ -z "${UCHET_API_SECRET:-}" ] && [ -r "$secrets/api_secret" ]; then
  UCHET_API_SECRET=$(cat "$secrets/api_secret")
  export UCHET_API_SECRET
fi
exec uchet "$@"
