#!/usr/bin/env bash
# Install what wholesoil needs on Debian 12 (bookworm), idempotently and non-interactively:
# Debian's QGIS 3.22 LTR with Python bindings, GDAL and the scientific stack, then a virtual
# environment at .venv/ (on Debian's python3, seeing its packages) with wholesoil installed
# in editable mode. Run as root (or with sudo available) from anywhere.
#   QGIS_SUITE=bookworm-backports  -> QGIS 3.40 LTR instead (adds a backports apt source)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
QGIS_SUITE="${QGIS_SUITE:-bookworm}"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

QGIS_PKGS=(qgis python3-qgis qgis-providers)
PY_PKGS=(gdal-bin python3-gdal python3-numpy python3-scipy python3-sklearn python3-pandas
         python3-joblib python3-shapely python3-pyproj python3-matplotlib python3-statsmodels
         python3-numba python3-distributed python3-pytest python3-venv python3-pip make)
APT_OPTS=(-y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

if [ "$QGIS_SUITE" = bookworm-backports ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  awk 'BEGIN{RS="";ORS="\n\n"} /Suites:[^\n]*bookworm( |\n|$)/{print; exit}' /etc/apt/sources.list.d/debian.sources \
    | sed -E 's/^Suites:.*/Suites: bookworm-backports/' | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
fi

have_all() { for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || return 1; done; }
qgis_ver="$(dpkg-query -W -f='${Version}' qgis 2>/dev/null || true)"
case "$QGIS_SUITE" in
  bookworm-backports) qgis_ok() { [[ "$qgis_ver" == *bpo12* ]]; } ;;
  *)                  qgis_ok() { [[ -n "$qgis_ver" && "$qgis_ver" != *bpo* ]]; } ;;
esac

if ! have_all "${QGIS_PKGS[@]}" "${PY_PKGS[@]}" || ! qgis_ok; then
  echo "setup: installing Debian packages (QGIS, GDAL, scientific Python); this takes about 2 minutes" >&2
  $SUDO apt-get update -qq
  $SUDO apt-get install "${APT_OPTS[@]}" "${PY_PKGS[@]}" >/dev/null
  if [ "$QGIS_SUITE" != bookworm-backports ] && [[ "$qgis_ver" == *bpo* ]]; then
    $SUDO apt-get purge -y -qq $(dpkg-query -W -f='${Package} ${Version}\n' | awk '$1 ~ /qgis/ && $2 ~ /bpo/ {print $1}') >/dev/null
  fi
  $SUDO apt-get install "${APT_OPTS[@]}" -t "$QGIS_SUITE" "${QGIS_PKGS[@]}" >/dev/null
fi

# Debian's qgis_process wrapper passes --noversioncheck, which qgis_process.bin rejects (qgis/QGIS#57683).
if [ -f /etc/default/qgis ] && grep -q -- '--noversioncheck' /etc/default/qgis; then
  $SUDO sed -i "s/^QGIS_OPTS=.*/QGIS_OPTS=''/" /etc/default/qgis
fi

# The venv must be built on Debian's python3: the QGIS and GDAL bindings are compiled for it.
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import qgis.core, osgeo.gdal' 2>/dev/null; then
  rm -rf "$VENV"
  /usr/bin/python3 -m venv --system-site-packages "$VENV"
fi
mkdir -p "$VENV/share"
ln -sfn /usr/share/proj "$VENV/share/proj"               # pyproj looks for PROJ data in sys.prefix/share/proj
printf 'numpy<2\n' > "$VENV/constraints.txt"             # Debian's GDAL bindings are built for the numpy 1 ABI
printf '[install]\nconstraint = %s\n' "$VENV/constraints.txt" > "$VENV/pip.conf"

stamp="$VENV/.wholesoil-installed"
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ] || [ "$ROOT/requirements-dev.txt" -nt "$stamp" ]; then
  echo "setup: installing wholesoil (editable) and test tools into $VENV" >&2
  "$VENV/bin/python" -m pip install -q --no-build-isolation -e "$ROOT" -r "$ROOT/requirements-dev.txt"
  touch "$stamp"
fi
