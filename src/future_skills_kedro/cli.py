"""Project CLI commands: ``kedro models list | show | compare | card | history | trace |
promote | rollback | prune | sync-audit | retrain-if-needed``.

Kedro adds the ``cli`` group below to its own commands when run inside this project.

For people and scripts alike: the table (or one JSON document with ``--format json``) goes to
stdout, and nothing else does; logs, warnings and errors go to stderr. Exit 0 when done, 1 when
refused or failed, 2 on a usage error; every expected failure is one ``Error: ...`` line, never a
traceback. ``list`` and ``show`` only read. The lifecycle logic is in
``future_skills_kedro.lifecycle``; this module parses, calls and prints.
"""

from __future__ import annotations

import functools
import getpass
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.utils import env_option

from future_skills_kedro.contract import SLICE_COLUMNS
from future_skills_kedro.retraining_command import retrain_if_needed

USAGE_ERROR = 2
FAILED = 1


class CommandFailed(click.ClickException):
    """One ``Error: ...`` line on stderr and an exit code, for every expected failure."""

    def __init__(self, message: str, exit_code: int = FAILED) -> None:
        super().__init__(" ".join(str(message).split()))  # one line, whatever the source
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        click.secho(f"Error: {self.format_message()}", fg="red", err=True)


def _expected_errors() -> tuple[type[BaseException], ...]:
    """Failures a user can act on from the message alone (the registry, files, the lock)."""
    from mlflow.exceptions import MlflowException

    from future_skills_kedro.lifecycle import (
        AuditLogCorrupt,
        AuditLogNotWritable,
        LifecycleError,
        LockTimeout,
        LockUnavailable,
    )

    return (
        LifecycleError,
        AuditLogCorrupt,
        AuditLogNotWritable,
        LockTimeout,
        LockUnavailable,
        MlflowException,
        OSError,
    )


def _one_line_errors(command: Callable) -> Callable:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except click.ClickException:
            raise
        except _expected_errors() as exc:
            raise CommandFailed(str(exc)) from exc

    return wrapper


def _output_options(command: Callable) -> Callable:
    """``--env`` (also accepted before the subcommand) and ``--format`` on every subcommand;
    expected failures as one line."""
    command = click.option(
        "--format",
        "output_format",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="table for people; json: one JSON document for scripts.",
    )(_one_line_errors(command))
    return env_option(command)


@click.group(name="future-skills-kedro")
def cli() -> None:
    """Project commands of future-skills-kedro."""


@cli.group()
@env_option
@click.pass_context
def models(ctx: click.Context, env: str | None) -> None:
    """Inspect and govern the versions of the registered model."""
    ctx.obj = {"env": env}


models.add_command(retrain_if_needed)


@dataclass(frozen=True)
class _Project:
    registry: Any
    audit_log: Any
    settings: Any
    context: Any = None  # the Kedro context; its catalog is built only by commands that read data
    params: dict = None  # type: ignore[assignment]
    catalog_config: dict = None  # type: ignore[assignment]
    path: Path = None  # type: ignore[assignment]


def _open_project(obj: dict, env: str | None) -> _Project:
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
        with KedroSession.create(project_path=project_path, env=env or obj["env"]) as session:
            context = session.load_context()  # hooks set the tracking URI, fail fast if dead
            settings = LifecycleSettings.from_params(context.params.get("lifecycle"), project_path)
            params, catalog_config = context.params, context.config_loader["catalog"]
    except Exception as exc:  # configuration or tracking server: what the message says
        raise CommandFailed(str(exc)) from exc
    registry = settings.registry(MlflowClient())
    return _Project(
        registry, settings.audit_log(), settings, context, params, catalog_config, project_path
    )


def _resolve(registry: Any, ref: str) -> Any:
    """A version by number (3, v3), semantic version (1.2.0) or alias (champion); an unknown
    one is a usage error (exit 2), as an unknown request id is."""
    from future_skills_kedro.lifecycle import InvalidReference, parse_reference

    try:
        kind, _ = parse_reference(ref)
    except InvalidReference as exc:
        raise CommandFailed(str(exc), USAGE_ERROR) from exc
    info = registry.resolve(ref)
    if info is not None:
        return info
    if kind == "alias":
        aliases = ", ".join(sorted(registry.alias_map())) or "none yet"
        hint = " run `kedro run --pipelines training`." if ref == "champion" else ""
        raise CommandFailed(
            f"{registry.model_name} has no version with alias {ref!r} (aliases: {aliases}).{hint}",
            USAGE_ERROR,
        )
    raise CommandFailed(f"{registry.model_name} has no version {ref!r}.", USAGE_ERROR)


