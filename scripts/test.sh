#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run): installs whatever is missing
# (Debian packages, .venv/), then runs pytest with real QGIS (offscreen). Extra arguments
# go to pytest, e.g. scripts/test.sh -k depth -x
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup_env.sh"
. "$ROOT/scripts/qgis_env.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest "$@"
