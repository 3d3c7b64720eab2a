"""Processing algorithm wholesoil:samplerastersatpoints."""

from qgis.core import (QgsProcessing, QgsProcessingOutputString, QgsProcessingParameterFeatureSink,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterField,
                       QgsProcessingParameterMultipleLayers)

from ...core.errors import InputError
from ..algorithm import WholesoilAlgorithm, add_covariate_names_parameter, core_callbacks, covariate_names
from ..learn_common import GROUP, GROUP_ID, LEARN_TAGS
from ..parameters import INPUT, table_output
from ..qgis_io import check_sink_columns, source_to_table, table_to_sink


class SampleRastersAtPoints(WholesoilAlgorithm):
    NAME = "samplerastersatpoints"
    DISPLAY_NAME = "Sample rasters at points"
    GROUP = GROUP
    GROUP_ID = GROUP_ID
    REQUIRES = ("numpy", "pandas", "pyproj")
    TAGS = LEARN_TAGS + ("sample", "extract", "point values", "raster values", "training table", "WorldClim")
    HELP = """
Adds the value of every band of every covariate raster at each point: the training table of a predictive model.

Points are reprojected to each raster's own CRS, so the rasters may have different CRSs and grids. A field is named
by the raster layer's name; the bands of a multi-band raster by their band descriptions, else name_b1, name_b2... A
band's scale and offset are applied. Covariate names, one per raster, name the fields otherwise (with qgis_process,
where a layer's name is its file name, this is the way to name them); one name per band of every raster also names
the bands of multi-band rasters, as the command line's NAME=RASTER:BAND items do. Predict model as a map takes the
same covariate names.

Points outside a raster or on its nodata get an empty value; they are listed in the log and, if asked for, in the
Problems table.

Covariates (an output for models): the names of the fields added, in order, separated by ';', ready to be the
covariates of Train a predictive model.

Observations: optionally a table of observations (for example the layers of each profile) sharing a site key field
with the points. The output is then that table with the covariates of its site added.
"""

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(INPUT, "Points (sites)", [QgsProcessing.TypeVectorPoint]))
        self.addParameter(QgsProcessingParameterMultipleLayers("RASTERS", "Covariate rasters",
                                                               QgsProcessing.TypeRaster))
        add_covariate_names_parameter(self)
        self.addParameter(QgsProcessingParameterFeatureSource(
            "OBSERVATIONS", "Observations to add the covariates to (optional)", [QgsProcessing.TypeVector],
            optional=True))
        self.addParameter(QgsProcessingParameterField(
            "KEY_FIELD", "Site key field (in the points and the observations)", parentLayerParameterName=INPUT,
            optional=True))
        self.addParameter(table_output("OUTPUT", "Table with covariates"))
        self.addParameter(QgsProcessingParameterFeatureSink(
            "PROBLEMS", "Problems (points outside rasters or on nodata)", QgsProcessing.TypeVector, optional=True,
            createByDefault=False))
        self.addOutput(QgsProcessingOutputString("COVARIATES", "Covariates (the names of the fields added, "
                                                               "separated by ';')"))

    def requirements(self, parameters):
        """Joining observations to their sites compares keys as scikit-learn's screening does."""
        return super().requirements(parameters) + (("sklearn",) if parameters.get("OBSERVATIONS") else ())

    def compute(self, parameters, context, feedback):
        from ...core.learn.sampling import join_observations, sample_rasters
        from ...core.rasters import band_names

        source = self.parameterAsSource(parameters, INPUT, context)
        layers = self.parameterAsLayerList(parameters, "RASTERS", context)
        if not layers:
            raise InputError("choose at least one covariate raster")
        observations = self.parameterAsSource(parameters, "OBSERVATIONS", context)
        key = self.parameterAsFields(parameters, "KEY_FIELD", context)
        if (observations is None) != (not key):
            raise InputError("OBSERVATIONS and KEY_FIELD go together: the observations need the site key field, and "
                             "the key field needs observations")
        paths, names = [layer.source() for layer in layers], []
        for layer, path, name in zip(layers, paths, covariate_names(self, parameters, context, layers)):
            if isinstance(name, list):  # one per band: an empty entry keeps the band's default name
                name = [given or default for given, default in zip(name, band_names(path, layer.name()))]
            names.append(name or layer.name())
        table = source_to_table(source, feedback)
        result = sample_rasters(table, paths, names,
                                check_columns=None if observations is not None else lambda columns: (
                                    check_sink_columns(self, "OUTPUT", columns)),
                                **core_callbacks(feedback, end=90))
        for note in result.notes:
            feedback.pushWarning(note)
        for _, row in result.summary.iterrows():
            feedback.pushInfo(f"{row['feature']}: {row['valid']} values, {row['outside']} points outside, "
                              f"{row['nodata']} on nodata")
        output, output_source = result.table, source
        if observations is not None:
            output = join_observations(source_to_table(observations, feedback), result.table, key[0])
            output_source = observations
        results = {"OUTPUT": table_to_sink(self, parameters, "OUTPUT", context, output, output_source),
                   "COVARIATES": ";".join(result.summary["feature"])}
        if parameters.get("PROBLEMS") is not None:
            results["PROBLEMS"] = table_to_sink(self, parameters, "PROBLEMS", context, result.problems)
        return results
