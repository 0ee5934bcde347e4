"""MLflow tracking defaults shared by hooks, CLI commands and benchmarks (no Kedro imports)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlparse

TRACKING_DB_FILENAME = "mlflow.db"
ERROR_TAG = "error"  # on a FAILED run: the exception that failed it
_MAX_TAG_LENGTH = 5000
ARTIFACTS_DIRNAME = "mlruns"
# Without a bound, MLflow retries an unreachable server for minutes.
HTTP_RETRY_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
}


class TrackingServerUnreachable(RuntimeError):
    """The configured MLflow tracking server does not answer."""


def default_tracking_uri(project_path: str | os.PathLike) -> str:
    """The embedded store: an SQLite file at the project root, as an absolute URI."""
    return f"sqlite:///{(Path(project_path).resolve() / TRACKING_DB_FILENAME).as_posix()}"


def prepare_embedded_store(uri: str, project_path: str | os.PathLike, names: Iterable[str]) -> None:
    """Create the embedded store's experiments with their artifacts in ``<project>/mlruns``.

    MLflow roots a new experiment's artifacts at ``./mlruns`` of the *current* directory: a
    session opened from ``notebooks/`` (``kedro jupyter``) or a subfolder would scatter them.
    """
    from mlflow.exceptions import MlflowException
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    artifact_root = (Path(project_path).resolve() / ARTIFACTS_DIRNAME).as_posix()
    store = SqlAlchemyStore(uri, artifact_root)  # a new store's Default experiment too
    for name in dict.fromkeys(names):
        if store.get_experiment_by_name(name) is None:
            try:
                store.create_experiment(name)
            except MlflowException as exc:  # another process created it meanwhile
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise


def bound_http_retries() -> None:
    """Bound MLflow's HTTP retries unless the user chose their own values."""
    for name, value in HTTP_RETRY_DEFAULTS.items():
        os.environ.setdefault(name, value)


def quiet_artifact_progress() -> None:
    """No artifact download progress bars (a 1-file model gives three lines of bar in a log),
    unless the user asks for them with MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR=true."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def ensure_tracking_server_reachable(
    uri: str, timeout_s: float = 3.0, configured_for: str | None = None
) -> None:
    """Fail fast, naming the URI and what to do, when an http(s) tracking server is unreachable.

    ``configured_for``: the Kedro environment whose mlflow.yml sets the URI; None when
    mlflow.yml leaves it null and the URI is MLFLOW_TRACKING_URI (the embedded store's setup).
    """
    parsed = urlparse(uri)
    if parsed.scheme not in ("http", "https"):
        return
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout_s):
            pass
    except OSError as exc:
        raise TrackingServerUnreachable(
            f"MLflow tracking server {uri} is unreachable ({exc}). "
            + _unreachable_advice(uri, configured_for)
        ) from exc


def _unreachable_advice(uri: str, configured_for: str | None) -> str:
    if configured_for is None:
        return "Start it, or unset MLFLOW_TRACKING_URI to use the embedded SQLite store."
    from_env = os.environ.get("MLFLOW_TRACKING_URI")
    where = f"It is the address in the mlflow.yml of Kedro environment '{configured_for}'"
    if from_env is None:
        return (
            f"{where} (MLFLOW_TRACKING_URI is not set). Start that server, or set "
            "MLFLOW_TRACKING_URI to the address of the one you use."
        )
    if from_env == uri:
        return (
            f"{where}, taken from MLFLOW_TRACKING_URI. Start it, or set MLFLOW_TRACKING_URI "
            "to the address of the running server."
        )
    return f"{where}. Start it, or correct server.mlflow_tracking_uri there."


def as_mlflow_metrics(metrics: Mapping[str, float], prefix: str = "") -> dict[str, dict]:
    """kedro-mlflow's MlflowMetricsHistoryDataset format: {name: {"value": v, "step": 0}}."""
    return {
        f"{prefix}{name}": {"value": float(value), "step": 0} for name, value in metrics.items()
    }


def experiment_for_pipelines(
    pipeline_names: Iterable[str], experiments: Mapping[str, str]
) -> str | None:
    """The experiment of the first named pipeline that has one (e.g. training -> model-training)."""
    for name in pipeline_names:
        if name in experiments:
            return experiments[name]
    return None


def end_run_as_failed(run_id: str, error: BaseException) -> None:
    """Mark ``run_id`` FAILED with the error as a tag, whether it is still active or ended.

    Every entry of the run on this thread's active-run stack is ended FAILED: kedro-mlflow
    2.0.3 re-enters the run before each node (one more entry per node) and its
    ``after_pipeline_run`` ends only one, so MLflow's exit handler would end the rest, and
    the run with them, FINISHED. Already ended by kedro-mlflow: set to FAILED.
    """
    import mlflow
    from mlflow.entities import RunStatus

    failed = RunStatus.to_string(RunStatus.FAILED)
    client = mlflow.MlflowClient()
    client.set_tag(run_id, ERROR_TAG, f"{type(error).__name__}: {error}"[:_MAX_TAG_LENGTH])
    while (active := mlflow.active_run()) is not None and active.info.run_id == run_id:
        mlflow.end_run(status=failed)
    client.set_terminated(run_id, status=failed)
