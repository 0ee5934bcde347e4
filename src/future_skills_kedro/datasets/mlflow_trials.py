"""Each trial of a tuning study as an MLflow run nested under the pipeline's own run."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

# MLflow's own tag: the UI and search_runs show the run as a child of this parent.
PARENT_RUN_TAG = "mlflow.parentRunId"
BEST_TRIAL_TAG = "tuning.best_trial_run_id"


class MlflowTrialRunsDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """Save: one FINISHED run per row of the trials table, its parent set explicitly.

    The parent is the active run (kedro-mlflow's run of ``kedro run --pipelines tuning``);
    each child gets the trial's hyperparameters as params, its scores as
    metrics (the columns ending in ``macro_f1``), its start and end time, and the tag
    ``tuning.best`` (true on the best trial). The parent gets ``tuning.best_trial_run_id``.
    If a save fails half-way, the child runs already created end FAILED. Write-only.
    """

    def __init__(self, metadata: dict[str, Any] | None = None) -> None:
        self.metadata = metadata
        self._last_saved: pd.DataFrame | None = None

    def save(self, data: pd.DataFrame) -> None:
        import mlflow
        from mlflow.entities import Metric, Param, RunStatus

        parent = mlflow.active_run()
        if parent is None:
            raise DatasetError("tuning trials need an active MLflow run: the study's parent")
        client = mlflow.MlflowClient()
        created: list[str] = []
        try:
            best_run_id = None
            for trial in data.to_dict("records"):
                started = _millis(trial["started_at"])
                run = client.create_run(
                    parent.info.experiment_id,
                    start_time=started,
                    run_name=f"trial-{trial['trial']}",
                    tags={
                        PARENT_RUN_TAG: parent.info.run_id,
                        "tuning.trial": str(trial["trial"]),
                        "tuning.best": str(bool(trial["is_best"])).lower(),
                        "tuning.source": str(trial["source"]),
                    },
                )
                created.append(run.info.run_id)
                # str() as MlflowParamsDataset writes the parent's best.* (None -> "None")
                params = [
                    Param(name, str(value)) for name, value in json.loads(trial["params"]).items()
                ]
                metrics = [
                    Metric(name, float(value), started, 0)
                    for name, value in trial.items()
                    if name.endswith("macro_f1")
                ]
                metrics.append(Metric("seconds", float(trial["seconds"]), started, 0))
                client.log_batch(run.info.run_id, metrics=metrics, params=params)
                client.set_terminated(
                    run.info.run_id,
                    RunStatus.to_string(RunStatus.FINISHED),
                    end_time=_millis(trial["finished_at"]),
                )
                if trial["is_best"]:
                    best_run_id = run.info.run_id
            if best_run_id is not None:
                client.set_tag(parent.info.run_id, BEST_TRIAL_TAG, best_run_id)
        except BaseException:
            for run_id in created:
                client.set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED))
            raise
        self._last_saved = data

    def load(self) -> pd.DataFrame:
        if self._last_saved is None:
            raise DatasetError("MlflowTrialRunsDataset holds nothing yet: it is written by a node.")
        return self._last_saved

    def _exists(self) -> bool:
        return self._last_saved is not None

    def _describe(self) -> dict[str, Any]:
        return {}


def _millis(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)
