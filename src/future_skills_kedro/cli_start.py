"""What the `kedro` CLI runs at start, before it loads plugin commands (``kedro.init`` entry
point in pyproject.toml): a quick exit, and kedro-mlflow imported without an inapplicable
warning (third_party_warnings.py).

The quick exit: at the end of a command CPython clears every module and runs full garbage
collections over every object still alive. A `kedro` command imports about 5,000 modules
(MLflow and its GenAI stack, scikit-learn, pandas, SQLAlchemy...), and those passes took 1.5 s
after the imports alone and 3 s after a 1M-row `kedro run --pipelines inference` here (perf:
``gc_collect_main``); 0.3 s with the objects frozen. ``gc.freeze()`` as the last exit callback
moves the objects out of the collector's sight: they are still released as their references
go, streams still flushed and every other exit callback still run; only garbage caught in
reference cycles at exit is left to the operating system, which reclaims the memory anyway.
"""

from __future__ import annotations

import atexit
import gc
import sys
from pathlib import Path


def freeze_objects_at_exit() -> None:
    """Run ``gc.freeze`` at exit, after the exit callbacks registered later (they run first)."""
    atexit.register(gc.freeze)


def on_kedro_cli_start() -> None:
    """``kedro.init`` entry point. Outside a Kedro project it only registers the quick exit."""
    from kedro.utils import find_kedro_project

    freeze_objects_at_exit()
    if find_kedro_project(Path.cwd()) is not None:
        from future_skills_kedro.third_party_warnings import import_kedro_mlflow_quietly

        import_kedro_mlflow_quietly()
    # Leave no trace of this package: the `kedro` CLI must import the project's code from the
    # project's src/ (bootstrap_project puts it first on sys.path), not from wherever this
    # entry point was installed.
    for name in [m for m in sys.modules if m.split(".")[0] == __package__]:
        del sys.modules[name]