def _emit_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, sort_keys=True, default=str))


def _warn(message: str) -> None:
    click.secho(f"Warning: {message}", fg="yellow", err=True)


def _state_summary(state: Any) -> dict[str, Any]:
    def brief(info: Any) -> dict[str, Any] | None:
        return None if info is None else {"version": info.version, "semver": info.semver}

    return {
        "model_name": state.model_name,
        "champion": brief(state.champion),
        "challenger": brief(state.challenger),
    }


def _audit_warnings(project: _Project, state: Any) -> list[str]:
    """What ``list`` must say about the audit file, read without writing anything."""
    from future_skills_kedro.lifecycle import (
        AuditLogCorrupt,
        describe_pending,
        disagreements,
        lock_is_held,
    )
    from future_skills_kedro.lifecycle.retention import describe_unfinished, unfinished_prune

    try:
        data = project.audit_log.read()
    except AuditLogCorrupt as exc:
        return [str(exc)]
    pruning = unfinished_prune(data)
    unfinished = [] if pruning is None else [describe_unfinished(pruning)]
    if data["pending"] is not None:
        held = lock_is_held(project.settings.resolved_lock_path)
        return [*unfinished, describe_pending(data["pending"], in_progress=held)]
    if not project.audit_log.path.exists() and not state.versions:
        return unfinished
    differences = disagreements(data, state)
    if differences:
        differences.append(
            "changed from another checkout or the MLflow UI? `kedro models sync-audit` "
            "records it in this audit log"
        )
    return [*unfinished, *differences]


@models.command(name="list")
@_output_options
@click.pass_obj
def list_versions(obj: dict, env: str | None, output_format: str) -> None:
    """Every version: semver, stage, aliases, policy metric, created, reason. Read-only."""
    from future_skills_kedro.lifecycle.audit_log import mirror_of

    project = _open_project(obj, env)
    metric = project.settings.policy.metric
    state = project.registry.state()
    warnings = [*state.warnings, *_audit_warnings(project, state)]
    if output_format == "json":
        _emit_json({**mirror_of(state, metric), "warnings": warnings})
        return
    if not state.versions:
        click.echo(f"{project.registry.model_name}: no registered version yet.")
    else:
        _print_table(state, metric)
    for warning in warnings:
        _warn(warning)


def _print_table(state: Any, metric: str) -> None:
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
        for info in state.versions
    ]
    header = ("version", "semver", "stage", "aliases", metric, "created", "reason")
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header) - 1)]
    for row in (header, *rows):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))


@models.command()
@click.argument("ref")
@_output_options
@click.pass_obj
def show(obj: dict, ref: str, env: str | None, output_format: str) -> None:
    """Tags, metrics, lineage and source run of REF: a version number (3, v3), a semantic
    version (1.2.0) or an alias (champion, challenger). Read-only."""
    from mlflow import MlflowClient

    project = _open_project(obj, env)
    info = _resolve(project.registry, ref)
    metrics = MlflowClient().get_run(info.run_id).data.metrics if info.run_id else {}
    if output_format == "json":
        _emit_json(
            {
                "model_name": project.registry.model_name,
                "version": info.version,
                "semver": info.semver,
                "stage": info.stage,
                "aliases": list(info.aliases),
                "created": info.created_iso,
                "source": info.source,
                "run_id": info.run_id,
                "tags": dict(info.tags),
                "run_metrics": dict(metrics),
            }
        )
        return
    click.echo(f"{project.registry.model_name} v{info.version} ({info.semver or 'no semver'})")
    click.echo(f"  stage:    {info.stage or '-'}")
    click.echo(f"  aliases:  {', '.join(info.aliases) or '-'}")
    click.echo(f"  created:  {info.created_iso or '-'}")
    click.echo(f"  source:   {info.source or '-'}")
    click.echo(f"  run:      {info.run_id or '-'}")
    click.echo("  tags:")
    for key in sorted(info.tags):
        click.echo(f"    {key}: {info.tags[key]}")
    if metrics:
        click.echo("  metrics (training run):")
        for key in sorted(metrics):
            click.echo(f"    {key}: {metrics[key]:.4f}")


