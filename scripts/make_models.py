"""Build the Graphical Modeler models shipped in resources/models/ (needs QGIS).

Run: . scripts/qgis_env.sh && .venv/bin/python scripts/make_models.py
"""

import sys
from pathlib import Path

from qgis.core import (QgsApplication, QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                       QgsProcessingModelChildParameterSource, QgsProcessingModelOutput,
                       QgsProcessingModelParameter, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterString)
from qgis.PyQt.QtCore import QPointF

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "resources" / "models"


def add_input(model, definition, x):
    model.addModelParameter(definition, QgsProcessingModelParameter(definition.name()))
    model.parameterComponent(definition.name()).setPosition(QPointF(x, 60))


def child(algorithm_id, child_id, sources, outputs, y):
    """A child algorithm with its parameter sources and the outputs it exposes to the model."""
    step = QgsProcessingModelChildAlgorithm(algorithm_id)
    step.setChildId(child_id)
    step.setDescription(child_id.replace("_", " "))
    step.setPosition(QPointF(300, y))
    for name, source in sources.items():
        step.addParameterSources(name, [source])
    exposed = {}
    for output_name, (model_output_name, description) in outputs.items():
        output = QgsProcessingModelOutput(model_output_name, description)
        output.setChildId(child_id)
        output.setChildOutputName(output_name)
        output.setPosition(QPointF(550, y))
        exposed[model_output_name] = output
    step.setModelOutputs(exposed)  # before addChildAlgorithm, which takes a copy
    return step


def bnpp_by_depth_model():
    """beta raster -> fraction raster -> total split over the layers."""
    model = QgsProcessingModelAlgorithm("BNPP by depth from a beta raster", "wholesoil models")
    model.setHelpContent({"ALG_DESC": "Root fractions per depth layer from a raster of beta (Jackson et al. 1996), "
                                      "then a total (for example BNPP, Mg C ha-1 yr-1) split over those layers. "
                                      "Chains wholesoil:depthfractionsbeta and wholesoil:partitiontotal."})
    add_input(model, QgsProcessingParameterRasterLayer("beta", "Raster of beta"), 60)
    add_input(model, QgsProcessingParameterNumber("total", "Total to split (e.g. BNPP, Mg C ha-1 yr-1)",
                                                  QgsProcessingParameterNumber.Double, 2.0), 220)
    add_input(model, QgsProcessingParameterString("layers", "Depth layers (cm)", "0,20,40,60,80,100,150,200"), 380)
    fractions = child("wholesoil:depthfractionsbeta", "root_fractions", {
        "BETA_RASTER": QgsProcessingModelChildParameterSource.fromModelParameter("beta"),
        "LAYERS": QgsProcessingModelChildParameterSource.fromModelParameter("layers"),
        "NORMALIZE": QgsProcessingModelChildParameterSource.fromStaticValue(True),
    }, {"OUTPUT_RASTER": ("fractions", "Root fractions, one band per layer")}, 180)
    split = child("wholesoil:partitiontotal", "split_total", {
        "TOTAL": QgsProcessingModelChildParameterSource.fromModelParameter("total"),
        "FRACTIONS": QgsProcessingModelChildParameterSource.fromChildOutput("root_fractions", "OUTPUT_RASTER"),
        "PREFIX": QgsProcessingModelChildParameterSource.fromStaticValue("bnpp"),
    }, {"OUTPUT_RASTER": ("by_layer", "Total by layer, one band per layer")}, 320)
    model.addChildAlgorithm(fractions)
    model.addChildAlgorithm(split)
    model.updateDestinationParameters()
    return model


def main():
    app = QgsApplication([], False)
    app.initQgis()
    sys.path.append("/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing

    from wholesoil.processing_provider.provider import WholesoilProvider

    Processing.initialize()
    provider = WholesoilProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    MODELS.mkdir(parents=True, exist_ok=True)
    model = bnpp_by_depth_model()
    path = MODELS / "bnpp_by_depth.model3"
    if not model.toFile(str(path)):
        raise SystemExit(f"could not write {path}")
    print(f"wrote {path}")
    app.exitQgis()


if __name__ == "__main__":
    main()
