"""What a QGIS user meets (issue 12): missing packages, shipped models, dialogs, help, styling, notes, reports.

In a real QgsApplication (pytest-qgis), through processing.run and through the real qgis_process.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from qgis.core import QgsApplication, QgsProcessingModelAlgorithm, QgsProperty, QgsVectorLayer

from conftest import ROOT, _clean_env, run_qgis_process
from wholesoil.processing_provider.provider import ALGORITHMS, MODELS_DIR, model_name

SAMPLE = ROOT / "resources" / "sample_data"
BLOCKED = ROOT / "tests" / "blocked_packages"
#: Inputs a shipped model may require, by parameter name (a new model's required inputs must be here).
MODEL_INPUTS = {"beta": str(SAMPLE / "americas_root_beta.tif"), "sites": str(SAMPLE / "srdb_bnpp_sites.gpkg"),
                "covariates": [str(SAMPLE / "worldclim_bio1_americas.tif"), str(SAMPLE / "worldclim_bio12_americas.tif")],
                "ibulk": [str(SAMPLE / "americas_ibulk_0_100.tif")]}
HEAVY = ("pandas", "scipy", "sklearn", "matplotlib", "statsmodels", "joblib", "pyproj", "numba", "dask")


def blocked_env(*modules):
    """The environment of a QGIS process in which ``modules`` cannot be imported (tests/blocked_packages)."""
    env = _clean_env()
    env["PYTHONPATH"] = os.pathsep.join([str(BLOCKED), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["WHOLESOIL_BLOCKED"] = ",".join(modules)
    return env


def algorithms():
    registry = QgsApplication.processingRegistry()
    return [a for a in registry.providerById("wholesoil").algorithms()]


# ---------------------------------------------------------------------------------------------
# 1. Missing packages


def test_loading_the_provider_imports_no_scientific_package():
    code = ("import sys\nfrom qgis.core import QgsApplication\napp = QgsApplication([], False)\napp.initQgis()\n"
            "from wholesoil.processing_provider.provider import WholesoilProvider\n"
            "provider = WholesoilProvider()\nassert QgsApplication.processingRegistry().addProvider(provider)\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), len(provider.algorithms()))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_clean_env(),
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[0] == f"[] {len(ALGORITHMS) + len(list(MODELS_DIR.glob('*.model3')))}"


def test_plugin_without_scikit_learn_loads_runs_the_others_and_refuses_with_the_install_line(tmp_path):
    done = subprocess.run([sys.executable, str(BLOCKED / "run_plugin.py"), str(tmp_path)], capture_output=True,
                          text=True, env=blocked_env("sklearn"), timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().split("\n")[-1])
    assert report["modules"] == []
    assert report["menu"] == ["wholesoil"]
    assert f"wholesoil:{FIT}" in report["algorithms"] and "wholesoil:bnppbydepth" in report["algorithms"]
    for name in ("numbers", "raster", "model", "spline"):
        assert report[name] == "ok", (name, report[name])
    for name, title in (("fit", "Fit depth model to profiles"), ("train", "Train model")):
        assert report[name].endswith(f"{title} needs scikit-learn, which is not installed; install with: sudo apt "
                                     "install python3-sklearn, then restart QGIS"), report[name]
    assert len(report["warnings"]) == 1 and "Train model" in report["warnings"][0] \
        and "scikit-learn" in report["warnings"][0] and "Depth fractions" not in report["warnings"][0]
    assert report["fit_help"].startswith("Not available: needs scikit-learn")
    assert (tmp_path / "fractions.tif").exists() and not (tmp_path / "fits.csv").exists()


FIT = "fitdepthmodel"


@pytest.mark.qgis_process
def test_qgis_process_without_scikit_learn_lists_the_provider_and_refuses_in_one_line(tmp_path):
    env = blocked_env("sklearn")
    command = [str(ROOT / "scripts" / "qgis-process")]
    listing = subprocess.run(command + ["list"], capture_output=True, text=True, env=env, timeout=300)
    assert all(f"wholesoil:{cls.NAME}" in listing.stdout for cls in ALGORITHMS)
    out = tmp_path / "fits.csv"
    refused = subprocess.run(command + ["run", f"wholesoil:{FIT}", "--", f"INPUT={SAMPLE / 'silsoe_fine_roots.csv'}",
                                        "ID_FIELD=profile_id", "TOP_FIELD=top_cm", "BOTTOM_FIELD=bottom_cm",
                                        "VALUE_FIELD=mass_mg_cm3", f"OUTPUT={out}"],
                             capture_output=True, text=True, env=env, timeout=300)
    assert refused.returncode == 1 and not out.exists()
    assert "Fit depth model to profiles needs scikit-learn, which is not installed; install with" in refused.stderr
    ran = subprocess.run(command + ["run", "wholesoil:depthfractionslogistic", "--", "D50=20", "D95=80"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert ran.returncode == 0 and "0-20 cm: 0.5038" in ran.stdout


@pytest.mark.qgis_process
def test_raster_algorithms_run_without_pandas_and_table_ones_refuse(tmp_path):
    """Maps need numpy and GDAL only (a QGIS from Debian's packages has no pandas unless asked for)."""
    env, command = blocked_env("pandas"), [str(ROOT / "scripts" / "qgis-process"), "run"]
    beta, ibulk = f"BETA_RASTER={SAMPLE / 'americas_root_beta.tif'}", SAMPLE / "americas_ibulk_0_100.tif"
    for algorithm, arguments in (("depthfractionsbetaraster", [beta]),
                                 ("bnppbydepthmap", [f"BNPP_RASTER={ibulk}", "BNPP_BAND=1", beta]),
                                 ("turnovertimeraster", [f"STOCK_RASTER={ibulk}", "FLUX=2"])):
        out = tmp_path / f"{algorithm}.tif"
        done = subprocess.run(command + [f"wholesoil:{algorithm}", "--", *arguments, f"OUTPUT={out}"],
                              capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0 and out.exists(), (algorithm, done.stderr[-2000:])
    refused = subprocess.run(command + ["wholesoil:depthfractionslogistic", "--", "D50=20", "D95=80"],
                             capture_output=True, text=True, env=env, timeout=300)
    assert refused.returncode == 1 and "Depth fractions (logistic) needs pandas, which is not installed" \
        in refused.stderr


def test_map_product_with_an_html_report_and_no_pandas_is_refused_before_the_map(wholesoil_processing, tmp_path,
                                                                                 monkeypatch):
    """The report's table needs pandas: refused up front (not after computing the map); the map alone runs."""
    from qgis.core import QgsProcessingException

    from wholesoil.processing_provider import requirements

    monkeypatch.setattr(requirements, "is_available", lambda module: module != "pandas")
    bio12 = str(SAMPLE / "worldclim_bio12_americas.tif")  # a stand-in positive stock and flux
    parameters = {"STOCK_RASTER": bio12, "FLUX_RASTER": bio12, "OUTPUT": str(tmp_path / "t.tif")}
    with pytest.raises(QgsProcessingException, match="Turnover-time map with uncertainty needs pandas, which is not "
                                                     "installed"):
        wholesoil_processing.run("wholesoil:turnovertimemap", {**parameters, "OUTPUT_HTML": str(tmp_path / "t.html")})
    assert not (tmp_path / "t.tif").exists() and not (tmp_path / "t.html").exists()
    assert os.path.exists(wholesoil_processing.run("wholesoil:turnovertimemap", parameters)["OUTPUT"])


@pytest.mark.qgis_process
def test_shipped_model_without_scikit_learn_is_refused_before_its_first_step(tmp_path):
    """A model needs what its steps need: refused up front with the install line, not after sampling the sites."""
    out = tmp_path / "bnpp.tif"
    refused = subprocess.run(
        [str(ROOT / "scripts" / "qgis-process"), "run", "wholesoil:depthresolvedbnppmap", "--",
         f"sites={MODEL_INPUTS['sites']}", *[f"covariates={c}" for c in MODEL_INPUTS["covariates"]],
         f"beta={MODEL_INPUTS['beta']}", f"predict_bnpp:bnpp_map={out}"],
        capture_output=True, text=True, env=blocked_env("sklearn"), timeout=300)
    assert refused.returncode == 1 and not out.exists()
    assert "Depth-resolved BNPP map needs scikit-learn, which is not installed; install with" in refused.stderr
    assert "points outside" not in refused.stdout, "the sampling step ran before the refusal"
    assert "Error encountered while running" not in refused.stderr


def test_shipped_model_requires_what_its_steps_require(wholesoil_processing):
    registry = QgsApplication.processingRegistry()
    for path in shipped_models():
        model = registry.algorithmById(f"wholesoil:{model_name(path)}")
        steps = {module for step in model.childAlgorithms().values() for module in step.algorithm().REQUIRES}
        assert set(model.REQUIRES) == steps and set(model.createInstance().REQUIRES) == steps
    assert "sklearn" in registry.algorithmById("wholesoil:depthresolvedbnppmap").REQUIRES
    assert "sklearn" not in registry.algorithmById("wholesoil:bnppbydepth").REQUIRES


def test_install_hint_names_each_platform_s_way():
    from wholesoil.processing_provider import requirements

    assert "OSGeo4W Shell" in requirements.install_hint(["sklearn"], "win32")
    assert "python -m pip install scikit-learn" in requirements.install_hint(["sklearn"], "win32")
    assert "-m pip install --user scikit-learn statsmodels" in requirements.install_hint(["sklearn", "statsmodels"],
                                                                                         "darwin")
    assert requirements.missing(["numpy", "no_such_package_xyz"]) == ["no_such_package_xyz"]


def test_declared_requirements_cover_what_the_core_imports(wholesoil_processing):
    """An algorithm declaring neither scipy nor scikit-learn runs a job that would import them lazily otherwise."""
    requires = {a.id(): set(getattr(a, "REQUIRES", ())) for a in algorithms()}
    for name in ("fitdepthmodel", "fitbetaperprofile", "trainmodel", "evaluatemodel", "explainmodel",
                 "screencovariates"):
        assert "sklearn" in requires[f"wholesoil:{name}"], name
    for name in ("depthfractionslogistic", "depthfractionsbetaraster", "harmoniseprofilesspline", "radiocarbonage"):
        assert not requires[f"wholesoil:{name}"] & {"sklearn", "scipy"}, name


# ---------------------------------------------------------------------------------------------
# 2. Shipped models


def shipped_models():
    return sorted(MODELS_DIR.glob("*.model3"))


def required_inputs(model):
    return {d.name(): MODEL_INPUTS[d.name()] for d in model.parameterDefinitions()
            if not d.isDestination() and d.defaultValue() is None and not d.flags() & d.FlagOptional}


@pytest.mark.parametrize("path", shipped_models(), ids=lambda p: p.stem)
def test_shipped_model_runs_with_its_required_inputs_alone(wholesoil_processing, path):
    algorithm = QgsApplication.processingRegistry().algorithmById(f"wholesoil:{model_name(path)}")
    assert algorithm is not None and algorithm.group() == "Models"
    results = wholesoil_processing.run(algorithm.id(), required_inputs(algorithm))
    outputs = [d.name() for d in algorithm.destinationParameterDefinitions()]
    assert outputs
    for name in outputs:  # rasters are files; tables are temporary layers
        value = results[name]
        assert value.featureCount() > 0 if isinstance(value, QgsVectorLayer) else Path(value).is_file(), name


@pytest.mark.qgis_process
@pytest.mark.parametrize("path", shipped_models(), ids=lambda p: p.stem)
def test_shipped_model_runs_in_qgis_process_with_its_required_inputs_alone(wholesoil_processing, path):
    algorithm = QgsApplication.processingRegistry().algorithmById(f"wholesoil:{model_name(path)}")
    assert f"wholesoil:{model_name(path)}" in run_qgis_process("list").stdout
    done = run_qgis_process("run", algorithm.id(), "--",
                            *[f"{k}={item}" for k, v in required_inputs(algorithm).items()
                              for item in (v if isinstance(v, list) else [v])], json_output=True)
    for definition in algorithm.destinationParameterDefinitions():  # temporary: gone on exit
        value = done.json["results"][definition.name()]
        assert value if definition.type() == "sink" else value.endswith(".tif"), definition.name()


def test_bnpp_model_by_default_splits_two_over_the_beta_fractions(wholesoil_processing):
    from rasters_util import read_bands
    from wholesoil.core.depth import beta_layer_fractions

    results = wholesoil_processing.run("wholesoil:bnppbydepth", {"beta": MODEL_INPUTS["beta"]})
    beta, _ = read_bands(MODEL_INPUTS["beta"])
    parts, names = read_bands(results["split_total:by_layer"])
    valid = np.isfinite(beta[0])
    assert names[0] == "bnpp_0_20" and len(names) == 7
    np.testing.assert_allclose(np.moveaxis(parts[:, valid], 0, -1), 2.0 * beta_layer_fractions(beta[0][valid]),
                               rtol=1e-5)


@pytest.mark.parametrize("path", shipped_models(), ids=lambda p: p.stem)
def test_shipped_model_layout_has_no_overlap_and_stays_on_the_canvas(qgis_app, path):
    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(path))
    components = list(model.parameterComponents().values()) + list(model.childAlgorithms().values())
    components += [o for child in model.childAlgorithms().values() for o in child.modelOutputs().values()]
    boxes = []
    for component in components:  # positions are centres
        x, y = component.position().x(), component.position().y()
        w, h = component.size().width(), component.size().height()
        assert x - w / 2 >= 0 and y - h / 2 >= 0, f"{component.description()} crosses the canvas edge"
        boxes.append((x - w / 2, y - h / 2, x + w / 2, y + h / 2))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], f"{a} overlaps {b}"


