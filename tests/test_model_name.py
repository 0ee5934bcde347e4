"""One registered model name, in conf/base/globals.yml: renamed there, everything follows.

The real CLI on a fresh copy: training registers and promotes under the new name, inference
scores with it, `kedro models list` lists it, and the old name is nowhere in the registry.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from mlflow import MlflowClient

from tests.conftest import FAST_TRAINING_PARAMS, run_kedro

pytestmark = pytest.mark.integration

NEW_NAME = "hr-skills-forecast"


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout


def _rename(project: Path, new_name: str) -> str:
    """Change the name in its one place; return the old name."""
    globals_file = project / "conf/base/globals.yml"
    old_name = yaml.safe_load(globals_file.read_text())["registered_model_name"]
    text = globals_file.read_text()
    line = f"registered_model_name: {old_name}\n"
    assert text.count(line) == 1
    globals_file.write_text(text.replace(line, f"registered_model_name: {new_name}\n"))
    return old_name


def test_the_model_name_changed_in_globals_is_registered_scored_with_and_listed(project_copy):
    old_name = _rename(project_copy, NEW_NAME)
    # No other configuration file names the model.
    for path in (project_copy / "conf").rglob("*.yml"):
        assert old_name not in path.read_text(), path

    trained = _ok(
        run_kedro(project_copy, "run", "--pipelines", "training", "--params", FAST_TRAINING_PARAMS)
    )
    assert f"{NEW_NAME} v1 = 1.0.0 -> champion" in trained
    _ok(run_kedro(project_copy, "run", "--pipelines", "inference"))
    listed = _ok(run_kedro(project_copy, "models", "list"))

    uri = f"sqlite:///{(project_copy / 'mlflow.db').as_posix()}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert [model.name for model in client.search_registered_models()] == [NEW_NAME]
    assert {version.name for version in client.search_model_versions()} == {NEW_NAME}
    assert str(client.get_model_version_by_alias(NEW_NAME, "champion").version) == "1"

    predictions = pd.read_parquet(project_copy / "data/07_model_output/predictions.parquet")
    assert set(predictions["model_name"]) == {NEW_NAME}
    summary = json.loads((project_copy / "data/08_reporting/inference_summary.json").read_text())
    assert old_name not in json.dumps(summary)
    audit = json.loads((project_copy / "data/06_models/model_versions.json").read_text())
    assert audit["model_name"] == NEW_NAME

    rows = [line.split() for line in listed.splitlines()]
    assert any(row[:1] == ["v1"] and "champion" in row for row in rows), listed
    assert old_name not in listed