def _report_change(state: Any, sentence: str, output_format: str, **extra: Any) -> None:
    if output_format == "json":
        _emit_json({**_state_summary(state), **extra})
    else:
        click.echo(sentence)


def _stored_metrics(info: Any, policy: Any) -> dict[str, float] | None:
    """The policy metric stored on a version at its decision ({} when it has none)."""
    if info is None:
        return None
    value = info.metric(policy.metric)
    return {} if value is None else {policy.metric: value}


def _semver_text(info: Any) -> str:
    return info.semver or "no semver"


@models.command()
@click.argument("ref")
@click.option("--reason", required=True, help="Why: recorded in the audit log and tags.")
@click.option("--force", is_flag=True, help="Promote even if the policy would refuse.")
@_output_options
@click.pass_obj
def promote(
    obj: dict, ref: str, reason: str, force: bool, env: str | None, output_format: str
) -> None:
    """Make REF the champion (the promotion policy applies unless --force)."""
    from future_skills_kedro.lifecycle import decide_promotion, promote_version

    project = _open_project(obj, env)
    registry, settings = project.registry, project.settings
    info = _resolve(registry, ref)
    policy = settings.policy
    if not force:
        champion = registry.champion()
        decision = decide_promotion(
            policy, _stored_metrics(info, policy), _stored_metrics(champion, policy)
        )
        if decision.outcome != "champion":
            raise CommandFailed(
                f"the policy refuses v{info.version}: {decision.reason} (use --force to override)"
            )
    why = f"{'forced ' if force else ''}manual promotion by {getpass.getuser()}: {reason}"
    state = promote_version(
        registry,
        project.audit_log,
        info.version,
        why,
        lock_path=settings.resolved_lock_path,
        lock_timeout_s=settings.lock_timeout_s,
        metric=policy.metric,
    )
    champion = state.champion
    _report_change(
        state,
        f"{registry.model_name} v{champion.version} ({_semver_text(champion)}) is champion",
        output_format,
        action="manual_promote",
    )


@models.command()
@click.option("--to", "to_ref", default=None, help="Version (number, semver or alias) to restore.")
@click.option("--reason", default=None, help="Why: recorded in the audit log.")
@_output_options
@click.pass_obj
def rollback(
    obj: dict, to_ref: str | None, reason: str | None, env: str | None, output_format: str
) -> None:
    """Make the previous champion (or --to REF) the champion again."""
    from future_skills_kedro.lifecycle import rollback_champion

    project = _open_project(obj, env)
    registry, settings = project.registry, project.settings
    if registry.champion() is None:
        raise CommandFailed(f"{registry.model_name} has no champion yet: nothing to roll back.")
    to_version = _resolve(registry, to_ref).version if to_ref else None
    state = rollback_champion(
        registry,
        project.audit_log,
        to_version=to_version,
        reason=f"rollback by {getpass.getuser()}: {reason}" if reason else None,
        lock_path=settings.resolved_lock_path,
        lock_timeout_s=settings.lock_timeout_s,
        metric=settings.policy.metric,
    )
    champion = state.champion
    _report_change(
        state,
        f"{registry.model_name} v{champion.version} ({_semver_text(champion)}) is champion again",
        output_format,
        action="rollback",
    )


