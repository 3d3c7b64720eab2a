"""Processing algorithm wholesoil:predictraster."""

from qgis.core import (QgsProcessing, QgsProcessingParameterBoolean, QgsProcessingParameterEnum,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterMultipleLayers,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterString)

from ...core.errors import InputError
from ..algorithm import WholesoilAlgorithm, add_covariate_names_parameter, covariate_names, raster_file
from ..depth_fractions_base import raster_engine
from ..learn_common import GROUP, GROUP_ID, LEARN_REQUIRES, LEARN_TAGS
from ..parameters import raster_output
from ..products_base import QUICKLOOK

#: The band kinds per model: core.maps.predict.REGRESSION_OUTPUTS and CLASSIFICATION_OUTPUTS, each once.
OUTPUT_CHOICES = ["mean", "sd", "cv", "lower", "upper", "di", "aoa", "class", "p"]


class PredictRaster(WholesoilAlgorithm):
    NAME = "predictraster"
    DISPLAY_NAME = "Predict model as a map"
    GROUP = GROUP
    GROUP_ID = GROUP_ID
    REQUIRES = LEARN_REQUIRES
    TAGS = LEARN_TAGS + ("map", "raster", "prediction", "predictive map", "uncertainty", "prediction interval")
    REFERENCES = ("coulston2016", "meyer2021")
    HELP = """
Predicts one or more saved models (from Train model) over covariate rasters, window by window on all cores, into one
multi-band raster.

Bands per regression model: NAME_mean (target units), NAME_sd (spread of the per-tree predictions of a forest),
NAME_cv = sd / mean, NAME_lower and NAME_upper (the Coulston et al. (2016) interval calibrated in training, or the
quantiles of a quantile forest). Classification: NAME_class (class code; the labels are in the band metadata) and
NAME_p_CLASS (probabilities). NAME is the model's target, or the prefix given for the model (needed when two
models share a target, e.g. a forest and a lasso of the same variable).

Area of applicability (Meyer and Pebesma 2021), chosen among the bands: NAME_di, the dissimilarity index of a
pixel's covariates to the training data (distance to the nearest training row over the mean distance between
training rows, covariates standardised and weighted by their importance), and NAME_aoa, 1 where DI is at most the
threshold found from the cross-validation folds (as the R package CAST does) and 0 where the map extrapolates.

Covariate layers are matched to the model's covariates by name: a single-band layer by its layer name (as Sample
rasters at points names it), else by its file name or its band description (as the command line names it), a
multi-band layer by its band descriptions. Covariate names, one per raster, name them otherwise (with qgis_process,
where a layer's name is its file name, this is the way to name them); one name per band of every raster also names
the bands of multi-band rasters (a stack whose bands have no descriptions, as gdalbuildvrt -separate makes). They
must share CRS, size and pixel grid, or choose a reference grid to warp them to (nearest neighbour for categorical
covariates, bilinear otherwise).

Nodata in any of a model's covariates gives nodata in that model's bands. A pixel whose categorical covariate holds
a class the model never saw gets nodata, and the count is reported; so is the count of pixels whose covariates lie
outside their training range.

NAME_lower and NAME_upper are at the level the model was calibrated for (95 % unless chosen in Train model; the band
metadata records it) and lower is cut at the target's lower limit (by default 0 when every training value is >= 0).
The output is a tiled, DEFLATE-compressed Float32 GeoTIFF with nodata -9999, band descriptions as above, units in
the band metadata, and the model files (with their SHA-256), covariates and wholesoil version in its metadata.
The optional quick-look picture (PNG) shows each model's mean or class band (at most eight) with its units, as the
command line's predict-raster --quicklook draws it.

After the first map of a forest's model file, its prepared trees are kept in the user's cache folder
(~/.cache/wholesoil/forests; the environment variable WHOLESOIL_CACHE_DIR names another folder, or off), so that
later maps of that model start without reading the file again (about 1.5 s for a 200-tree forest).
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterMultipleLayers("MODELS", "Model files (.wsmodel, from Train model)",
                                                               QgsProcessing.TypeFile))
        self.addParameter(QgsProcessingParameterMultipleLayers("COVARIATES", "Covariate rasters",
                                                               QgsProcessing.TypeRaster))
        add_covariate_names_parameter(self)
        self.addParameter(QgsProcessingParameterString(
            "NAMES", "Band name prefixes, one per model in the order above, separated by commas (default: each "
            "model's target)", optional=True))
        self.addParameter(QgsProcessingParameterEnum(
            "OUTPUTS", "Bands per model, each model taking those of its kind (none chosen: every band the model "
            "gives, without di and aoa)",
            options=OUTPUT_CHOICES,
            allowMultiple=True, optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer("GRID", "Reference grid to warp the covariates to",
                                                            optional=True))
        self.addParameter(QgsProcessingParameterBoolean("COG", "Cloud Optimized GeoTIFF", defaultValue=False))
        self.addParameter(raster_output("OUTPUT", "Predicted map"))
        self.addParameter(QgsProcessingParameterFileDestination(
            QUICKLOOK, "Quick-look picture (PNG) of each model's mean or class band", fileFilter="PNG files (*.png)",
            optional=True, createByDefault=False))

    def requirements(self, parameters):
        """The quick-look is drawn with matplotlib."""
        return super().requirements(parameters) + (("matplotlib",) if parameters.get(QUICKLOOK) not in (None, "")
                                                   else ())

    def compute(self, parameters, context, feedback):
        from ...core.maps.predict import predict_raster, valid_summary

        models = [m for m in self.parameterAsFileList(parameters, "MODELS", context) if m]
        if not models:
            given = parameters.get("MODELS")
            raise InputError("give at least one model file" if given in (None, "", []) else
                             f"Model files takes model files (.wsmodel, from Train model), not {given!r}")
        names = [n.strip() for n in (self.parameterAsString(parameters, "NAMES", context) or "").split(",")]
        names = names if any(names) else None
        layers = self.parameterAsLayerList(parameters, "COVARIATES", context)
        covariates = []
        for layer, name in zip(layers, covariate_names(self, parameters, context, layers)):
            path = raster_file(layer)
            if isinstance(name, list):  # one name per band of a multi-band raster
                covariates += [(band_name, f"{path}:{band}") for band, band_name in enumerate(name, start=1)]
            else:
                covariates.append((name or (layer.name() if layer.bandCount() == 1 else None), path))
        chosen = None  # every band the model gives
        if parameters.get("OUTPUTS") not in (None, "", []):
            chosen = [OUTPUT_CHOICES[i] for i in self.parameterAsEnums(parameters, "OUTPUTS", context)]
        grid = self.parameterAsRasterLayer(parameters, "GRID", context)
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        png = self.parameterAsFileOutput(parameters, QUICKLOOK, context) if parameters.get(QUICKLOOK) not in (
            None, "") else None
        run = predict_raster(models, covariates, output, outputs=chosen, names=names,
                             grid=raster_file(grid) if grid else None, quicklook=png,
                             cog=self.parameterAsBoolean(parameters, "COG", context), **raster_engine(feedback))
        feedback.pushInfo(f"{len(run.band_names)} band{'s' if len(run.band_names) > 1 else ''}: "
                          f"{', '.join(run.band_names)}; {valid_summary(run)}")
        results = {"OUTPUT": output, **({QUICKLOOK: png} if png else {})}
        return results
