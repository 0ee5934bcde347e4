"""The notebooks run top to bottom on a project that went through a user's first days.

The module fixture does, once and through the real `kedro` CLI in a fresh-clone-like copy, what
the notebooks say to run first: two trainings (two registered versions, a promotion in the
audit file), inference on the newest quarter and on the labelled holdout quarters (so that
monitoring measures performance by quarter), then monitoring. Each notebook is then executed
with nbclient in a kernel started in the copy's notebooks/ directory, as `kedro jupyter lab`
starts it, and what it shows is checked against the project's own files and registry.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from mlflow import MlflowClient
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from future_skills_kedro.contract import RAW_FILES
from tests.conftest import (
    FAST_TRAINING_PARAMS,
    PROJECT_ROOT,
    WEAK_TRAINING_PARAMS,
    copy_project,
    free_port,
    kedro_env,
    run_kedro,
    wait_for_http,
)

pytestmark = [pytest.mark.integration, pytest.mark.notebooks]

MODEL_NAME = "future-skills-model"
NOTEBOOKS = (
    "01_data_exploration.ipynb",
    "02_model_comparison.ipynb",
    "03_monitoring_review.ipynb",
)
# A weak first model, so that the second (FAST_TRAINING_PARAMS) is a better MINOR version.
WEAK = WEAK_TRAINING_PARAMS
KEDRO_KERNEL = "kedro_future_skills_kedro"  # what `kedro jupyter setup|lab` installs
CELL_TIMEOUT_S = 300
# Rich (Kedro's logging and pretty printer in the kernel) colours text and adds hyperlinks.
_TERMINAL_CODES = re.compile(r"\x1b\[[0-9;]*m|\x1b\]8;[^\x1b]*\x1b\\")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project copy after two trainings, three inference runs and a monitoring run."""
    project = copy_project(tmp_path_factory.mktemp("notebooks"))
    # copy_project leaves notebooks/ out (a fresh clone has them: they are committed).
    shutil.copytree(
        PROJECT_ROOT / "notebooks",
        project / "notebooks",
        ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
    )
    oracle = json.loads((project / "data/01_raw/generator_oracle.json").read_text())
    labelled_quarters = oracle["quarters"]["holdout"]
    score_again = ("run", "--pipelines", "inference", "--tags", "inference")
    commands = [
        ("run", "--pipelines", "training", "--params", WEAK),
        ("run", "--pipelines", "training", "--params", FAST_TRAINING_PARAMS),
        # Scored from the tables the trainings validated (docs/inference.md, "score again"):
        # the quality report notebook 01 reads stays the trainings' (all six files).
        score_again,
        *(
            (*score_again, "--params", f"inference.snapshot.as_of_date={q}")
            for q in labelled_quarters
        ),
        # The window is the 7 days ending today (UTC): it holds the runs' logs. The re-scored
        # labelled quarters are backfill records, which monitoring reads only when asked (as the
        # notebook says); they carry the labels performance needs. Whatever the status, exit 0.
        (
            "run",
            "--pipelines",
            "monitoring",
            "--params",
            "monitoring.exit_policy.fail_on=never,monitoring.window.purposes=backfill",
        ),
    ]
    for command in commands:
        result = run_kedro(project, *command)
        assert result.returncode == 0, (
            f"kedro {' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
        )
    assert (project / "data/08_reporting/monitoring/monitoring_summary.json").is_file()
    return project


@pytest.fixture(scope="module")
def python3_kernels(tmp_path_factory) -> Path:
    """A `python3` kernel spec of this interpreter, whatever kernels the machine has."""
    from ipykernel.kernelspec import write_kernel_spec

    kernels = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(kernels / "python3")
    return kernels


