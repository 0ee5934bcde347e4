"""Project hooks. They stay thin: the policy they apply lives in plain, tested modules."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from typing import Any

import click
from kedro.config import MissingConfigException
from kedro.framework.hooks import hook_impl

from future_skills_kedro.model_requirements import model_pip_requirements
from future_skills_kedro.tracking import (
    bound_http_retries,
    default_tracking_uri,
    end_run_as_failed,
    ensure_tracking_server_reachable,
    experiment_for_pipelines,
    prepare_embedded_store,
    quiet_artifact_progress,
)

logger = logging.getLogger(__name__)
# The decision line is printed on stdout; this logger keeps it in the log file too.
decision_logger = logging.getLogger("future_skills_kedro.decisions")

INPUT_EXAMPLE_ROWS = 5


def _registers_model(pipeline) -> bool:
    """A kedro-mlflow PipelineML run (training) logs and registers a model at its end."""
    return hasattr(pipeline, "log_model_kwargs") and hasattr(pipeline, "input_name")


class InvalidParametersError(click.ClickException):
    """A parameter that does not fit its model: one line on stderr, exit code 2, no traceback."""

    exit_code = 2


class SparkUnavailableError(click.ClickException):
    """``--env spark`` without PySpark or Java: one line saying what to install, exit 1."""


class StartUpCollectionHook:
    """Cyclic garbage collection back on, the start-up's objects frozen, as the run starts.

    After kedro-mlflow's ``before_pipeline_run`` (trylast): its MLflow run has started by then.
    Policy: ``future_skills_kedro.cli_start``.
    """

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        from future_skills_kedro.cli_start import resume_collection

        resume_collection()


class SparkHook:
    """``conf/<env>/spark.yml`` present (``--env spark``): a SparkSession for the run.

    Before any other hook or node (tryfirst, registered last): PySpark and Java are checked
    and the session starts from spark.yml and ``--params spark.<key>=...``; the pipeline
    registry then builds inference for Spark. The session stops when the run ends. Without
    spark.yml nothing happens and PySpark is never imported. Policy:
    ``future_skills_kedro.spark.session``.
    """

    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        from future_skills_kedro.spark import session

        try:
            configured = context.config_loader[session.CONFIG_KEY]
        except MissingConfigException:
            session.activate("pandas")
            return
        problem = session.missing_runtime()
        if problem:
            raise SparkUnavailableError(problem)
        # Before context.params: reading them loads the pipelines, which the engine shapes.
        session.activate("spark")
        try:
            overrides = (context.params or {}).get(session.CONFIG_KEY)
            settings = session.spark_settings(configured, overrides)
            logger.info("starting Spark (%s)", settings["spark.master"])
            session.start_session(settings)
        except BaseException:
            session.activate("pandas")
            raise

    @hook_impl(trylast=True)
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        from future_skills_kedro.spark import session

        session.stop_session()

    @hook_impl(trylast=True)
    def on_pipeline_error(self, error, run_params: dict[str, Any], pipeline, catalog) -> None:
        from future_skills_kedro.spark import session

        session.stop_session()


class ParameterValidationHook:
    """Every parameter (conf and ``--params``) checked against its model before any work.

    Its ``before_pipeline_run`` runs first of all (tryfirst, registered after
    MlflowTrackingSetupHook): a bad value stops the run before kedro-mlflow starts an MLflow
    run. The nodes then read the checked values, defaults filled in, from the catalog.
    """

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        from future_skills_kedro.parameters import InvalidParameters
        from future_skills_kedro.parameters.project import catalog_entries, validate_parameters

        try:
            parameters = validate_parameters(
                # The run's parameters as the catalog holds them (``--params`` applied): the
                # context would load and merge every parameters file again.
                catalog.load("parameters"),
                pipelines=_registered_pipeline_names(run_params),
                # scikit-learn checks the hyperparameters only when this run fits a model
                check_estimators="params:training.model" in pipeline.inputs(),
                check_search_space="params:tuning" in pipeline.inputs(),
            )
        except InvalidParameters as error:
            raise InvalidParametersError(str(error)) from None
        # Kedro warns on every replaced dataset; replacing the loaded parameters with their
        # validated values (defaults filled in, types fixed) is deliberate, not a problem.
        with _without_replacement_warnings():
            for name, value in catalog_entries(parameters).items():
                catalog[name] = value


class _ReplacementWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Replacing dataset ")


@contextlib.contextmanager
def _without_replacement_warnings():
    catalog_logger = logging.getLogger("kedro.io.data_catalog")
    quiet = _ReplacementWarnings()
    catalog_logger.addFilter(quiet)
    try:
        yield
    finally:
        catalog_logger.removeFilter(quiet)


def _registered_pipeline_names(run_params: dict[str, Any]) -> list[str] | None:
    """Every registered pipeline (Kedro loaded only the requested ones), or None when one
    cannot be loaded: that failure is not this run's, mlflow_experiments goes unchecked."""
    from kedro.framework.project import pipelines

    try:
        pipelines.set_requested(None)
        return list(pipelines.keys())
    except Exception:  # a broken pipeline package the run does not use
        logger.warning("not all pipelines load: mlflow_experiments keys are not checked")
        return None
    finally:
        pipelines.set_requested(run_params.get("pipeline_names"))


