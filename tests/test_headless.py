"""core/ must work without QGIS: import every core module with qgis made unimportable."""

import subprocess
import sys

BLOCK_QGIS = r"""
import importlib, importlib.abc, pkgutil, sys

class NoQgis(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "qgis" or name.startswith("qgis."):
            raise ImportError(f"core imported {name}")

sys.meta_path.insert(0, NoQgis())
import wholesoil.core as core
names = [m.name for m in pkgutil.walk_packages(core.__path__, "wholesoil.core.") if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
assert not any(m == "qgis" or m.startswith("qgis.") for m in sys.modules)
print(len(names))
"""


def test_core_imports_without_qgis():
    done = subprocess.run([sys.executable, "-c", BLOCK_QGIS], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 10


def test_blocker_really_blocks():
    """The check above can fail: importing the provider (which needs qgis) is refused."""
    code = BLOCK_QGIS.replace("import wholesoil.core as core", "import wholesoil.processing_provider.provider")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode != 0 and "imported qgis" in done.stderr


def test_pip_install_takes_every_package_and_the_data_files():
    """A regular (not editable) install ships what pyproject.toml lists: every package of the
    repository (core.maps was once missing) and the data files the library reads."""
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    setup = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = {".".join(("wholesoil",) + init.parent.relative_to(root).parts)
                for top in ("core", "plugin", "processing_provider") for init in (root / top).rglob("__init__.py")}
    assert packages | {"wholesoil"} == set(setup["packages"])
    patterns = setup["package-data"]["wholesoil"]
    for path in [root / "metadata.txt"] + [p for p in (root / "resources").rglob("*") if p.is_file()]:
        relative = path.relative_to(root).as_posix()
        assert any(fnmatch.fnmatch(relative, p) and relative.count("/") == p.count("/") for p in patterns), relative
