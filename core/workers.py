"""How many local workers a run starts (joblib's ``n_jobs`` convention)."""

import os

from .outputs import note


def local_workers(n_jobs, tasks=None):
    """Workers on this machine for ``n_jobs``: -1 all cores, -2 all but one, …; None or 0: one.

    Never more than the cores or the ``tasks`` to do: more processes or threads than cores
    only compete for them (and 1000 worker processes exhaust a laptop's memory), so a larger
    request is reduced, with a note.
    """
    cores = max(1, os.cpu_count() or 1)
    if n_jobs is None or n_jobs == 0:
        workers = 1
    elif n_jobs < 0:
        workers = max(1, cores + 1 + int(n_jobs))
    else:
        workers = int(n_jobs)
        if workers > cores:
            note(f"{workers} workers asked for, this machine has {cores} cores: using {cores}")
            workers = cores
    return max(1, min(workers, tasks)) if tasks is not None else workers