class MlflowRunFailureHook:
    """A ``kedro run`` that fails ends its MLflow run FAILED, never FINISHED.

    kedro-mlflow starts the run in ``before_pipeline_run``, ends it FINISHED in
    ``after_pipeline_run`` and FAILED in ``on_pipeline_error``, which Kedro calls for node
    errors only. An error raised by a hook before or after the nodes (the lifecycle decision,
    a plugin) reaches neither: the run stayed active until MLflow's exit handler ended it
    FINISHED, or kedro-mlflow had already ended it FINISHED. These wrappers see the outcome
    of every implementation of both hooks, kedro-mlflow's included, and end the run FAILED.
    A run that was active before the session (an orchestrator's) is left to its owner, as
    kedro-mlflow does.
    """

    def __init__(self) -> None:
        self._run_id: str | None = None

    @hook_impl(wrapper=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog):
        import mlflow

        outer = mlflow.active_run()
        self._run_id = None
        try:
            result = yield
        except BaseException as error:
            started = _started_run_id(outer)
            if started is not None:  # a hook after kedro-mlflow's failed
                end_run_as_failed(started, error)
            raise
        self._run_id = _started_run_id(outer)
        return result

    @hook_impl(wrapper=True)
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog):
        try:
            return (yield)
        except BaseException as error:
            if self._run_id is not None:
                end_run_as_failed(self._run_id, error)
            raise


def _started_run_id(outer) -> str | None:
    """The active MLflow run if the session started it (not ``outer``, already active)."""
    import mlflow

    active = mlflow.active_run()
    if active is None or (outer is not None and active.info.run_id == outer.info.run_id):
        return None
    return active.info.run_id


class MlflowTrackingSetupHook:
    """Embedded MLflow defaults, fast failure on a dead server, one experiment per pipeline.

    Its hooks run *before* kedro-mlflow's (tryfirst), which reads what they prepare.
    """

    def __init__(self) -> None:
        self._context = None

    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        try:
            configured = context.config_loader["mlflow"]
        except MissingConfigException:  # no mlflow.yml: kedro-mlflow's defaults
            configured = {}
        uri = (configured.get("server") or {}).get("mlflow_tracking_uri")
        configured_for = (context.env or "local") if uri else None
        if not uri:
            # kedro-mlflow falls back to MLFLOW_TRACKING_URI when mlflow.yml leaves the URI
            # null: anchor the default SQLite store at the project root.
            embedded = default_tracking_uri(context.project_path)
            os.environ.setdefault("MLFLOW_TRACKING_URI", embedded)
            uri = os.environ["MLFLOW_TRACKING_URI"]
            if uri == embedded:
                # Not yet checked (ParameterValidationHook runs before a pipeline): tolerant.
                per_pipeline = context.params.get("mlflow_experiments")
                experiments = [
                    (configured.get("tracking") or {}).get("experiment", {}).get("name"),
                    *(per_pipeline.values() if isinstance(per_pipeline, dict) else ()),
                ]
                prepare_embedded_store(uri, context.project_path, filter(None, experiments))
        bound_http_retries()
        quiet_artifact_progress()
        ensure_tracking_server_reachable(uri, configured_for=configured_for)
        self._context = context

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        mlflow_config = getattr(self._context, "mlflow", None)
        if mlflow_config is None:  # kedro-mlflow is not active
            return
        names = run_params.get("pipeline_names") or ["__default__"]
        # Checked by ParameterValidationHook, which runs before this hook.
        experiments = catalog.load("params:mlflow_experiments")
        experiment_name = experiment_for_pipelines(names, experiments)
        if experiment_name and experiment_name != mlflow_config.tracking.experiment.name:
            mlflow_config.tracking.experiment.name = experiment_name
            # kedro-mlflow resolves (and creates) the experiment once, at context creation;
            # re-resolve it so that its before_pipeline_run starts the run in the right one.
            mlflow_config._set_experiment()

    @hook_impl(tryfirst=True)
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        if _registers_model(pipeline):
            # kedro-mlflow logs the model right after this: give it an input example too, and
            # its requirements (MLflow would otherwise infer them in a subprocess).
            example = catalog.load(pipeline.input_name).head(INPUT_EXAMPLE_ROWS)
            pipeline.log_model_kwargs.setdefault("input_example", example)
            pipeline.log_model_kwargs.setdefault("pip_requirements", model_pip_requirements())


