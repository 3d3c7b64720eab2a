"""Writing outputs without ever losing a user's data.

Every file wholesoil writes goes through :func:`atomic_output`:

* the destination is checked first: its folder exists and is writable, it is not a folder,
  and it is not a file the same run reads (compared by real path, so symlinks and other
  spellings of a path are caught);
* the file (or the set of files of a multi-file format such as a Shapefile) is written in a
  hidden temporary folder next to the destination and moved into place only on success;
* the temporary folder is named after the destination and the writing process
  (``.<name>.wholesoil-<pid>-<token>.tmp``), so a later run to the same destination removes
  what a killed run (SIGKILL, power loss) left behind.

Inside an :class:`OutputTransaction` (the CLI opens one per command, the Processing
algorithms one per run) nothing is moved until the whole command has succeeded: all outputs
of one command appear together, or none does. Files the command reads are registered with
:func:`register_input`, and no output may resolve to one of them.
"""

import contextlib
import contextvars
import os
import re
import shutil
import signal
import threading
import tempfile
import uuid
from pathlib import Path

from .errors import InputError

#: Companion files of a Shapefile: written, replaced and removed as one set.
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qmd", ".shp.xml")
#: GDAL's files beside a dataset (statistics and styles, external overviews, masks): they describe
#: the file they sit beside, so a replaced output loses them (QGIS stretched a new map with the old statistics).
GDAL_SIDECARS = (".aux.xml", ".ovr", ".msk")

_TEMP = re.compile(r"^\.(?P<name>.+)\.wholesoil-(?P<pid>\d+)-[0-9a-f]+\.tmp$")
_transaction = contextvars.ContextVar("wholesoil_output_transaction", default=None)


def same_file(a, b):
    """True when two paths name the same file (symlinks, '..' and relative spellings resolved)."""
    a, b = Path(a), Path(b)
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


#: A GDAL subdataset string: DRIVER:"file":name or DRIVER:file:name (a driver name of two characters or more,
#: so that C:\x.tif is a path).
_SUBDATASET = re.compile(r'^[A-Za-z][A-Za-z0-9_]+:(?:[^"]*?"(?P<quoted>[^"]+)"(?::(?P<name>.*))?|(?P<plain>[^"]+))$')


def subdataset(path):
    """(file, name) of a GDAL subdataset string: ('x.gpkg', 'bio1') of GPKG:x.gpkg:bio1, ('x.nc', 'bio1') of
    NETCDF:"x.nc":bio1 (name '' when the string names none); None for another string, or when its unquoted
    file does not exist."""
    text = str(path)
    match = _SUBDATASET.match(text)
    if match is None or os.path.exists(text):
        return None
    if match["plain"] is None:
        return match["quoted"], match["name"] or ""
    parts = match["plain"].split(":")  # the file is the longest run of them that is a file: GPKG:C:\x.gpkg:bio1
    for end in range(len(parts), 0, -1):
        if os.path.isfile(":".join(parts[:end])):
            return ":".join(parts[:end]), ":".join(parts[end:])
    return None


def _dataset_file(path):
    """The file behind a data source string: 'x.gpkg|layername=a', 'GPKG:x.gpkg:a' and 'NETCDF:"x.nc":a' -> the
    x.gpkg or x.nc."""
    text = str(path).split("|", 1)[0]
    found = subdataset(text)
    return text if found is None else found[0]


def source_files(path):
    """The files an input reads: the file itself, and for a GDAL virtual raster (.vrt) every
    file it refers to (those of nested VRTs too)."""
    files, pending = [], [_dataset_file(path)]
    while pending:
        current = pending.pop()
        if current in files:
            continue
        files.append(current)
        if current.lower().endswith(".vrt") and os.path.isfile(current):
            from osgeo import gdal

            try:
                dataset = gdal.OpenEx(current, gdal.OF_RASTER)
            except RuntimeError:  # a malformed VRT: reading it fails later, with its own message
                dataset = None
            pending += [f for f in (dataset.GetFileList() or []) if f != current] if dataset is not None else []
    return files


