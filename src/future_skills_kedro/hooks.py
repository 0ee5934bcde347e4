"""Project hooks. They stay thin: the policy they apply lives in plain, tested modules."""

from __future__ import annotations

import logging
import os
from typing import Any

from kedro.framework.hooks import hook_impl

from future_skills_kedro.tracking import (
    bound_http_retries,
    default_tracking_uri,
    ensure_tracking_server_reachable,
    experiment_for_pipelines,
)

logger = logging.getLogger(__name__)


class MlflowTrackingSetupHook:
    """Embedded MLflow defaults, fast failure on a dead server, one experiment per pipeline."""

    def __init__(self) -> None:
        self._context = None

    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        # Runs before kedro-mlflow's hook, which falls back to MLFLOW_TRACKING_URI when
        # mlflow.yml leaves the URI null: anchor the default SQLite store at the project root.
        os.environ.setdefault("MLFLOW_TRACKING_URI", default_tracking_uri(context.project_path))
        bound_http_retries()
        configured = context.config_loader.get("mlflow", {}) if _has_mlflow_conf(context) else {}
        uri = (configured.get("server") or {}).get("mlflow_tracking_uri") or os.environ[
            "MLFLOW_TRACKING_URI"
        ]
        ensure_tracking_server_reachable(uri)
        self._context = context

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        mlflow_config = getattr(self._context, "mlflow", None)
        if mlflow_config is None:  # kedro-mlflow disabled for this project
            return
        names = run_params.get("pipeline_names") or ["__default__"]
        experiments = self._context.params.get("mlflow_experiments", {})
        experiment_name = experiment_for_pipelines(names, experiments)
        if experiment_name and experiment_name != mlflow_config.tracking.experiment.name:
            mlflow_config.tracking.experiment.name = experiment_name
            # kedro-mlflow resolves (and creates) the experiment once at context creation;
            # re-resolve it so its before_pipeline_run starts the run in the right one.
            mlflow_config._set_experiment()


def _has_mlflow_conf(context) -> bool:
    return "mlflow" in context.config_loader.config_patterns
