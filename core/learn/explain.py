"""What drives a model (METHODS section 7).

* impurity importance (for classification forests: Gini importance), as a share (%);
* permutation importance on held-out data with its spread over repeats;
* group importance via per-group PCA (the He et al. Rh study): each group of covariates (climate, soil,
  topography...) is standardised and reduced to its first principal components, a new
  random forest is fitted on all components and a group's importance is the sum of its
  components' impurity importance; the forest's grouped cross-validated R2 says how much
  the components explain;
* partial dependence curves;
* drivers analysis: a linear mixed-effects model with a random intercept per class
  (biome; the Luo et al. BNPP and Iloss studies) and partial correlations controlling for depth.

**Decision** (repeated records): records of one site (or layers of one profile) are not
independent. Given the site of each row, the mixed model adds a random intercept per site
(a variance component nested in the random-effect class), and the partial correlations'
p values come from cluster-robust (CR1) standard errors by site with G - 1 degrees of
freedom (G sites); the output says which was used.
"""

import warnings

import numpy as np
import pandas as pd

from ..errors import InputError
from ..tables import numeric_columns, require_columns
from .validation import group_kfold, run_batches, task_metrics


def impurity_importance(model):
    """Impurity importance per covariate (one-hot indicators summed back), in % of the total.

    Empty for learners without impurity importance (SVM, lasso, the ensemble).
    """
    learner = model.pipeline_[-1]
    if not hasattr(learner, "feature_importances_"):
        return pd.DataFrame(columns=["feature", "impurity_importance"])
    encoded = model.encoded_feature_names()
    values = pd.Series(learner.feature_importances_, index=encoded)
    original = [name.split("=", 1)[0] if name.split("=", 1)[0] in model.categories_ else name for name in encoded]
    summed = values.groupby(original, sort=False).sum()
    total = summed.sum()
    percent = summed / total * 100.0 if total > 0 else summed
    return pd.DataFrame({"feature": summed.index, "impurity_importance": percent.to_numpy()})


def _permutation_fold(model, X, y, n_repeats, random_state, scoring):
    from sklearn.inspection import permutation_importance

    result = permutation_importance(model, X, y, scoring=scoring, n_repeats=n_repeats,
                                    random_state=random_state, n_jobs=1)
    return result.importances


def permutation_importances(fitted, tests, n_repeats=5, random_state=0, n_jobs=1, backend="threading",
                            progress=None, is_cancelled=None):
    """Permutation importance of each covariate on held-out data.

    fitted: models; tests: one (X, y) held-out pair per model (e.g. the CV folds).
    Importance = increase of RMSE (regression, target units) or decrease of balanced
    accuracy (classification) when the covariate's values are shuffled, over ``n_repeats``
    shuffles of every held-out set. Returns mean, sd (spread over all repeats and folds)
    and the mean as % of the sum of positive means.
    """
    if n_repeats < 1:
        raise InputError(f"the permutation repeats must be at least 1 (got {n_repeats})")
    first = fitted[0]
    scoring = "balanced_accuracy" if first.task == "classification" else "neg_root_mean_squared_error"
    arguments = [(model, X, y, n_repeats, random_state, scoring) for model, (X, y) in zip(fitted, tests)]
    results = run_batches(_permutation_fold, arguments, n_jobs, backend, progress, is_cancelled)
    values = np.concatenate(results, axis=1)
    features = list(tests[0][0].columns)
    mean = values.mean(axis=1)
    positive = mean[mean > 0].sum()
    return pd.DataFrame({"feature": features, "permutation_importance": mean,
                         "permutation_sd": values.std(axis=1, ddof=1) if values.shape[1] > 1 else np.nan,
                         "permutation_percent": mean / positive * 100.0 if positive > 0 else np.nan})