def output_parts(path):
    """The files one output consists of (a Shapefile is several), and GDAL's sidecars of it."""
    path = Path(path)
    stem = path.with_suffix("")
    parts = [path] if path.suffix.lower() != ".shp" else [Path(f"{stem}{suffix}") for suffix in SHAPEFILE_PARTS]
    return parts + [Path(f"{path}{suffix}") for suffix in GDAL_SIDECARS]


def check_output_path(path, option="output", inputs=()):
    """Raise InputError unless ``path`` can be written without harm.

    Checks that its folder exists and is writable, that it is not a folder, and that none of
    its files is one of ``inputs`` (or an input registered with the current transaction).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"{option}: {path} is a folder; give a file name")
    if not folder.is_dir():
        raise InputError(f"{option}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{option}: folder {folder} is not writable")
    try:  # os.access trusts root and ignores read-only mounts: make (and remove) a folder as the run will
        os.rmdir(tempfile.mkdtemp(prefix=".wholesoil-probe-", dir=folder))
    except OSError as error:
        raise InputError(f"{option}: cannot write in folder {folder} ({error.strerror or error})") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"{option}: {path} exists and is read-only")
    transaction = _transaction.get()
    parts = [part for part in output_parts(path) if part.exists()]  # a new file replaces no input
    known = list(inputs) + (transaction.inputs if transaction is not None else [])
    sources = [file for given in dict.fromkeys(map(str, known)) for file in source_files(given)] if parts else []
    for part in parts:
        for source in sources:
            if os.path.exists(source) and same_file(part, source):
                raise InputError(f"{option}: {path} is also an input ({source}); write to another file "
                                 "so that the input is not destroyed")


def check_output_suffix(option, path, suffixes):
    """Raise InputError unless ``path`` ends with one of ``suffixes`` and can be written safely."""
    if not str(path).lower().endswith(tuple(suffixes)):
        raise InputError(f"{option}: {path} should end with one of {', '.join(suffixes)}")
    check_output_path(path, option)


def check_distinct_outputs(outputs):
    """Raise InputError when two of ``outputs`` [(label, path)] name one file (the second would
    replace the first: a map overwritten by its report)."""
    for i, (label, path) in enumerate(outputs):
        for other, other_path in outputs[:i]:
            if os.path.abspath(other_path) == os.path.abspath(path) or \
                    (os.path.exists(path) and os.path.exists(other_path) and same_file(path, other_path)):
                raise InputError(f"{other} and {label} name the same file {path}; give each output its own file")


def set_output_layer(path, layer):
    """Name the layer the current command writes into the GeoPackage ``path``."""
    transaction = _transaction.get()
    if transaction is not None:
        transaction.layers[os.path.abspath(path)] = str(layer)


def output_layer(path):
    """The layer name set for ``path`` by :func:`set_output_layer`, or None."""
    transaction = _transaction.get()
    return None if transaction is None else transaction.layers.get(os.path.abspath(path))


def readable_path(path):
    """Where ``path`` can be read now: its temporary file while the transaction is open."""
    transaction = _transaction.get()
    if transaction is not None:
        for pending in transaction.pending:
            if os.path.abspath(pending.path) == os.path.abspath(path):
                return str(pending.tmp)
    return str(path)


def register_input(path):
    """Record that the current command reads ``path`` (no output may replace it)."""
    transaction = _transaction.get()
    if transaction is not None and path is not None:
        transaction.inputs.append(_dataset_file(path))


def remove_stale_temporaries(path):
    """Remove temporary folders left next to ``path`` by runs whose process is gone."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        match = _TEMP.match(entry.name)
        if match and match["name"] == path.name and entry.is_dir() and not _process_alive(int(match["pid"])):
            shutil.rmtree(entry.path, ignore_errors=True)