# ---------------------------------------------------------------------------------------------
# 3. Value parameters: one data-defined number; raster algorithms apart


def test_value_parameter_is_one_dynamic_number_and_the_former_ways_are_hidden(wholesoil_processing):
    from qgis.core import QgsProcessingParameterDefinition as Definition

    registry = QgsApplication.processingRegistry()
    for name, values in (("depthfractionslogistic", ("D50", "D95")), ("depthfractionsbeta", ("BETA",)),
                         ("partitiontotal", ("TOTAL",)), ("turnovertime", ("STOCK", "FLUX"))):
        algorithm = registry.algorithmById(f"wholesoil:{name}")
        visible = [d.name() for d in algorithm.parameterDefinitions() if not d.flags() & Definition.FlagHidden]
        for value in values:
            definition = algorithm.parameterDefinition(value)
            assert definition.isDynamic() and definition.dynamicLayerParameterName() == "INPUT"
            assert not definition.flags() & Definition.FlagOptional, f"{name}: {value} is required"
            assert f"{value}_FIELD" not in visible and f"{value}_RASTER" not in visible
        assert registry.algorithmById(f"wholesoil:{name}raster") is not None


def test_data_defined_field_and_expression_give_the_beta_fractions_of_each_site(wholesoil_processing, tmp_path):
    """On the SRDB BNPP sites: fractions from β per feature, checked against 1 - β^30 over 1 - β^200 (the
    0-200 cm profile the normalised fractions are shares of)."""
    from wholesoil.core.tables import read_table

    source = SAMPLE / "srdb_bnpp_sites.gpkg"
    sites = read_table(source)
    results = {}
    for kind, value in (("field", QgsProperty.fromField("beta")), ("expression", QgsProperty.fromExpression(
            '"beta" * 1.0')), ("former", None)):
        out = tmp_path / f"{kind}.csv"
        parameters = {"INPUT": str(source), "LAYERS": "0,30,100", "OUTPUT": str(out)}
        parameters.update({"BETA": value} if value is not None else {"BETA_FIELD": "beta"})
        wholesoil_processing.run("wholesoil:depthfractionsbeta", parameters)
        table = read_table(out)
        assert "BETA (expression)" not in table.columns
        results[kind] = table["frac_0_30"].to_numpy(dtype=float)
    beta = sites["beta"].to_numpy(dtype=float)
    expected = (1 - beta ** 30) / (1 - beta ** 200)
    for kind, fractions in results.items():
        np.testing.assert_allclose(fractions, expected, rtol=1e-9, err_msg=kind)
    assert np.isnan(results["field"][np.isnan(beta)]).all()


