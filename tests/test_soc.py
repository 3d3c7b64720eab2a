"""SOC density per layer and its unit checks."""

import numpy as np
import pytest

from wholesoil.core.errors import InputError
from wholesoil.core.soc import soc_density


def test_density_formula():
    # 20 g kg-1 x 1.3 g cm-3 x 20 cm / 10 = 52 Mg C ha-1
    assert soc_density(20.0, 1.3, 20.0) == pytest.approx(52.0)
    assert soc_density(20.0, 1.3, 20.0, coarse_fraction=0.25) == pytest.approx(39.0)
    np.testing.assert_allclose(soc_density([10, np.nan], 1.0, [10, 10]), [10.0, np.nan])


@pytest.mark.parametrize("kwargs, message", [
    ({"bulk_density": 1300.0}, "kg m-3"),
    ({"coarse_fraction": 30.0}, "looks like %"),
    ({"soc": 1500.0}, "above 1000 g kg-1"),
    ({"thickness": 0.0}, "thickness must be positive"),
    ({"soc": -1.0}, "must not be negative"),
])
def test_unit_slips_are_named(kwargs, message):
    values = {"soc": 20.0, "bulk_density": 1.3, "thickness": 20.0}
    values.update(kwargs)
    with pytest.raises(InputError, match=message):
        soc_density(**values)
