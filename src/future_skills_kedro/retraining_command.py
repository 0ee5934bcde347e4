"""``kedro models retrain-if-needed``: the scheduled "close the loop" command.

It reads what the last monitoring run concluded (``monitoring_summary`` from the catalog),
the newest labelled quarter (``skill_need_labels``) and the registry, lets
:func:`future_skills_kedro.lifecycle.retraining.decide_retraining` decide, and when
retraining is due runs the ``training`` pipeline in this process exactly as
``kedro run --pipelines training`` would (same session, hooks and MLflow run): the
lifecycle hook then versions the new model and decides its promotion.

Exit 0: nothing to do, or retrained (whatever the promotion decision). Exit 1: the facts
could not be read, or the training run failed (it promoted nothing). Exit 2: bad ``--params``.
Like every ``kedro models`` command: ``--env`` before or after the subcommand, ``--format
table|json``, one ``Error: ...`` line for an expected failure.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

import click
from kedro.framework.cli.utils import env_option

TRAINING_PIPELINE = "training"


def _fail(message: str, exit_code: int = 1) -> NoReturn:
    """One ``Error: ...`` line and the exit code, as every ``kedro models`` command."""
    from future_skills_kedro.cli import CommandFailed  # cli.py imports this module first

    raise CommandFailed(message, exit_code)


@contextlib.contextmanager
def _stdout_to_stderr():
    """Send everything written to stdout (Kedro's console log, MLflow's warnings, the
    hook's decision line: handlers that hold the stdout stream included) to stderr, at the
    file-descriptor level, so that stdout carries the JSON document alone."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _runtime_params(text: str) -> dict[str, Any]:
    """``a.b=1,c=x`` as ``kedro run --params`` reads it (OmegaConf dot-list)."""
    from omegaconf import OmegaConf

    items = [item.strip() for item in text.split(",") if item.strip()]
    for item in items:
        if "=" not in item or not item.partition("=")[0].strip():
            _fail(f"--params: {item!r} is not key=value", exit_code=2)
    return OmegaConf.to_container(OmegaConf.from_dotlist(items)) if items else {}


def _data_through(client, info) -> date | None:
    """Newest quarter of the model-input table a version was trained on (its run params)."""
    if info is None or not info.run_id:
        return None
    params = client.get_run(info.run_id).data.params
    days = [params.get("split.train_to"), params.get("split.holdout_to")]
    known = [date.fromisoformat(day) for day in days if day]
    return max(known) if known else None


def _newest_label(labels) -> date | None:
    from future_skills_kedro.pipelines.monitoring.performance import parse_labels

    parsed, _ = parse_labels(labels)
    return None if parsed.empty else date.fromisoformat(parsed["as_of_date"].max())


@click.command(name="retrain-if-needed")
@env_option
@click.option(
    "--params",
    default="",
    help="Runtime parameters of the training run, as for `kedro run --params`.",
)
@click.option("--dry-run", is_flag=True, help="Decide and say why; never train.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: the decision as a sentence; json: one JSON document on stdout (the "
    "training run's output goes to stderr).",
)
@click.pass_context
def retrain_if_needed(
    ctx: click.Context, env: str | None, params: str, dry_run: bool, output_format: str
) -> None:
    """Retrain when monitoring recommends it and newer labels exist; the lifecycle hook
    then decides the promotion as after any training run."""
    env = env or (ctx.obj or {}).get("env")
    runtime_params = _runtime_params(params)
    if output_format == "json":
        with _stdout_to_stderr():
            result = _decide_and_train(env, runtime_params, dry_run, echo=False)
        click.echo(json.dumps(result, indent=2))
    else:
        _decide_and_train(env, runtime_params, dry_run, echo=True)


def _decide_and_train(
    env: str | None, runtime_params: dict[str, Any], dry_run: bool, echo: bool
) -> dict[str, Any]:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project
    from kedro.io import DatasetError
    from mlflow import MlflowClient

    from future_skills_kedro.lifecycle import LifecycleSettings
    from future_skills_kedro.lifecycle.retraining import TrainedVersion, decide_retraining

    project_path = Path.cwd()
    bootstrap_project(project_path)
    logging.getLogger("kedro").setLevel(logging.WARNING)
    logging.getLogger("kedro_mlflow").setLevel(logging.WARNING)
    try:
        with KedroSession.create(
            project_path=project_path, env=env, runtime_params=runtime_params
        ) as session:
            context = session.load_context()  # hooks: tracking URI, fail fast if dead
            settings = LifecycleSettings.from_params(context.params.get("lifecycle"), project_path)
            max_age = context.params["retraining"]["max_summary_age_days"]
            try:
                summary = context.catalog.load("monitoring_summary")
            except DatasetError:
                summary = None
            newest_label = _newest_label(context.catalog.load("skill_need_labels"))
        client = MlflowClient()
        registry = settings.registry(client)
        versions = {}
        for name, info in (
            ("champion", registry.champion()),
            ("latest", registry.latest_version()),
        ):
            versions[name] = (
                None
                if info is None
                else TrainedVersion(info.version, info.stage, _data_through(client, info))
            )
    except Exception as exc:
        _fail(f"cannot read what the decision needs: {type(exc).__name__}: {exc}")

    today = datetime.now(timezone.utc).date()
    decision = decide_retraining(
        summary, versions["champion"], versions["latest"], newest_label, today, max_age
    )
    result: dict[str, Any] = {"retrain": decision.retrain, "reason": decision.reason}
    result |= decision.facts | {"dry_run": dry_run, "trained": None}
    if echo:
        click.echo(decision.reason)
    if decision.retrain and not dry_run:
        try:
            with KedroSession.create(
                project_path=project_path, env=env, runtime_params=runtime_params
            ) as session:
                session.run(pipeline_names=[TRAINING_PIPELINE])
        except Exception as exc:
            _fail(f"the training run failed (nothing was promoted): {type(exc).__name__}: {exc}")
        trained = settings.registry(MlflowClient()).latest_version()
        result["trained"] = {
            "version": trained.version,
            "semver": trained.semver,
            "stage": trained.stage,
            "promotion_reason": trained.promotion_reason,
        }
    return result
