"""What the `kedro` CLI runs at start (``kedro.init`` entry point): a quick exit, and no
cyclic garbage collection during a run's start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from tests.conftest import run_kedro

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


PAUSE_AND_RESUME = """
import gc, os
from future_skills_kedro.cli_start import (
    COLLECTION_PAUSED, pause_collection_until_the_run, resume_collection
)
for argv in (["kedro", "models", "list"], ["kedro", "--version"], ["kedro"], ["kedro", "-h"]):
    pause_collection_until_the_run(argv)
print("other commands collect:", gc.isenabled())
resume_collection()
print("a resume without a pause freezes:", gc.get_freeze_count() > 0)
pause_collection_until_the_run(["/venv/bin/kedro", "run", "--pipelines", "inference"])
print("run paused:", not gc.isenabled(), COLLECTION_PAUSED in os.environ)
resume_collection()
print("run resumed:", gc.isenabled(), gc.get_freeze_count() > 0, COLLECTION_PAUSED in os.environ)
gc.unfreeze()
gc.disable()  # the process's own choice: neither undone nor frozen
pause_collection_until_the_run(["kedro", "run"])
resume_collection()
print("left disabled:", not gc.isenabled(), gc.get_freeze_count() > 0)
"""


def test_collection_is_paused_only_from_a_kedro_run_start_to_its_resume(tmp_path):
    ran = subprocess.run(
        [sys.executable, "-c", PAUSE_AND_RESUME],
        cwd=tmp_path,
        env=os.environ | {"KEDRO_DISABLE_TELEMETRY": "true"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert ran.stdout.splitlines() == [
        "other commands collect: True",
        "a resume without a pause freezes: False",
        "run paused: True True",
        "run resumed: True True False",
        "left disabled: True False",
    ]


# Injected into a project copy's settings.py: what each node of a real `kedro run` sees.
_COLLECTOR_PROBE = """

import gc
import json
from pathlib import Path

from kedro.framework.hooks import hook_impl


class _CollectorProbe:
    @hook_impl
    def after_context_created(self, context):
        self._seen = {"start_up": gc.isenabled(), "nodes": []}

    @hook_impl
    def before_node_run(self, node):
        self._seen["nodes"].append([gc.isenabled(), gc.get_freeze_count() > 0])

    @hook_impl
    def after_pipeline_run(self):
        Path("collector.json").write_text(json.dumps(self._seen))


HOOKS = (*HOOKS, _CollectorProbe())
"""


@pytest.mark.integration
def test_a_kedro_run_starts_without_collection_and_runs_its_nodes_with_it(project_copy):
    settings = project_copy / "src/future_skills_kedro/settings.py"
    settings.write_text(settings.read_text() + _COLLECTOR_PROBE)

    one_node = ("--pipelines", "data_engineering", "--nodes", "data_engineering.validate_skills")
    result = run_kedro(project_copy, "run", *one_node)

    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads((project_copy / "collector.json").read_text())
    assert seen["start_up"] is False
    assert seen["nodes"] and all(node == [True, True] for node in seen["nodes"])
