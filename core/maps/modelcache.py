"""Prepared forests kept between map runs, as numba keeps its compiled code.

Preparing a forest for the compiled kernel means reading its model file (unzipping the node
arrays, rebuilding the scikit-learn model and checking its stored predictions, which
imports scikit-learn and pandas) and packing its trees (:class:`.kernels.PackedForest`):
about 1 s for a 200-tree forest, half as long as mapping a 1000 × 1000 raster with it. After
the first map of a model file, its packed forest and what a map needs to know of the model
(:func:`.predict.model_spec`) are kept, so that the next map of that file (the next tile of
a region, the next run of a batch) reads one file of plain arrays instead.

Where: the folder named by the environment variable ``WHOLESOIL_CACHE_DIR`` ("off": no
cache), else ``$XDG_CACHE_HOME/wholesoil/forests``, else ``~/.cache/wholesoil/forests``.

An entry is a folder of plain ``.npy`` arrays (read without pickle) and the description as
JSON text, named by the model file's SHA-256 and a digest of the code that packs and runs
forests: a changed model file, or another version of wholesoil, never reads an entry it did
not write. Its arrays are mapped into memory, not copied: a run starts without reading them
through (about 0.05 s of a 1000² map's start-up). Entries are written to a temporary folder and
renamed, never changed afterwards; at most :data:`MAX_BYTES` are kept, the least recently used
removed first. An entry that cannot be read, or whose arrays do not fit together, is ignored
and the model file is read instead. A folder that cannot be written is not an error: maps are
the same, only their start is slower.

An entry is trusted as the model file is: whoever can write into the cache folder can change
later maps (as with numba's cache or Python's ``__pycache__``), so keep it a folder of your own
(``~/.cache`` is).
"""

import functools
import hashlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path

import numpy as np

from .kernels import PackedForest

#: Bytes of entries kept (the least recently used are removed beyond it).
MAX_BYTES = 2 << 30
#: Age (s) after which a temporary folder is a leftover of a run that was killed.
STALE_SECONDS = 3600
#: The name ending of an entry (a folder).
SUFFIX = ".forest"


#: The code that decodes a model file and packs, describes and runs its forest (the entries' key).
SOURCES = ("maps/kernels.py", "maps/predict.py", "maps/modelcache.py", "learn/encoding.py", "learn/models.py",
           "learn/modelfile.py")


def folder():
    """The cache folder (a Path, perhaps not yet made), or None when the cache is off."""
    chosen = os.environ.get("WHOLESOIL_CACHE_DIR", "").strip()
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen).expanduser().absolute()
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    if not os.path.isabs(base):  # unset, or relative (which the XDG specification says to ignore)
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "wholesoil" / "forests"


@functools.lru_cache(maxsize=1)
def _code_digest():
    """SHA-256 (hex, 16 digits) of wholesoil's version and the :data:`SOURCES`."""
    from ... import __version__

    digest = hashlib.sha256(__version__.encode())
    core = Path(__file__).resolve().parents[1]
    for source in SOURCES:
        digest.update((core / source).read_bytes())
    return digest.hexdigest()[:16]


def _entry(checksum):
    where = folder()
    return None if where is None else where / f"{checksum}-{_code_digest()}{SUFFIX}"


def load(checksum):
    """(spec, PackedForest) kept for the model file of SHA-256 ``checksum``, or None (no entry,
    or one that cannot be read: damaged, removed meanwhile, a folder that cannot be read)."""
    path = _entry(checksum)
    if path is None:
        return None
    try:
        about = json.loads((path / "about.json").read_text(encoding="utf-8"))
        # copy-on-write maps: writable arrays, as the compiled kernel was compiled for, that never change the file
        arrays = {name: np.load(path / f"{name}.npy", mmap_mode="c", allow_pickle=False)
                  for name in PackedForest.ARRAYS}
        packed = PackedForest.from_arrays(arrays, about["n_features"], about["classification"])
        spec = about["spec"]
    except (OSError, ValueError, KeyError, TypeError, EOFError):
        return None
    try:
        os.utime(path)  # recently used (not possible in a folder shared read-only)
    except OSError:
        pass
    return spec, packed


def store(checksum, spec, packed):
    """Keep ``packed`` and ``spec`` for the model file of SHA-256 ``checksum`` (quietly not, when
    the folder cannot be written, or when another run has just kept it). A run that maps the
    entry it replaces keeps reading the old files, which stay until it ends."""
    path = _entry(checksum)
    if path is None:
        return
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    about = {"spec": spec, "n_features": packed.n_features, "classification": packed.classification}
    try:
        temporary.mkdir(parents=True)
        (temporary / "about.json").write_text(json.dumps(about), encoding="utf-8")
        for name in PackedForest.ARRAYS:
            np.save(temporary / f"{name}.npy", getattr(packed, name), allow_pickle=False)
        shutil.rmtree(path, ignore_errors=True)  # a damaged entry (a good one is not stored again)
        os.rename(temporary, path)  # fails when another run has just kept the entry
        _prune(path.parent, path)
    except OSError:
        shutil.rmtree(temporary, ignore_errors=True)


def _size(entry):
    return sum(part.stat().st_size for part in entry.iterdir())


def _prune(where, newest):
    """Remove the least recently used entries beyond MAX_BYTES (never ``newest``), and stale
    temporary folders."""
    now = time.time()
    entries = []
    for path in where.iterdir():
        try:
            status = path.stat()
            if path.suffix == ".tmp" and now - status.st_mtime > STALE_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
            elif path.suffix == SUFFIX and path != newest:
                entries.append((status.st_mtime, _size(path), path))
        except OSError:  # removed meanwhile by another run
            continue
    total = sum(size for _, size, _ in entries) + _size(newest)
    for _, size, path in sorted(entries):
        if total <= MAX_BYTES:
            break
        shutil.rmtree(path, ignore_errors=True)
        total -= size