def test_raster_algorithm_needs_a_raster_and_names_the_parameters(wholesoil_processing):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="give at least one parameter as a raster \\(D50_RASTER"):
        wholesoil_processing.run("wholesoil:depthfractionslogisticraster", {"D50": 20, "D95": 80})


# ---------------------------------------------------------------------------------------------
# 4-6, 8. Menu, help, tags, labels, styling


def test_every_algorithm_has_a_help_url_to_its_section_and_tags(wholesoil_processing):
    from wholesoil.processing_provider.algorithm import DOCS_URL, doc_anchor
    from wholesoil.processing_provider.provider import ShippedModel

    docs = (ROOT / "docs" / "qgis.md").read_text(encoding="utf-8")
    anchors = {doc_anchor(line.lstrip("#").strip()) for line in docs.splitlines() if line.startswith("#")}
    metadata = (ROOT / "metadata.txt").read_text()
    assert f"repository={DOCS_URL.split('/blob/')[0]}" in metadata
    for algorithm in algorithms():
        url = algorithm.helpUrl()
        assert url.startswith(DOCS_URL + "#"), algorithm.id()
        assert url.split("#")[1] in anchors, f"{algorithm.id()}: no section {url}"
        if not isinstance(algorithm, ShippedModel):
            assert len(algorithm.tags()) >= 3, algorithm.id()


