"""What the `kedro` CLI runs at start, before it loads plugin commands (``kedro.init`` entry
point in pyproject.toml): a quick exit, no cyclic garbage collection during a run's start-up,
and kedro-mlflow imported without an inapplicable warning (third_party_warnings.py).

The quick exit: at the end of a command CPython clears every module and runs full garbage
collections over every object still alive. A `kedro` command imports about 5,000 modules
(MLflow and its GenAI stack, scikit-learn, pandas, SQLAlchemy...), and those passes took 1.5 s
after the imports alone and 3 s after a 1M-row `kedro run --pipelines inference` here (perf:
``gc_collect_main``); 0.3 s with the objects frozen. ``gc.freeze()`` as the last exit callback
moves the objects out of the collector's sight: they are still released as their references
go, streams still flushed and every other exit callback still run; only garbage caught in
reference cycles at exit is left to the operating system, which reclaims the memory anyway.

The start-up: CPython runs a full collection each time the live objects grew by a quarter, so
importing those modules cost 2.6 s of collections before the first node of a `kedro run`
(``gc.callbacks``), which found less than 5,000 objects to free. A `kedro run` process starts
with collection off; the last ``before_pipeline_run`` hook (``StartUpCollectionHook``)
freezes what the start-up built and turns collection back on, so the nodes' garbage is
collected as usual while their collections skip the ~500,000 start-up objects (3.25 s of
collections in a 1M-row inference run before, 0.17 s after). Other commands are unchanged.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path

# Set while a `kedro run` process starts with collection paused: the marker survives the
# package's removal from sys.modules below, and resume_collection clears it.
COLLECTION_PAUSED = "FUTURE_SKILLS_KEDRO_COLLECTION_PAUSED"


def freeze_objects_at_exit() -> None:
    """Run ``gc.freeze`` at exit, after the exit callbacks registered later (they run first)."""
    atexit.register(gc.freeze)


def _command(argv: Sequence[str]) -> str | None:
    return next((arg for arg in argv[1:] if not arg.startswith("-")), None)


def pause_collection_until_the_run(argv: Sequence[str]) -> None:
    """In a `kedro run` process, no cyclic garbage collection until the pipeline starts."""
    if _command(argv) == "run" and gc.isenabled():
        gc.disable()
        os.environ[COLLECTION_PAUSED] = "1"


def resume_collection() -> None:
    """At the pipeline's start: the start-up's objects frozen, then collection back on.

    Does nothing unless pause_collection_until_the_run paused it in this process.
    """
    if os.environ.pop(COLLECTION_PAUSED, None) is None:
        return
    gc.freeze()
    gc.enable()


def on_kedro_cli_start() -> None:
    """``kedro.init`` entry point. Outside a Kedro project it only registers the quick exit."""
    from kedro.utils import find_kedro_project

    freeze_objects_at_exit()
    pause_collection_until_the_run(sys.argv)
    if find_kedro_project(Path.cwd()) is not None:
        from future_skills_kedro.third_party_warnings import import_kedro_mlflow_quietly

        import_kedro_mlflow_quietly()
    # Leave no trace of this package: the `kedro` CLI must import the project's code from the
    # project's src/ (bootstrap_project puts it first on sys.path), not from wherever this
    # entry point was installed.
    for name in [m for m in sys.modules if m.split(".")[0] == __package__]:
        del sys.modules[name]
