#!/usr/bin/env bash
# Install whatever is missing, then run wholesoil's main jobs on the bundled sample data:
# the library/CLI demo and the same kind of step through the real qgis_process.
# Usage: scripts/demo.sh [OUTPUT_FOLDER]   (default: demo-output)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$(realpath -m "${1:-$ROOT/demo-output}")"
bash "$ROOT/scripts/setup_env.sh"
. "$ROOT/scripts/qgis_env.sh"
"$ROOT/.venv/bin/wholesoil" demo "$OUT"
echo "QGIS: the same partitioning through qgis_process (wholesoil:depthfractionsbeta)"
"$ROOT/scripts/qgis-process" run wholesoil:depthfractionsbeta -- \
  INPUT="$ROOT/resources/sample_data/srdb_bnpp_sites.gpkg" BETA_FIELD=beta \
  OUTPUT="$OUT/qgis_srdb_root_fractions.gpkg" OUTPUT_HTML="$OUT/qgis_srdb_root_fractions.html" 2>&1 \
  | grep -E '^(OUTPUT|ERROR)' | sort -u || true
test -s "$OUT/qgis_srdb_root_fractions.gpkg"
echo "demo finished: outputs in $OUT (open $OUT/index.html)"
