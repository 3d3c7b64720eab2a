# Source this (from anywhere) to run QGIS headless with this checkout's venv:
#   . scripts/qgis_env.sh
_ws_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$_ws_root/.venv}"
export QT_QPA_PLATFORM=offscreen                                   # no X server needed
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/runtime-$(id -u)}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"        # Qt wants an existing 0700 dir
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore:setapi:DeprecationWarning}"  # sip noise (QGIS 3.22)
export GDAL_PAM_ENABLED=NO                                         # no *.aux.xml next to inputs
export PROJ_DATA="${PROJ_DATA:-/usr/share/proj}"
# qgis_process's embedded Python takes its interpreter (and so the venv) from the first python3 on PATH
export PATH="$VENV/bin:/usr/bin:$PATH"
unset _ws_root
