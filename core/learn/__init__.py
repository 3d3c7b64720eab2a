"""Predictive models of soil-carbon quantities from covariates (METHODS section 7).

* :mod:`.sampling`: covariate rasters sampled at points (CRS-aware), joined to observations;
* :mod:`.screening`: VIF, correlation and linear-combination filters, one-hot encoding;
* :mod:`.models`: :class:`~.models.CovariateModel` (random forest by default, gradient
  boosting, SVM, lasso, a stacked ensemble), grid tuning, log-transformed targets;
* :mod:`.validation`: grouped (optionally stratified) k-fold and 80/20 splits, metrics;
* :mod:`.uncertainty`: per-tree spread, the Coulston et al. (2016) interval, quantile forests;
* :mod:`.explain`: impurity, permutation and group importance, partial dependence, a mixed
  model and partial correlations;
* :mod:`.training`: train, evaluate and explain in one call each (what the CLI and the
  Processing algorithms run); :mod:`.modelfile`: the safe model file; :mod:`.report`: HTML.
"""