def _lifecycle_settings(context):
    from future_skills_kedro.lifecycle import LifecycleSettings

    return LifecycleSettings.from_params(context.params.get("lifecycle"), context.project_path)


class LifecyclePreflightHook:
    """Before a training run: can its lifecycle decision be recorded at the end?

    Runs first (tryfirst), before kedro-mlflow starts the MLflow run: a corrupt audit file,
    an unwritable audit folder or lock, or an invalid semver override stops the run before
    any training, registration or MLflow run. The checks are ``check_before_training``.
    """

    def __init__(self) -> None:
        self._context = None

    @hook_impl
    def after_context_created(self, context) -> None:
        self._context = context

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        import mlflow

        from future_skills_kedro.lifecycle import check_before_training

        if not _registers_model(pipeline):
            return
        settings = _lifecycle_settings(self._context)
        check_before_training(
            settings.registry(mlflow.MlflowClient()),
            settings.audit_log(),
            override=settings.semver_override,
            lock_path=settings.resolved_lock_path,
            lock_timeout_s=settings.lock_timeout_s,
            metric=settings.policy.metric,
        )


class ModelLifecycleHook:
    """Around a training run: the registered model name before it; after it the semantic
    version, the promotion decision and the audit record (docs/lifecycle.md).

    Its hooks run *after* kedro-mlflow's (trylast): the run exists at the start, and the
    model version is registered at the end. All decisions live in
    ``future_skills_kedro.lifecycle``; this hook gathers the run's evidence and hands it over.
    """

    # Node outputs the decision rests on, kept from the run itself: reloading them from
    # data/ after the run could read files a concurrent run has just overwritten.
    EVIDENCE_OUTPUTS = ("promotion_evidence", "paired_correctness", "slice_comparison")

    def __init__(self) -> None:
        self._context = None
        self._mlflow_run_id: str | None = None
        self._evidence: dict[str, Any] = {}

    @hook_impl
    def after_context_created(self, context) -> None:
        self._context = context

    @hook_impl
    def after_node_run(self, node, catalog, inputs, outputs, is_async) -> None:
        for name in self.EVIDENCE_OUTPUTS:
            if name in outputs:
                self._evidence[name] = outputs[name]

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        import mlflow

        self._mlflow_run_id = None
        self._evidence = {}
        if not _registers_model(pipeline):
            return
        settings = self._settings()
        # kedro-mlflow registers the logged model under the name the lifecycle governs: the
        # configured one (conf/base/globals.yml), never a name written in code.
        pipeline.log_model_kwargs["registered_model_name"] = settings.model_name
        # LifecyclePreflightHook has checked, before this run started, what the decision needs.
        active = mlflow.active_run()
        self._mlflow_run_id = active.info.run_id if active else None

    @hook_impl(trylast=True)
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        if not _registers_model(pipeline) or not self._mlflow_run_id:
            return
        try:
            outcome = self._decide(run_params)
        except Exception as exc:
            self._mark_run_versions_development(
                f"lifecycle decision failed: {type(exc).__name__}: {exc}"
            )
            raise
        print(outcome.line, flush=True)  # the run's result, on stdout
        decision_logger.info(outcome.line)  # conf/logging.yml: to the log file only

    @hook_impl(trylast=True)
    def on_pipeline_error(self, error: Exception, run_params, pipeline, catalog) -> None:
        if _registers_model(pipeline) and self._mlflow_run_id:
            self._mark_run_versions_development(
                f"training run failed: {type(error).__name__}: {error}"
            )

    def _settings(self):
        return _lifecycle_settings(self._context)

    def _decide(self, run_params: dict[str, Any]):
        import mlflow

        from future_skills_kedro.lifecycle import (
            CandidateFacts,
            VersionFacts,
            apply_lifecycle,
        )
        from future_skills_kedro.lifecycle.slices import slice_records

        settings = self._settings()
        missing = [name for name in self.EVIDENCE_OUTPUTS if name not in self._evidence]
        if missing:
            raise RuntimeError(f"the training run produced no {', '.join(missing)}")
        evidence = self._evidence["promotion_evidence"]
        paired = self._evidence["paired_correctness"]
        champion = evidence["champion"]
        compared = champion.get("status") == "compared"
        candidate = CandidateFacts(
            facts=VersionFacts(
                input_schema=[tuple(pair) for pair in evidence["input_schema"]],
                target_classes=tuple(evidence["target_classes"]),
                data_hash=evidence["data_hash"],
                params_hash=evidence["params_hash"],
                algorithm=evidence["algorithm"],
            ),
            metrics=evidence["metrics"],
            run_id=self._mlflow_run_id,
            holdout_hash=evidence["holdout_hash"],
            evaluated_champion_version=int(champion["version"]) if "version" in champion else None,
            champion_metrics=champion.get("metrics") if compared else None,
            paired_correct=(
                (
                    paired["challenger_correct"].to_numpy(dtype=float),
                    paired["champion_correct"].to_numpy(dtype=float),
                )
                if compared
                else None
            ),
            slices=slice_records(self._evidence["slice_comparison"]) if compared else None,
            git_sha=_git_sha(self._context.project_path),
            kedro_run_id=run_params.get("run_id") or run_params.get("session_id"),
        )
        client = mlflow.MlflowClient()
        outcome = apply_lifecycle(
            settings.registry(client),
            settings.audit_log(),
            candidate,
            settings.policy,
            override=settings.semver_override,
            lock_path=settings.resolved_lock_path,
            lock_timeout_s=settings.lock_timeout_s,
        )
        # The decision is also visible on the training run itself.
        decision_tags = {
            "registered_model_version": str(outcome.version),
            "semver": outcome.semver,
            "promotion_outcome": outcome.promotion.outcome,
            "promotion_reason": outcome.promotion.reason,
        }
        for key, value in decision_tags.items():
            client.set_tag(self._mlflow_run_id, key, value)
        self._write_model_card(client, settings, outcome.version)
        return outcome

    @staticmethod
    def _write_model_card(client, settings, version: int) -> None:
        """The version's model card, from what the run stored: the run artifact
        ``model_card.md`` and the version's description. The decision is already recorded,
        so a failure here is a warning naming the command that writes the card later."""
        from future_skills_kedro.lifecycle.model_card import write_card_from_run

        try:
            write_card_from_run(client, settings.registry(client), version)
        except Exception as exc:
            logger.warning(
                "no model card for v%s (%s: %s); write it with `kedro models card %s --generate`",
                version,
                type(exc).__name__,
                exc,
                version,
            )

    def _mark_run_versions_development(self, reason: str) -> None:
        """A failed run promotes nothing; a version it registered is marked Development."""
        import mlflow

        from future_skills_kedro.lifecycle import mark_run_versions_development

        try:
            settings = self._settings()
            mark_run_versions_development(
                settings.registry(mlflow.MlflowClient()),
                settings.audit_log(),
                self._mlflow_run_id,
                reason,
                lock_path=settings.resolved_lock_path,
                lock_timeout_s=settings.lock_timeout_s,
                metric=settings.policy.metric,
            )
        except Exception:
            logger.exception("could not mark the versions of run %s", self._mlflow_run_id)


