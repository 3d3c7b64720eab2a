"""The study pages (docs/studies/): their commands run on the data in the repository, and every number of
their results tables is the number their outputs give (scripts/run_studies.py reads it off the outputs)."""

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("run_studies", ROOT / "scripts" / "run_studies.py")
studies_runner = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(studies_runner)
PAGES = [page.name for page in studies_runner.pages()]


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    """(output folder, {page: (exit code, seconds, output tail)}) of one run of every page, in index order."""
    out = tmp_path_factory.mktemp("studies")
    results = {}
    for page in studies_runner.pages():
        results[page.name] = studies_runner.run_page(page, out, log=lambda line: None)
        if results[page.name][0]:
            break  # the later pages use this page's outputs
    return out, results


def test_the_index_lists_the_five_studies():
    assert PAGES == ["bnpp.md", "iloss.md", "subsoil.md", "rh.md", "root_bimodality.md"]
    assert all(studies_runner.bash_blocks(studies_runner.STUDIES / name) for name in PAGES)
    assert set(studies_runner.READERS) == set(PAGES)


def test_pages_use_only_data_in_the_repository():
    """Every file a page reads is in resources/ or tests/data (a clone runs them); none is in ../shared."""
    for name in PAGES:
        script = "\n".join(studies_runner.bash_blocks(studies_runner.STUDIES / name))
        assert "shared" not in script, name
        inputs = set(re.findall(r"\$S/([\w.]+)", script)) | set(re.findall(r"(tests/data/[\w./]+)", script))
        for item in inputs:
            path = ROOT / item if item.startswith("tests/") else ROOT / "resources" / "sample_data" / item
            assert path.is_file(), f"{name} reads {item}, which is not in the repository"


@pytest.mark.slow
@pytest.mark.parametrize("name", PAGES)
def test_page_runs_and_states_the_numbers_of_its_outputs(studies, name):
    out, results = studies
    assert name in results, f"an earlier page failed: {results}"
    code, seconds, tail = results[name]
    assert code == 0, f"{name} failed:\n{tail}"
    assert studies_runner.check_page(studies_runner.STUDIES / name, out) == []


@pytest.mark.slow
def test_a_wrong_number_on_a_page_is_caught_and_update_writes_the_right_one(studies, tmp_path):
    out, results = studies
    assert results.get("rh.md", (1,))[0] == 0
    page = tmp_path / "rh.md"
    shutil.copy(studies_runner.STUDIES / "rh.md", page)
    label = "Rh, total over the mapped land (Pg C yr⁻¹)"
    cell, line = studies_runner.results_rows(page)[label]
    value, decimals = studies_runner.stated(cell)
    wrong = f"{value + 3 * 10 ** -decimals:.{decimals}f}"
    lines = page.read_text().splitlines(keepends=True)
    lines[line - 1] = lines[line - 1].replace(f"| {cell} |", f"| {cell.replace(f'{value:.{decimals}f}', wrong, 1)} |")
    page.write_text("".join(lines))
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(studies_runner.READERS, page.name, studies_runner.READERS["rh.md"])
        problems = studies_runner.check_page(page, out)
        assert len(problems) == 1 and label in problems[0] and f"the page says {wrong}" in problems[0]
        assert studies_runner.update_page(page, out) == [f"{label}: {cell.replace(f'{value:.{decimals}f}', wrong, 1)}"
                                                        f" -> {cell}"]
        assert studies_runner.check_page(page, out) == []


def test_stated_numbers_and_their_precision():
    assert studies_runner.stated("15.4 (Americas)") == (15.4, 1)
    assert studies_runner.stated("−0.23") == (-0.23, 2)
    assert studies_runner.stated("51 (of 66 cores)") == (51.0, 0)
    with pytest.raises(ValueError):
        studies_runner.stated("not in the text")