@models.command(name="sync-audit")
@click.option(
    "--rebuild",
    is_flag=True,
    help="The audit file is unreadable: keep it aside and start a new one from the registry.",
)
@_output_options
@click.pass_obj
def sync_audit(obj: dict, rebuild: bool, env: str | None, output_format: str) -> None:
    """Bring the audit file in line with the registry.

    Puts back what an interrupted command left half done, and records registry changes made
    elsewhere (another checkout, the MLflow UI) as a `sync` event. With --rebuild, an
    unreadable audit file is renamed to <name>.unreadable-<time> and a new one is started.
    """
    from future_skills_kedro.lifecycle import rebuild_audit_log, sync_audit_log

    project = _open_project(obj, env)
    settings, audit_log = project.settings, project.audit_log
    options = {
        "lock_path": settings.resolved_lock_path,
        "lock_timeout_s": settings.lock_timeout_s,
    }
    if rebuild:
        state, aside = rebuild_audit_log(
            project.registry, audit_log, settings.policy.metric, **options
        )
        sentence = f"{audit_log.path} rebuilt from the registry; the unreadable file is {aside}"
        _report_change(
            state, sentence, output_format, audit_log=str(audit_log.path), aside=str(aside)
        )
        return
    events_before = len(audit_log.events())
    state = sync_audit_log(project.registry, audit_log, settings.policy.metric, **options)
    recorded = audit_log.events()[events_before:]
    sentence = f"{audit_log.path} agrees with the registry" + "".join(
        f"\n  recorded {event['action']}: {event['reason']}" for event in recorded
    )
    _report_change(state, sentence, output_format, audit_log=str(audit_log.path), recorded=recorded)


@models.command()
@click.argument("ref_a", metavar="A")
@click.argument("ref_b", metavar="B")
@click.option(
    "--quarter",
    default=None,
    help="Score both on this labelled quarter of model_input_table (e.g. 2025-09-30) "
    "instead of the current holdout.",
)
@click.option(
    "--by",
    type=click.Choice(SLICE_COLUMNS),
    default=None,
    help="Also compare on each value of this column.",
)
@_output_options
@click.pass_obj
def compare(
    obj: dict,
    ref_a: str,
    ref_b: str,
    quarter: str | None,
    by: str | None,
    env: str | None,
    output_format: str,
) -> None:
    """Score A and B (versions, semvers or aliases) on the same rows: metrics, B - A with a
    seeded paired-bootstrap interval, per slice with --by, and how they were built. Read-only."""
    from future_skills_kedro.lifecycle.compare import compare_versions, format_comparison

    project = _open_project(obj, env)
    a, b = _resolve(project.registry, ref_a), _resolve(project.registry, ref_b)
    rows, basis = _comparison_rows(project.context.catalog, quarter)
    guard = project.settings.policy.significance
    document = compare_versions(
        rows,
        a,
        b,
        _version_scorer(project.registry.model_name),
        params_a=_run_params(a),
        params_b=_run_params(b),
        rows_basis=basis,
        by=by,
        confidence=guard.confidence,
        resamples=guard.resamples,
        seed=guard.seed,
    )
    if output_format == "json":
        _emit_json(document)
    else:
        click.echo(format_comparison(document))


def _comparison_rows(catalog: Any, quarter: str | None) -> tuple[Any, str]:
    """The current holdout, or one labelled quarter of the model-input table."""
    import pandas as pd
    from kedro.io import DatasetError

    name = "holdout_set" if quarter is None else "model_input_table"
    try:
        table = catalog.load(name)
    except DatasetError as exc:
        raise CommandFailed(
            f"cannot read {name} ({str(exc).splitlines()[0]}): "
            "run `kedro run --pipelines training` first"
        ) from exc
    if quarter is None:
        span = f"{table['as_of_date'].min():%Y-%m-%d} to {table['as_of_date'].max():%Y-%m-%d}"
        return table, f"current holdout, {span}"
    try:
        day = pd.Timestamp(quarter)
    except ValueError as exc:
        raise CommandFailed(f"--quarter {quarter!r} is not a date", USAGE_ERROR) from exc
    rows = table.loc[table["as_of_date"] == day]
    if rows.empty:
        known = ", ".join(f"{d:%Y-%m-%d}" for d in sorted(table["as_of_date"].unique()))
        raise CommandFailed(
            f"--quarter {quarter}: no labelled rows for that quarter (quarters: {known})",
            USAGE_ERROR,
        )
    return rows, f"labelled quarter {day:%Y-%m-%d}"


def _version_scorer(model_name: str) -> Callable:
    def score(info: Any, rows: Any) -> Any:
        import mlflow

        from future_skills_kedro.contract import FEATURE_COLUMNS

        model = mlflow.pyfunc.load_model(f"models:/{model_name}/{info.version}")
        return model.predict(rows.loc[:, list(FEATURE_COLUMNS)])

    return score


def _run_params(info: Any) -> dict[str, str]:
    from mlflow import MlflowClient

    return dict(MlflowClient().get_run(info.run_id).data.params) if info.run_id else {}


