"""Issue 11 item 10: a model file saved with one scikit-learn release loads and predicts
identically with another. Debian's release runs here (.venv); scripts/sklearn_venv.sh makes
(once, under the git-ignored .cache/) a venv with another release from PyPI, and
tests/portability.py trains, saves, loads and predicts in it."""

import subprocess
from pathlib import Path

import numpy as np
import pytest
import sklearn

import portability

ROOT = Path(__file__).resolve().parents[1]
#: Releases compared with Debian's (1.2.1): 1.3 changed the tree node layout, 1.4 gradient
#: boosting's loss objects and the classifier tree values.
OTHER_RELEASES = ("1.3.2", "1.7.2")


@pytest.fixture(scope="module", params=OTHER_RELEASES)
def other_python(request):
    """The python of a venv with another scikit-learn release (made by scripts/sklearn_venv.sh)."""
    done = subprocess.run(["bash", str(ROOT / "scripts" / "sklearn_venv.sh"), request.param], capture_output=True,
                          text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"scripts/sklearn_venv.sh {request.param} failed (it needs PyPI the first time):\n"
                           f"{done.stderr[-2000:]}")
    assert request.param != sklearn.__version__
    return done.stdout.strip().splitlines()[-1]


def run(python, *args):
    done = subprocess.run([python, str(ROOT / "tests" / "portability.py"), *map(str, args)], capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]


def assert_same_predictions(expected_folder, actual_folder):
    """Every prediction column identical, except class probabilities across scikit-learn 1.4
    (which stores class shares in the trees where older releases store counts and divide at
    prediction): those may differ in the last bit."""
    for name in portability.KINDS:
        with np.load(Path(expected_folder) / f"{name}.npz") as expected, \
                np.load(Path(actual_folder) / f"{name}.npz") as actual:
            assert sorted(expected.files) == sorted(actual.files), name
            for column in expected.files:
                if column.startswith("probability_"):
                    np.testing.assert_allclose(actual[column], expected[column], rtol=0, atol=1e-15,
                                               err_msg=f"{name}: {column}")
                else:
                    np.testing.assert_array_equal(actual[column], expected[column], err_msg=f"{name}: {column}")


def test_model_files_travel_between_scikit_learn_releases(other_python, tmp_path):
    here, there = tmp_path / "debian", tmp_path / "other"
    portability.train(here)                                   # Debian's scikit-learn
    run(other_python, "predict", here, tmp_path / "debian_read_there")
    assert_same_predictions(here, tmp_path / "debian_read_there")
    run(other_python, "train", there)                         # the other release
    portability.predict(there, tmp_path / "other_read_here")
    assert_same_predictions(there, tmp_path / "other_read_here")