def test_docs_algorithm_reference_is_up_to_date(wholesoil_processing):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from make_qgis_docs import DOCS, updated_page
    finally:
        sys.path.pop(0)
    text = DOCS.read_text(encoding="utf-8")
    provider = QgsApplication.processingRegistry().providerById("wholesoil")
    assert updated_page(text, provider) == text, "run scripts/make_qgis_docs.py"


@pytest.mark.parametrize("text", ["BNPP", "14C", "roots", "random forest"])
def test_toolbox_search_finds_the_algorithms(wholesoil_processing, text):
    from qgis.gui import QgsProcessingToolboxProxyModel

    model = QgsProcessingToolboxProxyModel(None, QgsApplication.processingRegistry())
    model.setFilterString(text)
    found = []

    def walk(parent):
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            algorithm = model.toolboxModel().algorithmForIndex(model.mapToSource(index))
            if algorithm is not None and algorithm.provider().id() == "wholesoil":
                found.append(algorithm.id())
            walk(index)

    walk(model.index(-1, -1))
    assert len(found) >= 3, found


def test_help_cites_published_works_with_dois_not_internal_documents(wholesoil_processing):
    from wholesoil.processing_provider.references import REFERENCES

    assert all("doi:10." in text or text.endswith(" Manuscript.") for text in REFERENCES.values())  # none made up
    assert "rs-65178/v3" in REFERENCES["luo_bnpp"] and "doi" not in REFERENCES["luo_iloss"]
    for cls in ALGORITHMS:
        text = " ".join(cls.HELP.split())
        assert not re.search(r"METHODS|\bstudy\b|seed \d|Extended Data",
                             text.replace("(Iloss manuscript, Extended Data Table 1)", "")), cls.NAME
        if re.search(r"\(\d{4}\)|et al\.|\b(19|20)\d\d\b", text):
            assert cls.REFERENCES, f"{cls.NAME} cites works without listing them"
        help_string = QgsApplication.processingRegistry().algorithmById(f"wholesoil:{cls.NAME}").shortHelpString()
        for key in cls.REFERENCES:
            assert REFERENCES[key] in help_string


