"""Optional Python packages the algorithms need, checked without importing them.

The QGIS installers for Windows and macOS ship numpy and GDAL but not always pandas, scipy,
scikit-learn and the others. Every algorithm declares the packages it needs (import names,
``WholesoilAlgorithm.REQUIRES``); the plugin loads whatever is missing, says once what is
unavailable, and an algorithm that lacks a package refuses to run with :func:`missing_message`.
"""

import functools
import importlib.util
import os
import sys

#: import name -> (pip name, Debian/Ubuntu package)
PACKAGES = {
    "numpy": ("numpy", "python3-numpy"),
    "pandas": ("pandas", "python3-pandas"),
    "scipy": ("scipy", "python3-scipy"),
    "sklearn": ("scikit-learn", "python3-sklearn"),
    "statsmodels": ("statsmodels", "python3-statsmodels"),
    "matplotlib": ("matplotlib", "python3-matplotlib"),
    "joblib": ("joblib", "python3-joblib"),
    "pyproj": ("pyproj", "python3-pyproj"),
    "shapely": ("shapely", "python3-shapely"),
    "numba": ("numba", "python3-numba"),
    "dask": ("dask", "python3-dask"),
    "distributed": ("distributed", "python3-distributed"),
}


@functools.lru_cache(maxsize=None)
def is_available(module):
    """True if ``module`` can be found (it is not imported)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing(modules):
    """The modules of ``modules`` that cannot be found, in order, without repeats."""
    return [m for m in dict.fromkeys(modules) if not is_available(m)]


def install_hint(modules, platform=None):
    """How to install ``modules`` into QGIS's Python on this platform (one sentence)."""
    platform = platform or sys.platform
    pip = " ".join(PACKAGES.get(m, (m, m))[0] for m in modules)
    if platform.startswith("win"):
        return f"install with the OSGeo4W Shell (Start menu, QGIS folder): python -m pip install {pip}"
    if platform == "darwin":
        return (f"install into QGIS's own Python: {os.path.join(sys.prefix, 'bin', 'python3')} -m pip install "
                f"--user {pip}")
    if os.path.exists("/etc/debian_version"):
        apt = " ".join(PACKAGES.get(m, (m, f"python3-{m}"))[1] for m in modules)
        return f"install with: sudo apt install {apt}"
    return f"install into the Python that QGIS uses: python3 -m pip install --user {pip}"


def package_names(modules):
    """The packages' names as pip knows them, e.g. 'scikit-learn, scipy'."""
    return ", ".join(PACKAGES.get(m, (m, m))[0] for m in modules)


def missing_message(modules, platform=None):
    """One line (after an algorithm's name) naming the packages that are not installed and how to install them."""
    return f"needs {package_names(modules)}, which {'is' if len(modules) == 1 else 'are'} not installed; " \
           f"{install_hint(modules, platform)}, then restart QGIS"