@models.command()
@click.argument("ref")
@click.option(
    "--generate",
    is_flag=True,
    help="Write the card from the version's training run (for a version trained before "
    "model cards); the same run always gives the same card.",
)
@_output_options
@click.pass_obj
def card(obj: dict, ref: str, generate: bool, env: str | None, output_format: str) -> None:
    """Print the model card of REF (Markdown): use, data, metrics with intervals, slices,
    comparison with the champion, decision, limitations, lineage."""
    from mlflow import MlflowClient

    from future_skills_kedro.lifecycle.model_card import is_model_card, write_card_from_run

    project = _open_project(obj, env)
    registry = project.registry
    info = _resolve(registry, ref)
    client = MlflowClient()
    description = client.get_model_version(registry.model_name, str(info.version)).description
    if generate:
        try:
            text = write_card_from_run(client, registry, info.version)
        except LookupError as exc:
            raise CommandFailed(f"cannot generate a card: {exc}") from exc
    elif is_model_card(description):
        text = description
    else:
        raise CommandFailed(
            f"v{info.version} has no model card (registered before model cards, or writing it "
            f"failed); `kedro models card {ref} --generate` writes it from its training run"
        )
    if output_format == "json":
        _emit_json(
            {"version": info.version, "semver": info.semver, "generated": generate, "card": text}
        )
    else:
        click.echo(text, nl=False)


# ---------------------------------------------------------------- governance: history, trace,
# prune (logic in future_skills_kedro.lifecycle.history / trace / retention)
def _short_time(text: str | None) -> str:
    return (text or "-").replace("+00:00", "Z")