def test_enum_choices_show_labels_over_the_core_codes(wholesoil_processing):
    from wholesoil.core import balance, bimodality, beta_profiles, depth, spline, stocks
    from wholesoil.core.learn import models
    from wholesoil.processing_provider.algorithms import (bulk_inputs, detect_root_bimodality,
                                                          fit_beta_per_profile, fit_depth_model,
                                                          harmonise_profiles_spline, loss_estimates,
                                                          soc_stocks_by_layer, train_model)

    codes = lambda choices: tuple(code for code, _ in choices)  # noqa: E731
    assert codes(train_model.MODELS) == models.MODEL_KINDS
    assert codes(train_model.TASKS) == models.TASKS
    assert codes(train_model.TARGET_TRANSFORMS) == models.TARGET_TRANSFORMS
    assert codes(train_model.BIAS_CORRECTIONS) == models.BIAS_CORRECTIONS
    assert codes(fit_depth_model.MODELS) == depth.DEPTH_MODELS
    assert codes(fit_beta_per_profile.VALUE_KINDS) == beta_profiles.VALUE_KINDS
    assert codes(detect_root_bimodality.VALUE_KINDS) == bimodality.VALUE_KINDS
    assert (detect_root_bimodality.DEFAULT_BANDWIDTH, detect_root_bimodality.DEFAULT_MIN_RATIO) == \
        (bimodality.DEFAULT_BANDWIDTH, bimodality.DEFAULT_MIN_RATIO)
    assert harmonise_profiles_spline.DEFAULT_LAMBDA == spline.DEFAULT_LAMBDA
    assert codes(soc_stocks_by_layer.COARSE_UNITS) == tuple(stocks.COARSE_UNITS)
    assert codes(soc_stocks_by_layer.METHODS) == stocks.METHODS
    for name, _, choices, _ in bulk_inputs.UNITS:
        assert codes(choices) == tuple({"OC_UNIT": balance.OC_UNITS, "STOCK_UNIT": balance.STOCK_UNITS,
                                        "COARSE_UNIT": balance.COARSE_UNITS}[name])
    assert tuple(code for code, _ in loss_estimates.ESTIMATE_FIELDS) == balance.ESTIMATE_INPUTS
    from wholesoil.core.maps import predict
    from wholesoil.processing_provider.algorithms import predict_raster

    assert predict_raster.OUTPUT_CHOICES == list(dict.fromkeys(predict.REGRESSION_OUTPUTS
                                                               + predict.CLASSIFICATION_OUTPUTS))
    from wholesoil.core import horizons, radiocarbon, soc
    from wholesoil.processing_provider import parameters, profiles_base
    from wholesoil.processing_provider.algorithms import radiocarbon_age

    assert codes(profiles_base.ORGANIC) == horizons.ORGANIC
    assert codes(parameters.MISSING_SURFACE_CHOICES) == depth.MISSING_SURFACE
    assert codes(soc_stocks_by_layer.OC_UNITS) == tuple(soc.OC_UNITS)
    assert codes(radiocarbon_age.PREFER) == radiocarbon.PREFER
    options = QgsApplication.processingRegistry().algorithmById("wholesoil:trainmodel").parameterDefinition(
        "MODEL").options()
    assert options[0] == "random forest" and not any("_" in option for option in options)


