"""The plugin in a real QgsApplication with an iface (pytest-qgis), and its metadata."""

import configparser

import pytest
from qgis.core import QgsApplication

import wholesoil
from wholesoil.processing_provider.provider import ALGORITHMS, MODELS_DIR, model_name

from conftest import ROOT

#: Every algorithm id the provider serves: the algorithm classes and the shipped models.
ALGORITHM_IDS = {f"wholesoil:{cls.NAME}" for cls in ALGORITHMS} | \
    {f"wholesoil:{model_name(path)}" for path in MODELS_DIR.glob("*.model3")}


@pytest.fixture
def plugin(qgis_iface, qgis_processing):
    plugin = wholesoil.classFactory(qgis_iface)
    registry = QgsApplication.processingRegistry()
    existing = registry.providerById("wholesoil")
    if existing is not None:  # registered by another test: start from a clean registry
        registry.removeProvider(existing)
    plugin.initGui()
    yield plugin
    plugin.unload()


def menu_actions(menu):
    for action in menu.actions():
        if action.menu() is not None:
            yield from menu_actions(action.menu())
        else:
            yield action


def test_initgui_adds_menu_and_provider(plugin, qgis_iface):
    bar = qgis_iface.mainWindow().menuBar()
    menus = [a.menu() for a in bar.actions() if a.menu() is not None and a.menu().objectName() == "wholesoilMenu"]
    assert len(menus) == 1 and menus[0].title() == "wholesoil"
    assert menus[0].icon().isNull(), "a menu bar shows a menu's icon instead of its title"
    ids = {a.objectName() for a in menu_actions(menus[0]) if not a.isSeparator()}
    assert ids == ALGORITHM_IDS | {"wholesoilLoadSampleData", "wholesoilHelp"}
    assert QgsApplication.processingRegistry().providerById("wholesoil") is plugin.provider


def test_menu_entry_opens_the_algorithm_dialog(plugin, qgis_iface):
    from qgis.gui import QgsBrowserGuiModel

    browser = QgsBrowserGuiModel()  # pytest-qgis's iface has no browser model; Processing's dialog wants one
    qgis_iface.browserModel = lambda: browser
    action = next(a for a in menu_actions(plugin.menu) if a.objectName() == "wholesoil:depthfractionslogistic")
    opened = []
    original = plugin.open_dialog
    plugin.open_dialog = lambda alg_id: opened.append(original(alg_id))
    action.trigger()
    dialog = opened[0]
    try:
        assert dialog.isVisible()
        assert dialog.algorithm().id() == "wholesoil:depthfractionslogistic"
    finally:
        dialog.close()


def test_unload_removes_everything(qgis_iface, qgis_processing):
    plugin = wholesoil.classFactory(qgis_iface)
    registry = QgsApplication.processingRegistry()
    if registry.providerById("wholesoil") is not None:
        registry.removeProvider(registry.providerById("wholesoil"))
    plugin.initGui()
    plugin.unload()
    bar = qgis_iface.mainWindow().menuBar()
    assert not [a for a in bar.actions() if a.menu() is not None and a.menu().objectName() == "wholesoilMenu"]
    assert registry.providerById("wholesoil") is None


def test_init_processing_without_iface_registers_once(qgis_processing):
    plugin = wholesoil.classFactory(None)  # as under qgis_process
    registry = QgsApplication.processingRegistry()
    if registry.providerById("wholesoil") is not None:
        registry.removeProvider(registry.providerById("wholesoil"))
    plugin.initProcessing()
    plugin.initProcessing()
    assert len([p for p in registry.providers() if p.id() == "wholesoil"]) == 1
    assert {a.id() for a in registry.providerById("wholesoil").algorithms()} == ALGORITHM_IDS
    plugin.unload()


def test_metadata_passes_the_plugin_repository_checks():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "metadata.txt", encoding="utf-8")
    general = parser["general"]
    for key in ("name", "qgisMinimumVersion", "description", "about", "version", "author", "email",
                "tracker", "repository"):
        assert general.get(key, "").strip(), f"metadata.txt lacks {key}"
    assert general["name"] == "wholesoil"
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["hasProcessingProvider"] == "yes"
    assert general["version"] == wholesoil.__version__
    assert (ROOT / general["icon"]).exists()
    changes = [line for line in general["changelog"].splitlines() if line.startswith("- ")]
    assert len(changes) >= 5, "the Plugin Manager shows this changelog: list the recent changes"
    assert (ROOT / "LICENSE").read_text().startswith("                    GNU GENERAL PUBLIC LICENSE")


def test_algorithm_ids_and_help_are_plain():
    names = [cls.NAME for cls in ALGORITHMS]
    assert len(set(names)) == len(names)
    for cls in ALGORITHMS:
        assert cls.NAME.isalpha() and cls.NAME.islower(), cls.NAME
        assert cls.HELP.strip() and "<" not in cls.HELP, f"{cls.NAME}: help must be plain text"


def test_load_sample_data_adds_every_file_with_its_source_and_licence(plugin, qgis_iface):
    from qgis.core import QgsProject

    from wholesoil.plugin.sample_data import GROUP_NAME, SAMPLE_DATA

    action = next(a for a in menu_actions(plugin.menu) if a.objectName() == "wholesoilLoadSampleData")
    action.trigger()
    action.trigger()  # a second time replaces the group
    project = QgsProject.instance()
    try:
        groups = [g for g in project.layerTreeRoot().children() if g.name() == GROUP_NAME]
        assert len(groups) == 1
        layers = [node.layer() for node in groups[0].findLayers()]
        files = {p.stem for p in SAMPLE_DATA.iterdir() if p.suffix in (".tif", ".gpkg", ".csv")}
        assert {layer.name() for layer in layers} == files  # srdb_bnpp_sites once: its GeoPackage
        for layer in layers:
            assert layer.isValid() and "(" in layer.attribution(), layer.name()
            assert layer.metadata().rights(), layer.name()
        points = {layer.name(): layer.featureCount() for layer in layers if layer.type() == layer.VectorLayer
                  and layer.isSpatial()}
        assert points == {"srdb_bnpp_sites": 137, "israd_sample_profiles": 107, "neon_megapit_horizons": 347,
                          "srdb_rh_records": 832}
    finally:
        project.removeMapLayers([layer.id() for layer in layers])
        project.layerTreeRoot().removeChildNode(groups[0])


def test_message_bar_is_quiet_when_every_package_is_installed(plugin, qgis_iface):
    from qgis.core import Qgis

    assert not [m for m in qgis_iface.messageBar().get_messages(Qgis.Warning) if "wholesoil" in m]


def test_shipped_python_lines_fit_the_plugin_site_s_quality_scan():
    """No line over 120 characters in the Python files the plugin ZIP ships (git archive minus export-ignore)."""
    import subprocess

    ignored = [line.split()[0].lstrip("/") for line in (ROOT / ".gitattributes").read_text().splitlines()
               if "export-ignore" in line]
    files = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    long_lines = [f"{name}:{number}" for name in files if not any(name.startswith(i) for i in ignored)
                  for number, line in enumerate((ROOT / name).read_text(encoding="utf-8").splitlines(), 1)
                  if len(line) > 120]
    assert not long_lines
