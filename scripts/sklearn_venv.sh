#!/usr/bin/env bash
# A virtual environment with another scikit-learn release, made once and reused: Debian's python3
# and packages (GDAL, numpy, SciPy, pandas) with scikit-learn VERSION from PyPI over them, and
# wholesoil from this checkout on its path. The test suite trains and loads models in it and in
# .venv (Debian's scikit-learn) to check that model files travel between releases
# (tests/test_learn_portability.py). Needs PyPI access the first time.
#   scripts/sklearn_venv.sh VERSION [DIR]    (DIR defaults to .cache/sklearn-VERSION; prints its python)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${1:?usage: scripts/sklearn_venv.sh VERSION [DIR]}"
DIR="${2:-$ROOT/.cache/sklearn-$VERSION}"
PY="$DIR/bin/python"

if ! "$PY" -c "import sklearn, sys; sys.exit(sklearn.__version__ != '$VERSION')" 2>/dev/null; then
  rm -rf "$DIR"
  /usr/bin/python3 -m venv --system-site-packages "$DIR"
  printf 'numpy<2\n' > "$DIR/constraints.txt"          # Debian's GDAL and SciPy are built for numpy 1
  "$PY" -m pip install -q --disable-pip-version-check --constraint "$DIR/constraints.txt" \
    "scikit-learn==$VERSION" >&2
fi
mkdir -p "$DIR/checkout"
ln -sfn "$ROOT" "$DIR/checkout/wholesoil"               # the repository root is the package 'wholesoil'
"$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' | {
  read -r site; echo "$DIR/checkout" > "$site/wholesoil-checkout.pth"; }
echo "$PY"