class ScoringPurposeHook:
    """A shadow or backfill scoring run writes its own outputs, never production's.

    Applies :func:`~future_skills_kedro.scoring_purpose.decide_scoring_purpose` (the rule the
    inference node records) to the alias the catalog resolved and the merged parameters, and
    moves the marked outputs one folder deeper (:func:`~.scoring_purpose.reroute`).
    """

    @hook_impl
    def after_catalog_created(self, catalog, conf_catalog, parameters) -> None:
        from kedro.io import AbstractDataset

        from future_skills_kedro.scoring_purpose import (
            CHAMPION_ALIAS,
            decide_scoring_purpose,
            reroute,
            routed_entries,
        )

        alias = (conf_catalog.get("scoring_model_version") or {}).get("alias", CHAMPION_ALIAS)
        # Kedro passes the catalog's parameter entries: "parameters" holds them all, merged
        # with --params.
        inference = (parameters.get("parameters") or {}).get("inference") or {}
        decision = decide_scoring_purpose(
            alias, (inference.get("snapshot") or {}).get("as_of_date"), inference.get("purpose")
        )
        folder = decision.output_folder
        if folder is None:
            return
        with _without_replacement_warnings():  # rerouted on purpose
            for name, config in routed_entries(conf_catalog).items():
                catalog[name] = AbstractDataset.from_config(name, reroute(config, folder))


def _git_sha(project_path) -> str:
    """The checkout's commit, with "+dirty" for local changes; "unknown" outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=project_path,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if head.returncode != 0:
            return "unknown"
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=project_path,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except OSError:
        return "unknown"
    return head.stdout.strip() + ("+dirty" if status.stdout.strip() else "")