def test_train_model_shows_the_main_parameters_and_hides_the_rest_under_advanced(wholesoil_processing):
    from qgis.core import QgsProcessingParameterDefinition as Definition

    algorithm = QgsApplication.processingRegistry().algorithmById("wholesoil:trainmodel")
    inputs = [d for d in algorithm.parameterDefinitions() if not d.isDestination()]
    main = [d.name() for d in inputs if not d.flags() & Definition.FlagAdvanced]
    assert main == ["INPUT", "TARGET", "FEATURES", "CATEGORICAL", "GROUP_FIELD", "MODEL", "TASK", "UNITS"]


def test_raster_output_loads_as_single_band_pseudocolour_with_its_unit(wholesoil_processing, tmp_path):
    from qgis.core import QgsProject

    before = set(QgsProject.instance().mapLayers())
    wholesoil_processing.runAndLoadResults("wholesoil:depthfractionsbetaraster", {
        "BETA_RASTER": MODEL_INPUTS["beta"], "LAYERS": "0,30,100", "OUTPUT": str(tmp_path / "f.tif")})
    added = [QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - before]
    try:
        assert len(added) == 1
        layer = added[0]
        renderer = layer.renderer()
        assert renderer.type() == "singlebandpseudocolor" and renderer.band() == 1
        assert layer.name() == "Depth fractions (fraction)"
        shader = renderer.shader().rasterShaderFunction()
        assert shader.legendSettings().suffix() == " fraction"
        values = np.array([item.value for item in shader.colorRampItemList()])
        assert values.min() == pytest.approx(renderer.classificationMin()) and values.max() > values.min()
        assert 0.5 < renderer.classificationMin() < renderer.classificationMax() <= 1.0  # 0-30 cm of 0-200 cm
    finally:
        QgsProject.instance().removeMapLayers([layer.id() for layer in added])


@pytest.mark.parametrize("model, inputs, expected", [
    ("bnppbydepth", {"beta": MODEL_INPUTS["beta"]},
     {"root_fractions:fractions": "fractions (fraction)",
      "split_total:by_layer": "by_layer"}),  # the unit of the total is not known: no unit
    ("depthresolvedbnppmap", {k: MODEL_INPUTS[k] for k in ("sites", "covariates", "beta")},
     {"predict_bnpp:bnpp_map": "bnpp_map (Mg C ha-1 yr-1)",  # the unit the map records (the model's)
      "bnpp_by_depth:bnpp_layers": "bnpp_layers (Mg C ha-1 yr-1)"})])
def test_model_outputs_load_with_the_model_s_name_and_the_unit_of_their_own_step(wholesoil_processing, model, inputs,
                                                                                 expected):
    """Each step names and styles only the layers of its own run (not every loaded output called OUTPUT); the name
    is the one QGIS 3.22 gives a model output (its name, as for QGIS's own algorithms), with the step's unit."""
    from qgis.core import QgsProject

    before = set(QgsProject.instance().mapLayers())
    results = wholesoil_processing.runAndLoadResults(f"wholesoil:{model}",
                                                     {**inputs, **dict.fromkeys(expected, "TEMPORARY_OUTPUT")})
    added = [QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - before]
    try:
        by_source = {layer.source(): layer for layer in added}
        assert len(added) == len(expected) and set(by_source) == {results[output] for output in expected}
        for output, name in expected.items():
            layer = by_source[results[output]]
            unit = name.partition(" (")[2][:-1]
            assert layer.name() == name
            assert layer.renderer().shader().rasterShaderFunction().legendSettings().suffix() == \
                (f" {unit}" if unit else "")
    finally:
        QgsProject.instance().removeMapLayers([layer.id() for layer in added])


# ---------------------------------------------------------------------------------------------
# 7, 8. Notes as warnings, reports, progress


