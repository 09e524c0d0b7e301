#!/usr/bin/env bash
# Runs one benchmark from an earlier commit and from the working tree, back to back on the
# same machine, so a change's effect is a same-run ratio, not a comparison with old figures.
#   bash bench/compare_with.sh BASE_COMMIT BASE_SCRIPT [ARGS...] -- NEW_SCRIPT [ARGS...]
# (the script names differ when a benchmark was rewritten for a new interface).
set -euo pipefail
cd "$(dirname "$0")/.."
base=$1; shift
base_cmd=(); while [ $# -gt 0 ] && [ "$1" != "--" ]; do base_cmd+=("$1"); shift; done
shift || true
new_cmd=("$@")
tree=$(mktemp -d /tmp/uchet-base.XXXXXX)
trap 'git worktree remove --force "$tree" >/dev/null 2>&1 || true' EXIT
git worktree add --detach "$tree" "$base" >/dev/null
echo "== base $base: ${base_cmd[*]}"
(cd "$tree" && "$OLDPWD/.venv/bin/python" "${base_cmd[@]}")
echo "== working tree $(git rev-parse --short HEAD): ${new_cmd[*]}"
.venv/bin/python "${new_cmd[@]}"
