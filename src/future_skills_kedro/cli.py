"""Project CLI commands: ``kedro models list | show | promote | rollback | retrain-if-needed``.

Kedro adds the ``cli`` group below to its own commands when run inside this project.
"""

from __future__ import annotations

import getpass
import logging
import sys
from pathlib import Path

import click

from future_skills_kedro.retraining_command import retrain_if_needed


@click.group(name="future-skills-kedro")
def cli() -> None:
    """Project commands of future-skills-kedro."""


@cli.group()
@click.option("--env", "-e", default=None, help="Kedro configuration environment.")
@click.pass_context
def models(ctx: click.Context, env: str | None) -> None:
    """Inspect and govern the versions of the registered model."""
    ctx.obj = {"env": env}


models.add_command(retrain_if_needed)


def _open_registry(env: str | None):
    """Registry, audit log and settings of this project, tracking configured as for a run."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project
    from mlflow import MlflowClient

    from future_skills_kedro.lifecycle import LifecycleSettings

    project_path = Path.cwd()
    bootstrap_project(project_path)
    # These commands print a table or a sentence: Kedro's INFO run log is noise here.
    logging.getLogger("kedro").setLevel(logging.WARNING)
    logging.getLogger("kedro_mlflow").setLevel(logging.WARNING)
    try:
        with KedroSession.create(project_path=project_path, env=env) as session:
            context = session.load_context()  # hooks set the tracking URI, fail fast if dead
            settings = LifecycleSettings.from_params(context.params.get("lifecycle"), project_path)
    except Exception as exc:
        _fail(str(exc))
    return settings.registry(MlflowClient()), settings.audit_log(), settings


def _fail(message: str) -> None:
    click.secho(f"Error: {message}", fg="red", err=True)
    sys.exit(1)


def _resolve(registry, ref: str):
    """A version by number, semantic version or alias (champion, challenger)."""
    from future_skills_kedro.lifecycle import CHALLENGER, CHAMPION

    if ref in (CHAMPION, CHALLENGER):
        info = registry.get_by_alias(ref)
        if info is None:
            _fail(f"{registry.model_name} has no {ref} yet: run `kedro run --pipelines training`.")
        return info
    info = registry.find_version(ref) if ref.isdigit() else registry.get_by_semver(ref.lstrip("v"))
    if info is None:
        _fail(f"{registry.model_name} has no version {ref!r} (a number, a semver or 'champion').")
    return info


@models.command(name="list")
@click.pass_obj
def list_versions(obj: dict) -> None:
    """Every version: semver, stage, aliases, policy metric, created, reason."""
    from future_skills_kedro.lifecycle import sync_audit_log

    registry, audit_log, settings = _open_registry(obj["env"])
    metric = settings.policy.metric
    try:
        versions = registry.list_versions()
    except Exception as exc:
        _fail(f"cannot read the registry: {exc}")
    if not versions:
        click.echo(f"{registry.model_name}: no registered version yet.")
        return
    rows = [
        (
            f"v{info.version}",
            info.semver or "-",
            info.stage or "-",
            ",".join(info.aliases) or "-",
            "-" if info.metric(metric) is None else f"{info.metric(metric):.3f}",
            (info.created_iso or "-").replace("+00:00", "Z"),
            (info.promotion_reason or "-"),
        )
        for info in sorted(versions, key=lambda v: v.version)
    ]
    header = ("version", "semver", "stage", "aliases", metric, "created", "reason")
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header) - 1)]
    for row in (header, *rows):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))
    sync_audit_log(registry, audit_log, metric=metric)


@models.command()
@click.argument("ref")
@click.pass_obj
def show(obj: dict, ref: str) -> None:
    """Tags, metrics, lineage and source run of VERSION, SEMVER or 'champion'."""
    from mlflow import MlflowClient

    registry, _, _ = _open_registry(obj["env"])
    info = _resolve(registry, ref)
    click.echo(f"{registry.model_name} v{info.version} ({info.semver or 'no semver'})")
    click.echo(f"  stage:    {info.stage or '-'}")
    click.echo(f"  aliases:  {', '.join(info.aliases) or '-'}")
    click.echo(f"  created:  {info.created_iso or '-'}")
    click.echo(f"  source:   {info.source or '-'}")
    click.echo(f"  run:      {info.run_id or '-'}")
    click.echo("  tags:")
    for key in sorted(info.tags):
        click.echo(f"    {key}: {info.tags[key]}")
    if info.run_id:
        run = MlflowClient().get_run(info.run_id)
        click.echo("  metrics (training run):")
        for key in sorted(run.data.metrics):
            click.echo(f"    {key}: {run.data.metrics[key]:.4f}")


@models.command()
@click.argument("ref")
@click.option("--reason", required=True, help="Why: recorded in the audit log and tags.")
@click.option("--force", is_flag=True, help="Promote even if the policy would refuse.")
@click.pass_obj
def promote(obj: dict, ref: str, reason: str, force: bool) -> None:
    """Make VERSION the champion (the promotion policy applies unless --force)."""
    from future_skills_kedro.lifecycle import LifecycleError, decide_promotion, promote_version

    registry, audit_log, settings = _open_registry(obj["env"])
    info = _resolve(registry, ref)
    champion = registry.champion()
    policy = settings.policy
    if not force:
        decision = decide_promotion(
            policy,
            {policy.metric: info.metric(policy.metric)},
            None if champion is None else {policy.metric: champion.metric(policy.metric)},
        )
        if decision.outcome != "champion":
            _fail(f"the policy refuses v{info.version}: {decision.reason} (use --force)")
    user = getpass.getuser()
    why = f"{'forced ' if force else ''}manual promotion by {user}: {reason}"
    try:
        state = promote_version(
            registry,
            audit_log,
            info.version,
            why,
            lock_path=settings.resolved_lock_path,
            metric=policy.metric,
        )
    except LifecycleError as exc:
        _fail(str(exc))
    click.echo(
        f"{registry.model_name} v{state.champion.version} ({state.champion.semver}) is champion"
    )


@models.command()
@click.option("--to", "to_ref", default=None, help="Version (number or semver) to restore.")
@click.option("--reason", default=None, help="Why: recorded in the audit log.")
@click.pass_obj
def rollback(obj: dict, to_ref: str | None, reason: str | None) -> None:
    """Make the previous champion (or --to VERSION) the champion again."""
    from future_skills_kedro.lifecycle import LifecycleError, rollback_champion

    registry, audit_log, settings = _open_registry(obj["env"])
    if registry.champion() is None:
        _fail(f"{registry.model_name} has no champion yet: nothing to roll back.")
    to_version = _resolve(registry, to_ref).version if to_ref else None
    user = getpass.getuser()
    try:
        state = rollback_champion(
            registry,
            audit_log,
            to_version=to_version,
            reason=f"rollback by {user}: {reason}" if reason else None,
            lock_path=settings.resolved_lock_path,
            metric=settings.policy.metric,
        )
    except LifecycleError as exc:
        _fail(str(exc))
    champion = state.champion
    click.echo(f"{registry.model_name} v{champion.version} ({champion.semver}) is champion again")