class RecordingFeedback:
    """A QgsProcessingFeedback that records warnings, errors and progress."""

    @staticmethod
    def create():
        from qgis.core import QgsProcessingFeedback

        class Feedback(QgsProcessingFeedback):
            def __init__(self):
                super().__init__()
                self.warnings, self.errors, self.progress, self.infos = [], [], [], []
                self.progressChanged.connect(self.progress.append)

            def pushWarning(self, text):  # noqa: N802
                self.warnings.append(text)

            def pushInfo(self, text):  # noqa: N802
                self.infos.append(text)

            def reportError(self, text, fatalError=False):  # noqa: N802, N803
                self.errors.append(text)

        return Feedback()


@pytest.mark.parametrize("algorithm_id, parameters", [
    ("wholesoil:socstocksbylayer", {"INPUT": str(SAMPLE / "neon_megapit_horizons.csv"), "ID_FIELD": "siteID",
                                    "TOP_FIELD": "horizonTopDepth", "BOTTOM_FIELD": "horizonBottomDepth",
                                    "SOC_FIELD": "estimatedOC", "BD_FIELD": "bulkDen", "LAYERS": "0,20,40,60,80,100"}),
    ("wholesoil:fitdepthmodel", {"INPUT": str(SAMPLE / "neon_megapit_horizons.csv"), "ID_FIELD": "siteID",
                                 "TOP_FIELD": "horizonTopDepth", "BOTTOM_FIELD": "horizonBottomDepth",
                                 "VALUE_FIELD": "estimatedOC", "VALUE_KIND": 1}),
])
def test_profile_notes_are_warnings_not_errors(wholesoil_processing, tmp_path, algorithm_id, parameters):
    feedback = RecordingFeedback.create()
    wholesoil_processing.run(algorithm_id, {**parameters, "OUTPUT": str(tmp_path / "out.csv")}, feedback=feedback)
    assert feedback.errors == []
    assert any(w.startswith("profile ") for w in feedback.warnings)


def test_repaired_profiles_are_listed_in_the_log(wholesoil_processing, tmp_path):
    """A profile whose duplicated horizon was dropped is ok, and the log says what was changed."""
    import pandas as pd

    horizons = tmp_path / "h.csv"
    pd.DataFrame({"site": ["a"] * 4 + ["b"] * 2, "top": [0, 20, 10, 10, 0, 15], "bottom": [10, 40, 20, 20, 15, 30],
                  "soc": [3, 1, 2, 2, 4, 2]}).to_csv(horizons, index=False)
    feedback = RecordingFeedback.create()
    wholesoil_processing.run("wholesoil:harmoniseprofilesspline", {
        "INPUT": str(horizons), "ID_FIELD": "site", "TOP_FIELD": "top", "BOTTOM_FIELD": "bottom",
        "VALUE_FIELDS": ["soc"], "LAYERS": "0,20,30", "OUTPUT": str(tmp_path / "out.csv")}, feedback=feedback)
    assert "profile a: repaired: sorted the horizons by depth; dropped row 4, a duplicate of row 3 (10-20 cm)" \
        in feedback.infos
    assert not any(line.startswith("profile b") for line in feedback.infos + feedback.warnings)


def test_reports_record_the_run_and_soc_report_has_a_plot(wholesoil_processing, tmp_path):
    import wholesoil

    html = tmp_path / "soc.html"
    wholesoil_processing.run("wholesoil:socstocksbylayer", {
        "INPUT": str(SAMPLE / "neon_megapit_horizons.csv"), "ID_FIELD": "siteID", "TOP_FIELD": "horizonTopDepth",
        "BOTTOM_FIELD": "horizonBottomDepth", "SOC_FIELD": "estimatedOC", "BD_FIELD": "bulkDen",
        "LAYERS": "0,20,40,60,80,100", "OUTPUT": str(tmp_path / "soc.csv"), "OUTPUT_HTML": str(html)})
    text = html.read_text()
    assert text.count("<img") == 1 and "About this run" in text
    for part in ("wholesoil:socstocksbylayer", "SOC_FIELD=estimatedOC", f"<td>{wholesoil.__version__}</td>",
                 "neon_megapit_horizons.csv", " UTC"):
        assert part in text, part
    reports = [a.parameterDefinition("OUTPUT_HTML") for a in algorithms()]
    names = [d.description() for d in reports if d is not None]
    assert len(names) >= 10 and len(set(names)) == len(names), "the Results Viewer lists reports by this name"