def _process_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Pending:
    """One output being written: its temporary folder and its destination."""

    def __init__(self, path, option="output"):
        self.path = Path(path)
        folder = self.path.parent if str(self.path.parent) else Path(".")
        self.folder = folder / f".{self.path.name}.wholesoil-{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp"
        try:
            self.folder.mkdir()
        except OSError as error:  # a folder os.access calls writable may not be (root; read-only mounts, /proc)
            raise InputError(f"{option}: cannot write in folder {folder} ({error.strerror or error})") from None
        self.tmp = self.folder / self.path.name

    def commit(self):
        """Move the written file(s) into place; parts of the replaced output that the new set lacks
        (a Shapefile's, GDAL's sidecars) are removed."""
        written = {p.name for p in self.folder.iterdir()}
        for part in output_parts(self.path):
            if part.name in written:
                os.replace(self.folder / part.name, part)
            elif part != self.path and part.exists():
                part.unlink()
        self.discard()

    def discard(self):
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def atomic_output(path, option="output", inputs=()):
    """Yield a temporary path for ``path``; move it into place only on success.

    ``inputs``: files the caller reads, which ``path`` must not be (besides the inputs
    registered with the current transaction). On any exception the temporary files are
    removed and an existing ``path`` is untouched. Inside an :class:`OutputTransaction` the
    move waits for the transaction's commit.
    """
    check_output_path(path, option, inputs)
    remove_stale_temporaries(path)
    pending = _Pending(path, option)
    transaction = _transaction.get()
    try:
        yield str(pending.tmp)
        if not pending.tmp.exists():
            raise InputError(f"{option}: nothing was written to {path}")
    except BaseException:
        pending.discard()
        raise
    if transaction is None:
        pending.commit()
    else:
        transaction.pending.append(pending)


class OutputTransaction:
    """All outputs of one command: moved into place together at the end, or not at all.

    Use as a context manager. ``inputs`` lists files the command reads; files read through
    :func:`register_input` while it is open are added. ``notes`` collects what writers want
    the user to know (e.g. which layers of an existing GeoPackage were kept); ``tell``, a
    function of a text, tells the user something at once (:func:`inform`).
    """

    def __init__(self, inputs=(), tell=None):
        self.inputs = [_dataset_file(p) for p in inputs if p is not None]
        self.pending = []
        self.notes = []
        self.tell = tell
        self.layers = {}
        self._token = None

    def __enter__(self):
        self._token = _transaction.set(self)
        return self

    def __exit__(self, kind, error, traceback):
        _transaction.reset(self._token)
        if kind is None:
            for pending in self.pending:
                pending.commit()
        else:
            self.discard()
        return False

    def discard(self):
        """Remove every output written so far (nothing reaches its destination)."""
        for pending in self.pending:
            pending.discard()
        self.pending = []


def note(text):
    """Tell the user something about an output (printed by the CLI, logged in QGIS), once."""
    transaction = _transaction.get()
    if transaction is not None and text not in transaction.notes:
        transaction.notes.append(text)


def inform(text):
    """Tell the user something now, while the command runs (the CLI prints it, QGIS logs it): why it waits."""
    transaction = _transaction.get()
    if transaction is not None and transaction.tell is not None:
        transaction.tell(text)


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM or SIGHUP; raised so that clean-up code runs."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_terminated(signum, frame):
    raise Terminated(signum)


@contextlib.contextmanager
def clean_up_on_signals():
    """Turn SIGTERM and SIGHUP into :class:`Terminated` while the block runs (main thread only).

    Clean-up then happens as for Ctrl-C: temporary outputs are removed, worker pools stopped.
    Elsewhere (a QGIS worker thread) this does nothing: a later run to the same destination
    removes what a killed run left.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        try:
            previous[signum] = signal.signal(signum, _raise_terminated)
        except (ValueError, OSError):
            continue
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