@pytest.fixture(scope="module")
def kedro_kernels(project: Path, tmp_path_factory) -> Path:
    """The kernel `kedro jupyter setup` installs (it loads kedro.ipython at start)."""
    data_dir = tmp_path_factory.mktemp("jupyter-data")
    result = run_kedro(
        project, "jupyter", "setup", env=kedro_env(project) | {"JUPYTER_DATA_DIR": str(data_dir)}
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    spec = json.loads((data_dir / "kernels" / KEDRO_KERNEL / "kernel.json").read_text())
    assert spec["argv"][-2:] == ["--ext", "kedro.ipython"]
    return data_dir / "kernels"


def _plain(text: str) -> str:
    return _TERMINAL_CODES.sub("", text)


def _execute(project: Path, name: str, kernels: Path, kernel_name: str):
    """Run the notebook top to bottom in the copy's notebooks/ directory; fail on any error."""
    notebooks = project / "notebooks"
    notebook = nbformat.read(notebooks / name, as_version=4)
    kernel_manager = AsyncKernelManager(
        kernel_name=kernel_name,
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]),
    )
    failed = []
    client = NotebookClient(
        notebook,
        km=kernel_manager,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(notebooks)}},  # the kernel's working directory
        on_cell_error=lambda cell, **_: failed.append(cell),
    )
    try:
        # MLflow points at the copy's store, telemetry is off (the kernel's environment).
        # cleanup_kc: the kernel is shut down at the end (nbclient keeps a kernel it was
        # handed a manager for running, ~0.5 GB until the test process exits).
        client.execute(env=kedro_env(project), cleanup_kc=True)
    except CellExecutionError as error:
        # The error holds the cell's source; the traceback is in the cell's outputs (Kedro's
        # logging installs rich tracebacks in IPython: a display output, not the error's).
        shown = _outputs_text(failed[-1])[-8000:] if failed else ""
        pytest.fail(
            f"{name} failed in kernel {kernel_name}:\n{_plain(str(error)).strip()}\n\n"
            f"{shown}\n{error.ename}: {error.evalue}",
            pytrace=False,
        )
    assert not kernel_manager.has_kernel, f"the kernel of {name} is still running"
    return notebook


