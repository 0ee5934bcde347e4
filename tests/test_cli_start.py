"""What the `kedro` CLI runs at start (``kedro.init`` entry point)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points

EXIT_ORDER = """
import atexit, gc, sys
atexit.register(lambda: print("frozen last:", gc.get_freeze_count() > 0))
from future_skills_kedro.cli_start import on_kedro_cli_start
on_kedro_cli_start()
print("package left loaded:", "future_skills_kedro" in sys.modules)
atexit.register(lambda: print("frozen first:", gc.get_freeze_count() > 0))
"""


def test_the_kedro_cli_registers_the_start_hook():
    hooks = {hook.value for hook in entry_points(group="kedro.init")}
    assert "future_skills_kedro.cli_start:on_kedro_cli_start" in hooks


def test_objects_are_frozen_after_every_later_exit_callback_and_nothing_stays_imported(tmp_path):
    env = os.environ | {"KEDRO_DISABLE_TELEMETRY": "true"}
    ran = subprocess.run(
        [sys.executable, "-c", EXIT_ORDER],
        cwd=tmp_path,  # outside a Kedro project: kedro-mlflow is not imported
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    assert ran.stdout.splitlines() == [
        "package left loaded: False",
        "frozen first: False",  # callbacks registered later (MLflow's, logging's) run unfrozen
        "frozen last: True",
    ]