def partial_dependence(model, X, features, grid_points=20, percentiles=(0.05, 0.95)):
    """Partial dependence curves as one table: feature, value (numeric covariates), level
    (categorical covariates, as text) and mean_prediction.

    For each grid value (``grid_points`` between the given percentiles of the feature, or
    every level of a categorical covariate) the feature is set to that value in every row
    of X and the predictions averaged (the mean probability of the last of ``classes_``
    for classification).
    """
    rows = []
    for feature in features:
        if feature not in X.columns:
            raise InputError(f"partial dependence: no covariate {feature!r}")
        categorical = feature in model.categories_
        if categorical:
            grid = list(model.categories_[feature])
        else:
            low, high = np.nanquantile(X[feature].astype(float), percentiles)
            grid = np.unique(np.linspace(low, high, grid_points))
        for value in grid:
            changed = X.copy()
            changed[feature] = value
            if model.task == "classification":
                mean = float(np.nanmean(model.predict_proba(changed)[:, -1]))
            else:
                mean = float(np.nanmean(model.predict(changed)))
            rows.append({"feature": feature, "value": np.nan if categorical else float(value),
                         "level": str(value) if categorical else "", "mean_prediction": mean})
    return pd.DataFrame(rows, columns=["feature", "value", "level", "mean_prediction"])


def parse_feature_groups(text):
    """'climate: MAT, MAP; soil: clay, sand' -> {'climate': ['MAT', 'MAP'], 'soil': [...]}."""
    groups = {}
    for part in filter(None, (p.strip() for p in str(text).split(";"))):
        if ":" not in part:
            raise InputError(f"feature group {part!r} should read 'name: column, column'")
        name, columns = part.split(":", 1)
        columns = [c.strip() for c in columns.split(",") if c.strip()]
        if not name.strip() or not columns:
            raise InputError(f"feature group {part!r} needs a name and at least one column")
        groups[name.strip()] = columns
    if not groups:
        raise InputError("no feature groups given (e.g. 'climate: MAT, MAP; soil: clay, sand')")
    return groups


