"""How many threads a step of this project may keep busy at once."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (the machine's count elsewhere)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def numeric_threads() -> int:
    """Threads for numeric work: one per usable core, or fewer when ``OMP_NUM_THREADS`` says so
    (the limit native thread pools read, and what schedulers and parallel test workers set)."""
    cores = usable_cores()
    limit = os.environ.get("OMP_NUM_THREADS", "").strip()
    if limit.isdigit() and int(limit) > 0:
        return min(cores, int(limit))
    return cores
