"""The bundled sample data as project layers, each with its source and licence.

``resources/sample_data/SOURCE.md`` is the one place that says where each file comes from;
its table gives each layer's attribution and licence, so the two never disagree.
"""

import re
from pathlib import Path

from qgis.core import QgsLayerMetadata, QgsRasterLayer, QgsVectorLayer

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "resources" / "sample_data"
GROUP_NAME = "wholesoil sample data"
#: CSV file -> (x field, y field) in WGS 84 longitude/latitude; the other CSVs load as tables.
COORDINATES = {"israd_sample_profiles.csv": ("pro_long", "pro_lat"),
               "neon_megapit_horizons.csv": ("decimalLongitude", "decimalLatitude"),
               "srdb_rh_records.csv": ("Longitude", "Latitude")}
#: Files that repeat another one (the GeoPackage holds the same points as this CSV).
SKIPPED = {"srdb_bnpp_sites.csv"}


def sources(path=SAMPLE_DATA / "SOURCE.md"):
    """{file name: (licence, citation)} from the table of SOURCE.md."""
    found = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not cells[0].startswith("`"):
            continue
        licence, citation = cells[3], re.sub(r"\*", "", cells[4])
        for name in re.findall(r"`([^`]+)`", cells[0]):
            found[name] = (licence, citation)
    return found


def _csv_layer(path, name):
    options = "delimiter=,&detectTypes=yes&geomType=none"
    if path.name in COORDINATES:
        x, y = COORDINATES[path.name]
        options = f"delimiter=,&detectTypes=yes&xField={x}&yField={y}&crs=EPSG:4326"
    return QgsVectorLayer(f"{Path(path).resolve().as_uri()}?{options}", name, "delimitedtext")


def sample_layers():
    """One valid layer per bundled file (rasters, GeoPackage points, CSV points and tables), attributed."""
    cited = sources()
    layers = []
    for path in sorted(SAMPLE_DATA.iterdir()):
        if path.name in SKIPPED or path.suffix not in (".tif", ".gpkg", ".csv"):
            continue
        name = path.stem
        if path.suffix == ".tif":
            layer = QgsRasterLayer(str(path), name)
        elif path.suffix == ".gpkg":
            layer = QgsVectorLayer(str(path), name, "ogr")
        else:
            layer = _csv_layer(path, name)
        if not layer.isValid():
            raise ValueError(f"could not load the sample file {path}")
        licence, citation = cited.get(path.name, ("", ""))
        layer.setAttribution(citation)
        metadata = QgsLayerMetadata()
        metadata.setTitle(name)
        metadata.setAbstract(f"wholesoil sample data. Source: {citation}")
        metadata.setRights([licence] if licence else [])
        layer.setMetadata(metadata)
        layers.append(layer)
    return layers


def load_sample_data(project):
    """Add the sample layers to ``project`` in a group of their own (replacing an earlier one); returns the group."""
    root = project.layerTreeRoot()
    old = root.findGroup(GROUP_NAME)
    if old is not None:
        project.removeMapLayers(old.findLayerIds())
        root.removeChildNode(old)
    group = root.insertGroup(0, GROUP_NAME)
    for layer in sample_layers():
        project.addMapLayer(layer, False)
        group.addLayer(layer)
    return group