def _print_rows(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Columns padded to their widest cell; the last column (a sentence) is left as is."""
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header) - 1)]
    for row in (header, *rows):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, str(row[-1])]))


def _holder(change: Any) -> str:
    if change is None or change.version is None:
        return "none"
    return f"v{change.version} ({change.semver or 'no semver'})"


@models.command()
@click.option(
    "--at",
    "at_time",
    default=None,
    help="An ISO 8601 time (UTC unless it says otherwise), e.g. 2026-03-31T12:00: name the "
    "champion and challenger of that moment.",
)
@_output_options
@click.pass_obj
def history(obj: dict, at_time: str | None, env: str | None, output_format: str) -> None:
    """Every change of champion and challenger: time, version, semver, who or which run, and
    why, from the audit log, checked against the registry. Read-only."""
    from future_skills_kedro.lifecycle.history import InvalidTime, build_history, parse_time

    try:
        when = None if at_time is None else parse_time(at_time)
    except InvalidTime as exc:
        raise CommandFailed(f"--at: {exc}", USAGE_ERROR) from exc
    project = _open_project(obj, env)
    found = build_history(project.registry.state(), project.audit_log.read())
    if when is not None:
        holders = found.at(when)
        known = found.known_at(when)
        if output_format == "json":
            _emit_json(
                {
                    "model_name": found.model_name,
                    "at": when.isoformat(),
                    "known": known,
                    "history_starts": found.starts_at,
                    **{
                        role: None if c is None or c.version is None else c.as_dict()
                        for role, c in holders.items()
                    },
                    "warnings": list(found.warnings),
                }
            )
        else:
            click.echo(f"{found.model_name} at {_short_time(when.isoformat())}:")
            for role, change in holders.items():
                since = (
                    ""
                    if change is None
                    else f" since {_short_time(change.timestamp)} ({change.action} by "
                    f"{change.by}: {change.reason})"
                )
                click.echo(f"  {role}: {_holder(change)}{since}")
        if not known:
            _warn(
                f"the audit log starts at {_short_time(found.starts_at)}: "
                "what held before is not recorded here"
                if found.starts_at
                else "the audit log records no change yet"
            )
        for warning in found.warnings:
            _warn(warning)
        return
    if output_format == "json":
        _emit_json(
            {
                "model_name": found.model_name,
                "changes": [change.as_dict() for change in found.changes],
                "warnings": list(found.warnings),
            }
        )
    elif not found.changes:
        click.echo(f"{found.model_name}: no champion or challenger change recorded yet.")
    else:
        _print_rows(
            ("time", "role", "version", "semver", "from", "action", "by", "reason"),
            [
                (
                    _short_time(c.timestamp),
                    c.role,
                    "-" if c.version is None else f"v{c.version}",
                    c.semver or "-",
                    "-" if c.previous is None else f"v{c.previous}",
                    c.action,
                    c.by,
                    c.reason or "-",
                )
                for c in found.changes
            ],
        )
    for warning in found.warnings:
        _warn(warning)


def _catalog_path(project: _Project, dataset: str, key: str) -> Path:
    entry = project.catalog_config.get(dataset) or {}
    value = entry.get(key) or (entry.get("dataset") or {}).get(key)
    if not value:
        raise CommandFailed(f"the catalog entry {dataset} has no {key}")
    return project.path / value


@models.command()
@click.argument("request_id")
@_output_options
@click.pass_obj
def trace(obj: dict, request_id: str, env: str | None, output_format: str) -> None:
    """The prediction of REQUEST_ID (from the prediction logs or predictions.parquet), the
    model version and semver that made it, its training run, data hash, params hash and git
    sha. Read-only."""
    from future_skills_kedro.lifecycle.trace import (
        InvalidRequestId,
        RequestNotFound,
        check_request_id,
        find_prediction,
        trace_prediction,
    )

    try:
        check_request_id(request_id)
    except InvalidRequestId as exc:
        raise CommandFailed(str(exc), USAGE_ERROR) from exc
    project = _open_project(obj, env)
    logs = _catalog_path(project, "prediction_log_batch", "path")
    predictions = _catalog_path(project, "predictions", "filepath").parent
    try:
        found = find_prediction(request_id, logs, [predictions])
    except RequestNotFound as exc:
        raise CommandFailed(str(exc), USAGE_ERROR) from exc
    traced = trace_prediction(project.registry, found, project.audit_log.read()["events"])
    if output_format == "json":
        _emit_json(traced.as_dict())
    else:
        _print_trace(traced)
    for warning in traced.warnings:
        _warn(warning)


def _print_trace(traced: Any) -> None:
    found = traced.prediction
    probabilities = ", ".join(f"{k} {v:.3f}" for k, v in found.probabilities.items())
    confidence = "-" if found.confidence is None else f"{found.confidence:.3f}"
    keys = ", ".join(f"{k}={v}" for k, v in found.keys.items() if v is not None) or "-"
    version = "-" if traced.version is None else f"v{traced.version}"
    lines = [
        f"request {found.request_id}",
        f"  prediction:    {found.prediction} (confidence {confidence}; {probabilities})",
        f"  keys:          {keys}",
        f"  scored:        {_short_time(found.timestamp)} (purpose {found.purpose or '-'}, "
        f"alias {found.model_alias or '-'})",
        f"  found in:      {found.source}",
        f"  model:         {found.model_name} {version} "
        f"({traced.semver or found.model_semver or 'no semver'})"
        + ("" if traced.in_registry else " [not in the registry]"),
        f"  stage now:     {traced.stage or '-'}",
        f"  training run:  {traced.run_id or '-'}",
    ]
    lines += [f"  {tag + ':':<14} {value or '-'}" for tag, value in traced.lineage.items()]
    for line in lines:
        click.echo(line)


def _monitoring_parameters(project: _Project) -> Any:
    from pydantic import ValidationError

    from future_skills_kedro.parameters.errors import raise_invalid
    from future_skills_kedro.parameters.monitoring import MonitoringParameters

    try:
        return MonitoringParameters.model_validate(project.params.get("monitoring") or {})
    except ValidationError as error:
        try:
            raise_invalid(error, MonitoringParameters, ("monitoring",))
        except ValueError as exc:
            raise CommandFailed(str(exc), USAGE_ERROR) from exc


@models.command()
@click.option("--keep-last", type=click.IntRange(min=0), default=None, metavar="N",
              help="Keep the N most recent versions.")  # fmt: skip
@click.option("--older-than", type=click.FloatRange(min=0), default=None, metavar="DAYS",
              help="Prune only versions created more than DAYS days ago.")  # fmt: skip
@click.option("--yes", is_flag=True, help="Act. Without it: a dry run printing the plan.")
@click.option("--archive-only", is_flag=True,
              help="Tag the versions Archived instead of deleting anything.")  # fmt: skip
@_output_options
@click.pass_obj
def prune(
    obj: dict,
    keep_last: int | None,
    older_than: float | None,
    yes: bool,
    archive_only: bool,
    env: str | None,
    output_format: str,
) -> None:
    """Delete old versions (registry entry and run artifacts) and prediction-log files past
    monitoring.retention.prediction_log_days. A dry run unless --yes. Never the champion,
    the challenger, or a version that scored predictions within the monitoring window.
    --keep-last and --older-than together: both must hold."""
    from datetime import datetime, timedelta, timezone

    from future_skills_kedro.lifecycle import LifecycleError
    from future_skills_kedro.lifecycle.retention import (
        Criteria,
        describe_unfinished,
        expired_log_files,
        plan_prune,
        prune_versions,
        scoring_versions,
        unfinished_prune,
    )

    try:
        criteria = Criteria(keep_last, older_than)
    except LifecycleError as exc:
        raise CommandFailed(str(exc), USAGE_ERROR) from exc
    project = _open_project(obj, env)
    monitoring = _monitoring_parameters(project)
    now = datetime.now(timezone.utc)
    last_day = monitoring.window.end_date or now.date()
    first_day = last_day - timedelta(days=monitoring.window.days - 1)
    logs = _catalog_path(project, "prediction_log_batch", "path")
    model_name = project.registry.model_name
    scoring = scoring_versions(logs, first_day, max(last_day, now.date()), model_name)
    expired = expired_log_files(logs, monitoring.retention.prediction_log_days, now.date())

    def plan(state: Any) -> Any:
        return plan_prune(state, criteria, scoring, now=now, archive_only=archive_only)

    settings = project.settings
    unfinished = unfinished_prune(project.audit_log.read())
    if not yes:
        decisions = plan(project.registry.state())
        _report_prune_plan(
            model_name, decisions, expired, unfinished, archive_only, output_format,
            window=(first_day, last_day),
        )  # fmt: skip
        if unfinished is not None:
            _warn(describe_unfinished(unfinished))
        return
    result = prune_versions(
        project.registry,
        project.audit_log,
        plan,
        archive_only=archive_only,
        log_files=expired,
        lock_path=settings.resolved_lock_path,
        lock_timeout_s=settings.lock_timeout_s,
        metric=settings.policy.metric,
    )
    if output_format == "json":
        _emit_json(
            {
                **_state_summary(result.state),
                "archive_only": archive_only,
                "pruned": result.pruned,
                "deleted_log_files": result.deleted_log_files,
                "skipped": result.skipped,
            }
        )
    else:
        verb = "archived" if archive_only else "pruned"
        if not result.pruned and not result.deleted_log_files:
            click.echo(f"{model_name}: nothing to prune.")
        for event in result.pruned:
            click.echo(f"{verb} v{event['version']} ({event['semver'] or 'no semver'})")
        for name in result.deleted_log_files:
            click.echo(f"deleted {name}")
    for message in result.skipped:
        _warn(message)


def _report_prune_plan(
    model_name: str,
    decisions: Any,
    expired: Any,
    unfinished: Any,
    archive_only: bool,
    output_format: str,
    window: tuple[Any, Any],
) -> None:
    verb = "archive" if archive_only else "delete"
    pending = [] if unfinished is None else list(unfinished["versions"])
    if output_format == "json":
        _emit_json(
            {
                "model_name": model_name,
                "dry_run": True,
                "archive_only": archive_only,
                "monitoring_window": [day.isoformat() for day in window],
                "prune": [d.as_dict() for d in decisions if d.prune],
                "keep": [d.as_dict() for d in decisions if not d.prune],
                "unfinished": pending,
                "log_files": [str(path) for path in expired],
            }
        )
        return
    rows = [
        (
            f"v{d.version}",
            d.semver or "-",
            d.stage or "-",
            _short_time(d.created),
            verb if d.prune else "keep",
            d.why,
        )
        for d in decisions
    ]
    rows += [
        (f"v{item['version']}", item.get("semver") or "-", "-", "-", "finish", "interrupted prune")
        for item in pending
    ]
    if rows:
        _print_rows(("version", "semver", "stage", "created", "action", "why"), rows)
    else:
        click.echo(f"{model_name}: no registered version.")
    for path in expired:
        click.echo(f"delete {path}")
    click.echo("dry run: nothing changed; --yes acts", err=True)
