"""Build the Graphical Modeler models shipped in resources/models/ (needs QGIS).

Run: . scripts/qgis_env.sh && .venv/bin/python scripts/make_models.py
"""

import sys
from pathlib import Path

from qgis.core import (QgsApplication, QgsProcessing, QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                       QgsProcessingModelChildParameterSource, QgsProcessingModelOutput,
                       QgsProcessingModelParameter, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterString)
from qgis.PyQt.QtCore import QPointF

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "resources" / "models"


#: Layout of the Modeler canvas (component centres, px): inputs in a row at the top, then one row per
#: step, each step's output beside or below it; components are 200 x 30 and must neither overlap nor
#: cross the canvas's top or left edge.
COLUMN_WIDTH = 250
ROW_HEIGHT = 120
DOCS = "https://github.com/wholesoil/wholesoil/blob/main/docs/qgis.md"


def add_input(model, definition, column, help_text):
    model.addModelParameter(definition, QgsProcessingModelParameter(definition.name()))
    model.parameterComponent(definition.name()).setPosition(QPointF(150 + column * COLUMN_WIDTH, 60))
    definition.setHelp(help_text)


def child(algorithm_id, child_id, sources, outputs, column, row):
    """A child algorithm with its parameter sources and the outputs it exposes to the model.

    outputs: output name -> (model output name, description, (column, row) of the output box). Every
    output is optional and defaults to a temporary layer, so the model runs with its inputs alone.
    """
    step = QgsProcessingModelChildAlgorithm(algorithm_id)
    step.setChildId(child_id)
    step.setDescription(child_id.replace("_", " "))
    step.setPosition(QPointF(150 + column * COLUMN_WIDTH, 60 + row * ROW_HEIGHT))
    for name, source in sources.items():
        step.addParameterSources(name, [source])
    exposed = {}
    for output_name, (model_output_name, description, (out_column, out_row)) in outputs.items():
        output = QgsProcessingModelOutput(model_output_name, description)
        output.setDefaultValue(QgsProcessing.TEMPORARY_OUTPUT)
        output.setChildId(child_id)
        output.setChildOutputName(output_name)
        output.setPosition(QPointF(150 + out_column * COLUMN_WIDTH, 60 + out_row * ROW_HEIGHT))
        exposed[model_output_name] = output
    step.setModelOutputs(exposed)  # before addChildAlgorithm, which takes a copy
    return step


def bnpp_by_depth_model():
    """β raster -> fraction raster -> total split over the layers; runs with only the β raster given."""
    model = QgsProcessingModelAlgorithm("BNPP by depth from a β raster", "wholesoil models")
    model.setHelpContent({
        "ALG_DESC": "Root fractions per depth layer from a raster of β (Y = 1 - β^d; Gale & Grigal 1987, "
                    "Jackson et al. 1996, doi:10.1007/BF00333714), then a total (for example BNPP, "
                    "Mg C ha-1 yr-1) split over those layers. Chains wholesoil:depthfractionsbetaraster and "
                    "wholesoil:partitiontotalraster. Both outputs are temporary layers unless you save them.",
        "ALG_CREATOR": "wholesoil", "HELP_URL": f"{DOCS}#models",
        "beta": "One band of β (0 to 1), e.g. resources/sample_data/americas_root_beta.tif.",
        "total": "The profile total to split, in its own unit (2.0 by default).",
        "layers": "Depth breaks in cm or a named scheme (standard7, standard5, globalsoilmap)."})
    add_input(model, QgsProcessingParameterRasterLayer("beta", "Raster of β"), 0, "One band of β (0 to 1)")
    add_input(model, QgsProcessingParameterNumber("total", "Total to split, e.g. BNPP",
                                                  QgsProcessingParameterNumber.Double, 2.0), 1,
              "The profile total to split (for BNPP: Mg C ha-1 yr-1)")
    add_input(model, QgsProcessingParameterString("layers", "Depth layers (cm)", "0,20,40,60,80,100,150,200"), 2,
              "Depth breaks in cm")
    fractions = child("wholesoil:depthfractionsbetaraster", "root_fractions", {
        "BETA_RASTER": QgsProcessingModelChildParameterSource.fromModelParameter("beta"),
        "LAYERS": QgsProcessingModelChildParameterSource.fromModelParameter("layers"),
        "NORMALIZE": QgsProcessingModelChildParameterSource.fromStaticValue(True),
    }, {"OUTPUT": ("fractions", "Root fractions, one band per layer", (0, 2))}, 0.5, 1)
    split = child("wholesoil:partitiontotalraster", "split_total", {
        "TOTAL": QgsProcessingModelChildParameterSource.fromModelParameter("total"),
        "FRACTIONS": QgsProcessingModelChildParameterSource.fromChildOutput("root_fractions", "OUTPUT"),
        "PREFIX": QgsProcessingModelChildParameterSource.fromStaticValue("bnpp"),
    }, {"OUTPUT": ("by_layer", "Total by layer, one band per layer", (1.5, 3))}, 1.5, 2)
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