def group_importance(X, y, feature_groups, task="regression", n_components=2, n_trees=500,
                     random_state=0, n_jobs=1, groups=None, n_splits=5):
    """Importance (%) of groups of covariates via per-group PCA (the He et al. Rh study).

    Each group's numeric covariates are standardised and reduced to their first
    ``n_components`` principal components (fewer if the group is smaller), a random forest
    is fitted on all components and each component's impurity importance is summed by group
    (``importance_per_component``: divided by the group's components, since a group with
    more components collects more importance). The forest is also cross-validated with
    ``n_splits`` folds grouped by ``groups`` (site per row; None: rows independent), the
    components computed once on all rows. Returns (groups table: group, n_features,
    n_components, explained_variance %, importance %, importance_per_component; components
    table: component, group, importance %; fit: the task's cross-validated metrics).
    """
    from sklearn.decomposition import PCA

    from .models import make_learner

    all_columns = [c for columns in feature_groups.values() for c in columns]
    require_columns(X, all_columns, "the data")
    try:
        values = numeric_columns(X, all_columns)
    except InputError as error:
        raise InputError(f"feature groups take numeric covariates only (each group becomes principal components), "
                         f"so leave categorical ones out: {error}") from None
    keep = ~values.isna().any(axis=1).to_numpy()
    components, owner, rows = [], [], []
    for group, columns in feature_groups.items():
        block = values.loc[keep, columns].to_numpy()
        spread = block.std(axis=0)
        block = (block - block.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
        count = min(n_components, len(columns))
        pca = PCA(n_components=count, random_state=random_state).fit(block)
        components.append(pca.transform(block))
        owner += [group] * count
        rows.append({"group": group, "n_features": len(columns), "n_components": count,
                     "explained_variance": float(pca.explained_variance_ratio_.sum() * 100.0)})
    names = [f"{g}_PC{i + 1}" for g, i in zip(owner, _component_numbers(owner))]
    design = pd.DataFrame(np.column_stack(components), columns=names)
    target = np.asarray(y)[keep]
    forest = make_learner("random_forest", task, None, n_trees, random_state=random_state, n_jobs=n_jobs)
    forest.fit(design, target)
    share = forest.feature_importances_ / forest.feature_importances_.sum() * 100.0
    table = pd.DataFrame(rows)
    table["importance"] = [share[[o == g for o in owner]].sum() for g in table["group"]]
    table["importance_per_component"] = table["importance"] / table["n_components"]
    labels = np.arange(len(target)) if groups is None else np.asarray(groups)[keep]
    folds = group_kfold(labels, n_splits, random_state=random_state)
    predicted = np.empty(len(target), dtype=object if task == "classification" else float)
    for fold in range(n_splits):
        test = folds == fold
        fitted = make_learner("random_forest", task, None, n_trees, random_state=random_state, n_jobs=n_jobs)
        predicted[test] = fitted.fit(design[~test], target[~test]).predict(design[test])
    fit = {**task_metrics(task, target, predicted), "folds": n_splits,
           "grouped": "rows independent" if groups is None else "by site"}
    return table, pd.DataFrame({"component": names, "group": owner, "importance": share}), fit


def _component_numbers(owner):
    seen = {}
    numbers = []
    for group in owner:
        numbers.append(seen.get(group, 0))
        seen[group] = numbers[-1] + 1
    return numbers


def _site_components(classes, sites):
    """exog_vc of statsmodels' MixedLM: per random-effect class, the indicator matrix of
    its rows' sites (a random intercept per site, nested in the class)."""
    components = {}
    for label in pd.unique(classes):
        members = sites[classes == label]
        levels = pd.unique(members)
        components[label] = (members[:, None] == levels[None, :]).astype(float)
    return {"site": components}


def mixed_model(table, target, covariates, random_effect, standardize=True, sites=None, site_name="site"):
    """Linear mixed-effects model: target ~ covariates + (1 | random_effect), by REML.

    Covariates (and the target) are standardised when ``standardize`` so coefficients are
    comparable effect sizes. ``sites`` (one label per row of ``table``; None: rows are
    independent) adds a random intercept per site nested in the random-effect class, unless
    every class holds one site only (the random effect is then the site). Returns
    (coefficients table: term, coefficient, se, z, p, ci_low, ci_high; summary dict: n,
    groups, random-effect, site and residual variances, marginal and conditional R2 after
    Nakagawa & Schielzeth, repeated_records (what was done about them), converged, warnings).
    """
    from statsmodels.regression.mixed_linear_model import MixedLM

    from .screening import level_text

    require_columns(table, list(covariates) + [target, random_effect], "the data")
    data = numeric_columns(table, list(covariates) + [target])
    data[random_effect] = level_text(table[random_effect]).to_numpy()
    data["__site__"] = level_text(pd.Series(sites, index=table.index)).to_numpy() if sites is not None else "none"
    data = data.dropna()
    if data[random_effect].nunique() < 2:
        raise InputError(f"the random effect {random_effect!r} needs at least 2 classes")
    if len(data) <= len(covariates) + 2:
        raise InputError(f"too few complete rows ({len(data)}) for a mixed model with {len(covariates)} covariates")
    values = data[list(covariates) + [target]]
    if standardize:
        spread = values.std(ddof=0).replace(0, 1.0)
        values = (values - values.mean()) / spread
    exog = np.column_stack([np.ones(len(values)), values[list(covariates)].to_numpy()])
    classes, site_labels = data[random_effect].to_numpy(), data["__site__"].to_numpy()
    nested = sites is not None and len(pd.unique(classes + "\x00" + site_labels)) > len(pd.unique(classes))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = MixedLM(values[target].to_numpy(), exog, groups=classes, exog_re=np.ones((len(exog), 1)),
                        exog_vc=_site_components(classes, site_labels) if nested else None)
        fit = model.fit(reml=True)
    terms = ["intercept"] + list(covariates)
    confidence = np.asarray(fit.conf_int())[:len(terms)]
    coefficients = pd.DataFrame({"term": terms, "coefficient": np.asarray(fit.fe_params),
                                 "se": np.asarray(fit.bse_fe), "z": np.asarray(fit.tvalues)[:len(terms)],
                                 "p": np.asarray(fit.pvalues)[:len(terms)],
                                 "ci_low": confidence[:, 0], "ci_high": confidence[:, 1]})
    fixed = float(np.var(exog @ np.asarray(fit.fe_params)))
    between = float(np.asarray(fit.cov_re)[0, 0])
    site = float(np.asarray(fit.vcomp)[0]) if nested else 0.0
    residual = float(fit.scale)
    total = fixed + between + site + residual
    if sites is None:
        repeated = "rows treated as independent (no site given)"
    elif nested:
        repeated = f"random intercept per {site_name} ({len(pd.unique(site_labels))}), nested in {random_effect}"
    else:
        repeated = f"each {random_effect} class is one {site_name}: its random intercept is the site's"
    summary = {"n": int(len(data)), "groups": int(data[random_effect].nunique()), "random_effect": random_effect,
               "random_effect_variance": between, "site_variance": site, "residual_variance": residual,
               "marginal_r2": fixed / total, "conditional_r2": (fixed + between + site) / total,
               "repeated_records": repeated, "converged": bool(fit.converged),
               "warnings": sorted({str(w.message).splitlines()[0] for w in caught})}
    return coefficients, summary


def cluster_robust_p(x, y, clusters):
    """Two-sided p of the slope of y on x (with an intercept) from its cluster-robust (CR1)
    standard error, with a t distribution of G - 1 degrees of freedom (G clusters)."""
    import statsmodels.api as sm

    codes = pd.factorize(np.asarray(clusters))[0]
    fit = sm.OLS(y, sm.add_constant(x)).fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
    return float(np.asarray(fit.pvalues)[1])


def partial_correlations(table, target, covariates, control, sites=None, site_name="site"):
    """Pearson correlation of each covariate with the target controlling for ``control`` columns.

    Both are regressed (with an intercept) on the control columns (e.g. depth) and the
    residuals correlated. p: without ``sites``, a t test with n - 2 - len(control) degrees
    of freedom (rows independent); with ``sites`` (one label per row of ``table``), the
    cluster-robust p of the residuals' slope (:func:`cluster_robust_p`), since records of
    one site are not independent. ``p_method`` says which.
    """
    from scipy import stats

    from .screening import level_text

    control = [control] if isinstance(control, str) else list(control)
    require_columns(table, list(covariates) + [target] + control, "the data")
    labels = None if sites is None else level_text(pd.Series(sites, index=table.index))
    rows = []
    for covariate in covariates:
        data = numeric_columns(table, [covariate, target] + control)
        if labels is not None:
            data["__site__"] = labels
        data = data.dropna()
        design = np.column_stack([np.ones(len(data)), data[control].to_numpy()])
        residuals = [data[c].to_numpy() - design @ np.linalg.lstsq(design, data[c].to_numpy(), rcond=None)[0]
                     for c in (covariate, target)]
        df = len(data) - 2 - len(control)
        clusters = None if labels is None else data["__site__"].to_numpy()
        n_clusters = len(data) if clusters is None else len(pd.unique(clusters))
        if df < 1 or n_clusters < 3 or np.std(residuals[0]) == 0 or np.std(residuals[1]) == 0:
            r, p = np.nan, np.nan
        else:
            r = float(np.corrcoef(*residuals)[0, 1])
            if clusters is None:
                t = r * np.sqrt(df / max(1.0 - r * r, 1e-300))
                p = float(2 * stats.t.sf(abs(t), df))
            else:
                p = cluster_robust_p(residuals[0], residuals[1], clusters)
        rows.append({"covariate": covariate, "partial_r": r, "p": p, "n": int(len(data)),
                     "controlling_for": ", ".join(control),
                     "p_method": "t test, rows independent" if clusters is None else
                     f"cluster-robust (CR1) by {site_name}, {n_clusters} clusters"})
    return pd.DataFrame(rows)
