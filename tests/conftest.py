"""Shared fixtures: real data paths, QGIS Processing with the wholesoil provider, qgis_process."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = ROOT / "tests" / "data"
SHARED_DATA = Path(os.environ.get("WHOLESOIL_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def real_data():
    """The real data shipped with the repository (tests/data; origins and licences in its SOURCE.md)."""
    return REAL_DATA


@pytest.fixture(scope="session")
def shared_data():
    """The project's whole shared data folder (../shared/data or $WHOLESOIL_SHARED_DATA), for optional checks.

    Skips the test, with the reason, when the folder is absent (e.g. on a fresh clone).
    """
    if not SHARED_DATA.is_dir():
        pytest.skip(f"optional check: shared data folder {SHARED_DATA} not found (set WHOLESOIL_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def resources():
    return ROOT / "resources"


@pytest.fixture(scope="session", autouse=True)
def forest_cache(tmp_path_factory):
    """Prepared forests (core/maps/modelcache.py) go to a folder of this session, not the user's cache."""
    os.environ["WHOLESOIL_CACHE_DIR"] = str(tmp_path_factory.mktemp("forest-cache"))


_PROVIDERS = []  # keeps the providers this suite registers alive (QGIS does not own Python objects)


@pytest.fixture
def wholesoil_processing(qgis_app, qgis_processing):
    """The ``processing`` module with the wholesoil provider registered (in-process QGIS).

    Registers a provider whenever none is (a plugin test may have unloaded it).
    """
    import processing
    from qgis.core import QgsApplication

    from wholesoil.processing_provider.provider import WholesoilProvider

    registry = QgsApplication.processingRegistry()
    if registry.providerById("wholesoil") is None:
        provider = WholesoilProvider()
        assert registry.addProvider(provider), "could not register the wholesoil provider"
        _PROVIDERS.append(provider)
    return processing


def _clean_env():
    env = dict(os.environ)
    env.pop("QGIS_CUSTOM_CONFIG_PATH", None)  # pytest-qgis sets its own profile (ENVIRONMENT pitfall 7)
    env["WHOLESOIL_QGIS_PROFILE"] = str(ROOT / ".qgis-profile")
    return env


def run_qgis_process(*args, json_output=False, check=True, timeout=300):
    """Run scripts/qgis-process; returns the CompletedProcess (parsed JSON in .json)."""
    command = [str(ROOT / "scripts" / "qgis-process")]
    if json_output:
        command.append("--json")
    command += [str(a) for a in args]
    done = subprocess.run(command, capture_output=True, text=True, env=_clean_env(), timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"qgis_process failed ({done.returncode}): {done.stderr[-2000:]}")
    done.json = json.loads(done.stdout) if json_output and done.returncode == 0 else None
    return done