def test_table_report_labels_curves_by_the_id_field(wholesoil_processing, tmp_path):
    html = tmp_path / "fractions.html"
    wholesoil_processing.run("wholesoil:depthfractionsbeta", {
        "INPUT": str(SAMPLE / "jackson1996_beta_by_biome.csv"), "BETA": QgsProperty.fromField("beta"),
        "ID_FIELD": "biome", "OUTPUT": str(tmp_path / "f.csv"), "OUTPUT_HTML": str(html)})
    text = html.read_text()
    assert "tundra" in text.lower() and "feature 1" not in text


def test_train_model_report_writes_no_undeclared_files(wholesoil_processing, tmp_path):
    wholesoil_processing.run("wholesoil:trainmodel", {
        "INPUT": str(SAMPLE / "srdb_rh_records.csv"), "TARGET": "Rh_annual", "FEATURES": ["MAT", "MAP"],
        "GROUP_FIELD": "site_key", "TREES": 20, "FOLDS": 3, "OUTPUT_MODEL": str(tmp_path / "m.wsmodel"),
        "OUTPUT_HTML": str(tmp_path / "report.html")})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.wsmodel", "report.html"]


def test_radiocarbon_age_keeps_the_bar_below_100_until_its_report_is_written(wholesoil_processing, tmp_path):
    feedback = RecordingFeedback.create()
    wholesoil_processing.run("wholesoil:radiocarbonage", {
        "INPUT": str(SAMPLE / "israd_sample_profiles.csv"), "OUTPUT": str(tmp_path / "ages.csv"),
        "OUTPUT_HTML": str(tmp_path / "ages.html")}, feedback=feedback)
    during = [p for p in feedback.progress if p < 100]
    assert during and max(during) <= 50 and feedback.progress.count(100) <= 1


# ---------------------------------------------------------------------------------------------
# Issue 10 item 10: a multi-layer GeoPackage is refused, as the CLI does


@pytest.fixture
def two_layer_gpkg(tmp_path):
    from wholesoil.core.tables import read_table, write_table

    path = tmp_path / "two.gpkg"
    write_table(read_table(SAMPLE / "silsoe_fine_roots.csv"), path, layer="roots")
    from osgeo import ogr

    source = ogr.Open(str(SAMPLE / "srdb_bnpp_sites.gpkg"))
    target = ogr.Open(str(path), 1)
    target.CopyLayer(source.GetLayer(0), "sites")
    source = target = None
    return path


SEVERAL = r"holds several layers \((roots, sites|sites, roots)\); name one"
FIT_FIELDS = ("ID_FIELD=profile_id", "TOP_FIELD=top_cm", "BOTTOM_FIELD=bottom_cm", "VALUE_FIELD=mass_mg_cm3")


def test_multi_layer_geopackage_is_refused_in_processing_run(wholesoil_processing, two_layer_gpkg, tmp_path):
    from qgis.core import QgsProcessingException

    parameters = dict(p.split("=") for p in FIT_FIELDS)
    with pytest.raises(QgsProcessingException, match="INPUT: .*two.gpkg " + SEVERAL):
        wholesoil_processing.run("wholesoil:fitdepthmodel", {**parameters, "INPUT": str(two_layer_gpkg),
                                                              "OUTPUT": str(tmp_path / "f.csv")})
    assert not (tmp_path / "f.csv").exists()
    wholesoil_processing.run("wholesoil:fitdepthmodel", {**parameters, "INPUT": f"{two_layer_gpkg}|layername=roots",
                                                          "OUTPUT": str(tmp_path / "f.csv")})
    assert (tmp_path / "f.csv").exists()


@pytest.mark.qgis_process
def test_multi_layer_geopackage_is_refused_by_qgis_process_as_by_the_cli(two_layer_gpkg, tmp_path):
    out = tmp_path / "f.csv"
    done = run_qgis_process("run", "wholesoil:fitdepthmodel", "--", f"INPUT={two_layer_gpkg}", *FIT_FIELDS,
                            f"OUTPUT={out}", check=False)
    assert done.returncode == 1 and re.search("two.gpkg " + SEVERAL, done.stderr)
    assert not out.exists()
    cli = subprocess.run([str(ROOT / ".venv" / "bin" / "wholesoil"), "fit-depth-model", str(two_layer_gpkg), str(out),
                          "--id-col", "profile_id", "--top-col", "top_cm", "--bottom-col", "bottom_cm",
                          "--value-col", "mass_mg_cm3"], capture_output=True, text=True)
    assert cli.returncode == 2 and re.search(SEVERAL, cli.stderr)
    run_qgis_process("run", "wholesoil:fitdepthmodel", "--", f"INPUT={two_layer_gpkg}|layername=roots", *FIT_FIELDS,
                     f"OUTPUT={out}")
    assert out.exists()
