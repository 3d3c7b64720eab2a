"""Build the Graphical Modeler models shipped in resources/models/ (needs QGIS).

Run: . scripts/qgis_env.sh && QT_HASH_SEED=0 .venv/bin/python scripts/make_models.py
(the fixed hash seed keeps the order of the XML attributes, and so the diffs of the files, stable).
"""

from pathlib import Path

from qgis.core import (QgsApplication, QgsProcessing, QgsProcessingContext, QgsProcessingModelAlgorithm,
                       QgsProcessingModelChildAlgorithm, QgsProcessingModelChildParameterSource,
                       QgsProcessingModelOutput, QgsProcessingModelParameter, QgsProcessingParameterDefinition,
                       QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterNumber,
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


def value(name):
    return QgsProcessingModelChildParameterSource.fromModelParameter(name)


def static(value):
    return QgsProcessingModelChildParameterSource.fromStaticValue(value)


def with_mandatory_defaults(algorithm_id, sources):
    """``sources`` plus, for every other mandatory input the algorithm shows, its default as a static value."""
    algorithm = QgsApplication.processingRegistry().algorithmById(algorithm_id)
    if algorithm is None:
        raise SystemExit(f"{algorithm_id} is not registered")
    sources = dict(sources)
    for definition in algorithm.parameterDefinitions():
        if definition.name() in sources or definition.isDestination() or definition.flags() & (
                QgsProcessingParameterDefinition.FlagOptional | QgsProcessingParameterDefinition.FlagHidden):
            continue
        if definition.defaultValue() is None:
            raise SystemExit(f"{algorithm_id}: mandatory parameter {definition.name()} has no default; give a source")
        sources[definition.name()] = static(definition.defaultValue())
    return sources


def child(algorithm_id, child_id, sources, outputs, column, row):
    """A child algorithm with its parameter sources and the outputs it exposes to the model.

    sources: parameter name -> source; every other mandatory parameter gets its default as a static value, as
    the Modeler's dialog would (QGIS's model validation requires a value for each).
    outputs: output name -> (model output name, description, (column, row) of the output box). Every
    output is optional and defaults to a temporary layer, so the model runs with its inputs alone.
    """
    step = QgsProcessingModelChildAlgorithm(algorithm_id)
    step.setChildId(child_id)
    step.setDescription(child_id.replace("_", " "))
    step.setPosition(QPointF(150 + column * COLUMN_WIDTH, 60 + row * ROW_HEIGHT))
    for name, source in with_mandatory_defaults(algorithm_id, sources).items():
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


#: The training step's covariates: the names given in covariate_names, else (empty, the default) those of the fields
#: the sampling step added (its COVARIATES output: QGIS names a child's output in expressions
#: @<child description, spaces as _>_<output>, so the sampling step's description must stay "sample covariates").
FEATURES_EXPRESSION = "coalesce(nullif(trim(@covariate_names), ''), @sample_covariates_COVARIATES)"
BNPP_INPUTS_HELP = {
    "sites": "Points with observed BNPP, e.g. resources/sample_data/srdb_bnpp_sites.gpkg (SRDB-V5).",
    "bnpp_field": "The field of the sites holding BNPP.",
    "bnpp_units": "Units of the BNPP field, stored in the model and read by the map products (which convert "
                  "g C m-2 yr-1 and kg C m-2 yr-1 to Mg C ha-1 yr-1).",
    "covariates": "Covariate rasters on one grid, e.g. the bundled WorldClim bio1 and bio12 of the Americas.",
    "covariate_names": "Optional: the covariates' names separated by ';', as Sample rasters at points names the "
                       "sampled fields (each raster's layer name). Empty by default: the names of the fields sampled "
                       "from the covariate rasters, so any rasters work without typing their names.",
    "beta": "One band of β (0 to 1) on the covariates' grid, e.g. resources/sample_data/americas_root_beta.tif.",
}


def add_bnpp_map_steps(model, outputs):
    """Inputs and steps shared by the map models: sites -> sampled covariates -> BNPP forest -> BNPP map (mean, sd).

    outputs: what the prediction step exposes (see :func:`child`). Returns the prediction's child id.
    """
    add_input(model, QgsProcessingParameterFeatureSource("sites", "Sites with observed BNPP",
                                                         [QgsProcessing.TypeVectorPoint]), 0,
              BNPP_INPUTS_HELP["sites"])
    add_input(model, QgsProcessingParameterString("bnpp_field", "BNPP field of the sites", "bnpp_Mg_ha_yr"), 1,
              BNPP_INPUTS_HELP["bnpp_field"])
    add_input(model, QgsProcessingParameterString("bnpp_units", "BNPP units", "Mg C ha-1 yr-1"), 2,
              BNPP_INPUTS_HELP["bnpp_units"])
    add_input(model, QgsProcessingParameterMultipleLayers("covariates", "Covariate rasters",
                                                          QgsProcessing.TypeRaster), 3, BNPP_INPUTS_HELP["covariates"])
    add_input(model, QgsProcessingParameterString("covariate_names", "Covariate names, ;-separated (default: the "
                                                  "sampled layer names)", "", optional=True), 4,
              BNPP_INPUTS_HELP["covariate_names"])
    add_input(model, QgsProcessingParameterRasterLayer("beta", "Raster of β"), 5, BNPP_INPUTS_HELP["beta"])
    model.addChildAlgorithm(child("wholesoil:samplerastersatpoints", "sample_covariates", {
        "INPUT": value("sites"), "RASTERS": value("covariates")}, {}, 0.5, 1))
    model.addChildAlgorithm(child("wholesoil:trainmodel", "train_bnpp_forest", {
        "INPUT": QgsProcessingModelChildParameterSource.fromChildOutput("sample_covariates", "OUTPUT"),
        "TARGET": value("bnpp_field"), "FEATURES": QgsProcessingModelChildParameterSource.fromExpression(
            FEATURES_EXPRESSION), "UNITS": value("bnpp_units"), "TREES": static(300)}, {}, 0.5, 2))
    if "sample_covariates_COVARIATES" not in model.variablesForChildAlgorithm("train_bnpp_forest",
                                                                               QgsProcessingContext()):
        raise SystemExit("the training step's covariates expression names no output of the sampling step")
    model.addChildAlgorithm(child("wholesoil:predictraster", "predict_bnpp", {
        "MODELS": QgsProcessingModelChildParameterSource.fromChildOutput("train_bnpp_forest", "OUTPUT_MODEL"),
        "COVARIATES": value("covariates"), "OUTPUTS": static([0, 1])}, outputs, 0.5, 3))
    return "predict_bnpp"


def depth_resolved_bnpp_model():
    """Sites -> BNPP forest -> BNPP map -> BNPP per layer with U_total from a β raster."""
    model = QgsProcessingModelAlgorithm("Depth-resolved BNPP map", "wholesoil models")
    model.setHelpContent({
        "ALG_DESC": "The BNPP chain of Luo et al. (BNPP preprint, doi:10.21203/rs.3.rs-65178/v3): covariates sampled "
                    "at sites with observed BNPP, a random forest of BNPP (grouped by location), its map with the "
                    "spread of the trees (mean, sd), then BNPP per depth layer from the shares of a β raster "
                    "(Jackson et al. 1996, doi:10.1007/BF00333714) with U_total = sqrt(U_BNPP^2 + U_PDD^2). Chains "
                    "wholesoil:samplerastersatpoints, trainmodel, predictraster, bnppbydepthmap and aggregateraster "
                    "(totals per layer over the map and per 1° latitude band); the outputs are temporary layers "
                    "unless you save them.",
        "ALG_CREATOR": "wholesoil", "HELP_URL": f"{DOCS}#models", **BNPP_INPUTS_HELP,
        "layers": "Depth breaks in cm or a named scheme (standard7, standard5, globalsoilmap)."})
    predict = add_bnpp_map_steps(model, {"OUTPUT": ("bnpp_map", "BNPP map (mean, sd)", (0, 4))})
    add_input(model, QgsProcessingParameterString("layers", "Depth layers (cm)", "0,20,40,60,80,100,150,200"), 6,
              "Depth breaks in cm")
    model.addChildAlgorithm(child("wholesoil:bnppbydepthmap", "bnpp_by_depth", {
        "BNPP_RASTER": QgsProcessingModelChildParameterSource.fromChildOutput(predict, "OUTPUT"),
        "BETA_RASTER": value("beta"), "LAYERS": value("layers")},
        {"OUTPUT": ("bnpp_layers", "BNPP by depth layer (mean, sd, U_total)", (2, 5))}, 2, 4))
    model.addChildAlgorithm(child("wholesoil:aggregateraster", "bnpp_totals", {
        "INPUT": QgsProcessingModelChildParameterSource.fromChildOutput("bnpp_by_depth", "OUTPUT"),
        "LATITUDE_BANDS": static(1.0)},
        {"OUTPUT": ("bnpp_totals", "BNPP totals per layer and 1° latitude band (Pg C yr-1)", (3, 6))}, 3, 5))
    model.updateDestinationParameters()
    return model


def root_carbon_loss_model():
    """Sites -> BNPP map -> Iroot by layer from β; Ibulk rasters; Iloss and Iloss / Iroot by Monte Carlo."""
    model = QgsProcessingModelAlgorithm("Root-carbon loss map", "wholesoil models")
    model.setHelpContent({
        "ALG_DESC": "The loss maps of Luo et al. (Iloss manuscript): a BNPP map from a random forest of site "
                    "observations, Iroot = BNPP x the layer shares of a β raster, minus Ibulk per layer (maps of "
                    "Ibulk models with their sd), giving Iroot, Ibulk, Iloss and Iloss / Iroot per layer and for the "
                    "profile with per-pixel Monte Carlo (mean, sd, 95 % interval). Chains "
                    "wholesoil:samplerastersatpoints, trainmodel, predictraster and carbonlossmaps; the outputs are "
                    "temporary layers unless you save them.",
        "ALG_CREATOR": "wholesoil", "HELP_URL": f"{DOCS}#models", **BNPP_INPUTS_HELP,
        "ibulk": "Ibulk rasters whose NAME_mean bands (with NAME_sd) are the layers in depth order, e.g. "
                 "resources/sample_data/americas_ibulk_0_100.tif (a demonstration, see its SOURCE.md).",
        "layers": "Depth breaks in cm of the Ibulk layers.",
        "draws": "Monte Carlo draws per pixel."})
    predict = add_bnpp_map_steps(model, {"OUTPUT": ("bnpp_map", "BNPP map (mean, sd)", (0, 4))})
    add_input(model, QgsProcessingParameterMultipleLayers("ibulk", "Ibulk rasters (one band per layer)",
                                                          QgsProcessing.TypeRaster), 6,
              "Ibulk per layer (Mg C ha-1 yr-1) with sd bands")
    add_input(model, QgsProcessingParameterString("layers", "Depth layers of Ibulk (cm)", "0,20,40,60,80,100"), 7,
              "Depth breaks in cm")
    add_input(model, QgsProcessingParameterNumber("draws", "Monte Carlo draws per pixel",
                                                  QgsProcessingParameterNumber.Integer, 500), 8, "Draws per pixel")
    model.addChildAlgorithm(child("wholesoil:carbonlossmaps", "loss_maps", {
        "BNPP_RASTER": QgsProcessingModelChildParameterSource.fromChildOutput(predict, "OUTPUT"),
        "BETA_RASTER": value("beta"), "LAYERS": value("layers"), "IBULK": value("ibulk"), "DRAWS": value("draws")},
        {"OUTPUT": ("loss_maps", "Iroot, Ibulk, Iloss and Iloss / Iroot (mean, sd, 95 % interval)", (2, 5))}, 2, 4))
    model.updateDestinationParameters()
    return model


MODELS_TO_BUILD = {"bnpp_by_depth": bnpp_by_depth_model, "depth_resolved_bnpp_map": depth_resolved_bnpp_model,
                   "root_carbon_loss_map": root_carbon_loss_model}


def main():
    from qgis_headless import wholesoil_provider

    with wholesoil_provider():
        MODELS.mkdir(parents=True, exist_ok=True)
        for stem, build in MODELS_TO_BUILD.items():
            path = MODELS / f"{stem}.model3"
            if not build().toFile(str(path)):
                raise SystemExit(f"could not write {path}")
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
