"""Maps: raster runs block by block, from a laptop to a Dask cluster.

* :mod:`.engine`: the one block-wise raster engine every raster command uses (windows →
  read → block function → write), with threads, processes or Dask workers;
* :mod:`.stack`: covariate rasters matched to a model's covariates by name (and warped
  to a reference grid on request);
* :mod:`.kernels`: mean and spread of a forest's trees per pixel, compiled with numba when
  it is installed, with a pure scikit-learn/numpy fallback giving the same numbers;
* :mod:`.predict`: saved models predicted over a covariate stack (``predict_raster``);
* :mod:`.products`: the studies' map products with their uncertainty (BNPP by depth,
  Iroot/Ibulk/Iloss by per-pixel Monte Carlo, subsoil SOC, turnover time), with
  :mod:`.bands` (band references, sd bands, layers, units) and :mod:`.montecarlo`
  (random numbers keyed by the pixel);
* :mod:`.quicklook`: quick-look PNGs of map bands with their units.
"""
