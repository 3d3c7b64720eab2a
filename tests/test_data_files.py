"""The real test data shipped in tests/data: attributed, small, and still the shared originals."""

import re

MAX_BYTES = 5 * 1024 * 1024
NOT_DATA = {"SOURCE.md", "LICENSE"}


def data_files(real_data):
    """Paths (relative, '/'-separated) of the data files in tests/data."""
    return sorted(p.relative_to(real_data).as_posix() for p in real_data.rglob("*")
                  if p.is_file() and p.name not in NOT_DATA)


def listed_files(real_data):
    """The file names in the first column of the tables of tests/data/SOURCE.md."""
    names = []
    for line in (real_data / "SOURCE.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            names += re.findall(r"`([^`]+)`", line.split("|")[1])
    return names


def test_every_file_is_listed_in_source_md_and_small(real_data):
    files, listed = data_files(real_data), listed_files(real_data)
    assert len(files) >= 10 and listed
    # a sidecar (.prj) is covered by its grid's row
    unlisted = [f for f in files if not any(name.rsplit(".", 1)[0] == f.rsplit(".", 1)[0] for name in listed)]
    assert not unlisted, f"add these to tests/data/SOURCE.md: {unlisted}"
    missing = [name for name in listed if not (real_data / name).is_file()]
    assert not missing, f"listed in tests/data/SOURCE.md but absent: {missing}"
    large = [f for f in files if (real_data / f).stat().st_size > MAX_BYTES]
    assert not large, f"over 5 MB: {large}"


def test_files_are_identical_to_the_shared_data(real_data, shared_data):
    """Optional: needs ../shared/data (or $WHOLESOIL_SHARED_DATA); rebuild with scripts/make_test_data.py."""
    changed = [f for f in data_files(real_data)
               if not (shared_data / f).is_file() or (shared_data / f).read_bytes() != (real_data / f).read_bytes()]
    assert not changed, f"differ from {shared_data}: {changed}"
