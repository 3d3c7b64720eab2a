"""Layer schemes: named, parsed, and rejected when impossible."""

import numpy as np
import pytest

from wholesoil.core.errors import InputError
from wholesoil.core.layers import LayerScheme, layer_scheme


def test_named_schemes():
    assert layer_scheme().labels == ["0-20", "20-40", "40-60", "60-80", "80-100", "100-150", "150-200"]
    assert len(layer_scheme("standard5")) == 5 and layer_scheme("standard5").bottoms[-1] == 100
    assert list(layer_scheme("GlobalSoilMap").breaks) == [0, 5, 15, 30, 60, 100, 200]


@pytest.mark.parametrize("spec", ["0,20,40", "0-20,20-40", "0 20 40", [0, 20, 40], [(0, 20), (20, 40)]])
def test_equivalent_specifications(spec):
    scheme = layer_scheme(spec)
    assert scheme.breaks == (0.0, 20.0, 40.0)
    np.testing.assert_array_equal(scheme.thickness, [20, 20])
    assert scheme.column_names("frac") == ["frac_0_20", "frac_20_40"]


def test_decimal_depths_make_safe_column_names():
    assert layer_scheme("0,2.5,10").column_names("f") == ["f_0_2p5", "f_2p5_10"]


@pytest.mark.parametrize("spec, message", [
    ("0,20,10", "must increase"),
    ("-5,20", "negative depth"),
    ("0-20,10-40", "overlaps"),
    ("0-20,30-40", "gap between 20 and 30"),
    ("20", "at least one layer"),
    ("0,abc", "cannot read"),
    ([0, float("nan")], "not a finite number"),
    ([(0, 20), (40, 30)], "bottom above or at its top"),
])
def test_impossible_layers_are_named(spec, message):
    with pytest.raises(InputError, match=message):
        layer_scheme(spec)


def test_scheme_is_immutable_and_hashable():
    scheme = LayerScheme((0, 10))
    assert {scheme: 1}[LayerScheme((0.0, 10.0))] == 1