def _outputs_text(cell) -> str:
    """What a cell printed and displayed, as plain text."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.data.get("text/plain", ""))
        elif output.output_type == "error":
            parts.extend(output.traceback)
    return _plain("\n".join(parts))


def _text(notebook, cell_id: str) -> str:
    return _outputs_text(next(cell for cell in notebook.cells if cell.get("id") == cell_id))


def _figures(notebook) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def _check_common(project: Path, notebook) -> None:
    # The store the project hook set up: the copy's mlflow.db, not ./mlruns next to the notebook.
    uri = kedro_env(project)["MLFLOW_TRACKING_URI"]
    assert f"MLflow tracking URI: {uri}" in _text(notebook, "tracking-uri")
    assert f"Kedro project: {project}" in _text(notebook, "tracking-uri")
    written = {path.name for path in (project / "notebooks").iterdir()}
    leftovers = written & {"mlruns", "mlflow.db", "data"}
    assert not leftovers, f"the notebook wrote {leftovers} into notebooks/"


def _check_exploration(project: Path, notebook) -> None:
    report = json.loads((project / "data/08_reporting/data_quality_report.json").read_text())
    quality = _text(notebook, "data-quality")
    assert f"rows in: {report['rows_in_total']}" in quality
    for name in RAW_FILES:
        assert f"{name}.csv" in quality, quality
        assert name in _text(notebook, "raw-files")
    assert all(level in _text(notebook, "labels-tables") for level in ("LOW", "MEDIUM", "HIGH"))
    assert "rejection record(s)" in _text(notebook, "rejected-rows")
    assert _figures(notebook) >= 4  # labels, distributions, trends, data quality


def _check_model_comparison(project: Path, notebook) -> None:
    uri = kedro_env(project)["MLFLOW_TRACKING_URI"]
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    versions = client.search_model_versions(f"name='{MODEL_NAME}'")
    assert len(versions) == 2
    champion = int(client.get_model_version_by_alias(MODEL_NAME, "champion").version)
    comparison = _text(notebook, "comparison")
    for version in versions:
        semver, stage = version.tags["semver"], version.tags["stage"]
        alias = "champion" if int(version.version) == champion else ""
        row = rf"^{version.version}\s+{re.escape(semver)}\s+{stage}\s+{alias}"
        assert re.search(row, comparison, re.MULTILINE), f"no row {row!r} in:\n{comparison}"
    per_class = _text(notebook, "per-class")
    for word in ("precision", "recall", "f1", "v1 1.0.0", "v2 1.1.0"):
        assert word in per_class, per_class

    audit = json.loads((project / "data/06_models/model_versions.json").read_text())
    history = _text(notebook, "history")
    assert f"champion: audit file v{champion}, registry v{champion}" in history
    for event in audit["events"]:
        assert event["action"] in history
    assert {"register", "promote"} <= {event["action"] for event in audit["events"]}
    assert _figures(notebook) >= 3  # metric per version, per class, promotion history


def _check_monitoring_review(project: Path, notebook) -> None:
    summary_file = project / "data/08_reporting/monitoring/monitoring_summary.json"
    summary = json.loads(summary_file.read_text())
    assert f"status: {summary['status'].upper()}" in _text(notebook, "status")
    drift = _text(notebook, "drift")
    assert summary["drift"]["features"], "monitoring tested no feature"
    for feature in summary["drift"]["features"]:
        assert feature in drift, drift
    performance = _text(notebook, "performance")
    assert "performance: assessed" in performance, performance
    for period in summary["performance"]["by_period"]:
        assert period["period"] in performance
    assert len(summary["performance"]["by_period"]) == 2  # the two labelled quarters
    assert "health_code" in _text(notebook, "history")  # the runs of production-monitoring
    assert _figures(notebook) >= 3  # drift, predictions, performance


CHECKS = {
    "01_data_exploration.ipynb": _check_exploration,
    "02_model_comparison.ipynb": _check_model_comparison,
    "03_monitoring_review.ipynb": _check_monitoring_review,
}


def test_every_notebook_is_checked():
    assert sorted(p.name for p in (PROJECT_ROOT / "notebooks").glob("*.ipynb")) == sorted(CHECKS)


def test_notebooks_are_committed_without_outputs():
    for name in NOTEBOOKS:
        notebook = nbformat.read(PROJECT_ROOT / "notebooks" / name, as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata.kernelspec.name == "python3", name
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, (name, cell.id)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_a_python3_kernel(project, python3_kernels, name):
    notebook = _execute(project, name, python3_kernels, "python3")
    _check_common(project, notebook)
    CHECKS[name](project, notebook)


def test_notebook_runs_in_the_kedro_jupyter_kernel(project, kedro_kernels):
    # `kedro jupyter lab` loads the extension at kernel start, from notebooks/; the notebook's
    # own `%load_ext kedro.ipython` is then a no-op.
    name = "02_model_comparison.ipynb"
    notebook = _execute(project, name, kedro_kernels, KEDRO_KERNEL)
    _check_common(project, notebook)
    CHECKS[name](project, notebook)


def test_kedro_mlflow_ui_browses_the_same_runs(project):
    # docs/operations.md: `kedro mlflow ui` opens the project's store, whatever the cwd.
    port = free_port()
    kedro = Path(sys.executable).with_name("kedro")
    process = subprocess.Popen(
        [str(kedro), "mlflow", "ui", "--port", str(port)],
        cwd=project / "notebooks",
        # One server worker for one test client (MLflow's --workers, default 4, as a variable:
        # `kedro mlflow ui` has no such option); each worker imports MLflow's server anew. No
        # GenAI job runner either (docs/operations.md).
        env=kedro_env(project)
        | {"MLFLOW_WORKERS": "1", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # `mlflow ui` forks its workers: stop the whole group
    )
    try:
        api = f"http://127.0.0.1:{port}/api/2.0/mlflow"
        experiments = _get_json(f"{api}/experiments/search?max_results=100", process)
        names = {experiment["name"] for experiment in experiments["experiments"]}
        assert {"model-training", "future-skills-prediction", "production-monitoring"} <= names
        model = _get_json(f"{api}/registered-models/get?name={MODEL_NAME}", process)
        assert {a["alias"] for a in model["registered_model"]["aliases"]} == {"champion"}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _get_json(url: str, process: subprocess.Popen) -> dict:
    return json.loads(wait_for_http(url, process, "kedro mlflow ui"))
