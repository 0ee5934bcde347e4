"""Model cards: what a version is for, how good it is and for whom, how it was decided.

``render_model_card`` is a pure function of what the training run stored (its evidence
artifacts and decision tags) and the version's lineage tags, so the card is the same
whether the lifecycle hook writes it after the run or ``kedro models card --generate``
rebuilds it later from the run (no clock, no current registry state in it).

``CardFacts.from_run`` gathers those facts from MLflow; ``publish_card`` logs the card as
the run's ``model_card.md`` artifact and sets it as the version's description.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from future_skills_kedro.contract import FEATURE_COLUMNS, HORIZONS, NEED_LEVELS
from future_skills_kedro.lifecycle.registry import (
    TAG_DATA_HASH,
    TAG_GIT_SHA,
    TAG_HOLDOUT_HASH,
    TAG_KEDRO_RUN_ID,
    TAG_PARAMS_HASH,
    TAG_PARENT_SEMVER,
    TAG_SCHEMA_HASH,
    TAG_VERSION_REASON,
    VersionInfo,
)

CARD_ARTIFACT = "model_card.md"
CARD_TITLE_PREFIX = "# Model card: "  # a description starting so is a card
# Run artifacts (catalog: promotion_evidence, slice_comparison, holdout_summary).
EVIDENCE_ARTIFACT = "evaluation/promotion_evidence.json"
SLICES_ARTIFACT = "evaluation/slice_comparison.csv"
SUMMARY_ARTIFACT = "evaluation/holdout_summary.json"
# Training-run tags the lifecycle hook sets with the decision.
RUN_TAG_OUTCOME = "promotion_outcome"
RUN_TAG_REASON = "promotion_reason"

INTENDED_USE = (
    f"Forecast the future need level ({', '.join(NEED_LEVELS)}) of a skill for a job role "
    f"at a horizon of {', '.join(map(str, HORIZONS))} years, from market, economic and "
    "internal signals, to plan training, hiring and reskilling for roles and departments."
)
OUT_OF_SCOPE = (
    "Decisions about individual people (hiring, pay, promotion, performance reviews, dismissal).",
    "Job roles, skills, departments or horizons absent from the training data.",
    "Quarters far beyond the training window without monitoring (see docs/monitoring.md).",
)


def is_model_card(description: str | None) -> bool:
    return bool(description) and description.startswith(CARD_TITLE_PREFIX)


@dataclass(frozen=True)
class CardFacts:
    """What a card is written from: the version, and what its training run stored."""

    model_name: str
    version: VersionInfo
    evidence: Mapping[str, Any]  # promotion_evidence
    outcome: str | None  # the run's promotion_outcome tag
    reason: str | None  # the run's promotion_reason tag
    slices: Sequence[Mapping[str, Any]] | None = None  # slice_comparison records
    summary: Mapping[str, Any] | None = None  # holdout_summary

    @classmethod
    def from_run(cls, client: Any, model_name: str, info: VersionInfo) -> CardFacts:
        """Read the run's artifacts and tags; raises LookupError naming what is missing."""
        import pandas as pd

        from future_skills_kedro.lifecycle.slices import slice_records

        if not info.run_id:
            raise LookupError(f"v{info.version} has no training run to build a card from")
        run = client.get_run(info.run_id)
        with tempfile.TemporaryDirectory() as folder:
            stored = _download(client, info.run_id, folder)
            if EVIDENCE_ARTIFACT not in stored:
                raise LookupError(
                    f"run {info.run_id} of v{info.version} has no {EVIDENCE_ARTIFACT} artifact"
                )
            evidence = json.loads(stored[EVIDENCE_ARTIFACT].read_text())
            slices = (
                slice_records(pd.read_csv(stored[SLICES_ARTIFACT], dtype={"value": str}))
                if SLICES_ARTIFACT in stored
                else None
            )
            summary = (
                json.loads(stored[SUMMARY_ARTIFACT].read_text())
                if SUMMARY_ARTIFACT in stored
                else None
            )
        return cls(
            model_name=model_name,
            version=info,
            evidence=evidence,
            outcome=run.data.tags.get(RUN_TAG_OUTCOME),
            reason=run.data.tags.get(RUN_TAG_REASON),
            slices=slices,
            summary=summary,
        )


def _download(client: Any, run_id: str, folder: str) -> dict[str, Path]:
    """The card's artifacts that the run has, downloaded: artifact path -> local file."""
    present = {entry.path for entry in client.list_artifacts(run_id, "evaluation")}
    stored = {}
    for artifact in (EVIDENCE_ARTIFACT, SLICES_ARTIFACT, SUMMARY_ARTIFACT):
        if artifact in present:
            stored[artifact] = Path(client.download_artifacts(run_id, artifact, folder))
    return stored


def publish_card(client: Any, model_name: str, info: VersionInfo, card: str) -> None:
    """The card as the run's ``model_card.md`` artifact and as the version's description."""
    if info.run_id:
        client.log_text(info.run_id, card, CARD_ARTIFACT)
    client.update_model_version(model_name, str(info.version), description=card)


def write_card_from_run(client: Any, registry: Any, version: int) -> str:
    """Render the card of ``version`` from its run and publish it; returns the card."""
    info = registry.get_version(version)
    card = render_model_card(CardFacts.from_run(client, registry.model_name, info))
    publish_card(client, registry.model_name, info, card)
    return card


# ---------------------------------------------------------------- rendering
def _number(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "-"
    return "-" if math.isnan(number) else f"{number:.3f}"


def _signed(value: Any) -> str:
    text = _number(value)
    return text if text == "-" or text.startswith("-") else f"+{text}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _metrics_section(facts: CardFacts) -> list[str]:
    summary = facts.summary
    lines = ["## Holdout metrics", ""]
    if summary is None:
        metrics = facts.evidence.get("metrics") or {}
        lines.append("Bootstrap intervals were not recorded by this run.")
        lines.append("")
        rows = [[name, _number(metrics.get(name))] for name in ("accuracy", "macro_f1", "log_loss")]
        return [*lines, *_table(["metric", "value"], rows), ""]
    boot = summary["bootstrap"]
    lines.append(
        f"{summary['rows']} holdout rows; {boot['confidence']:.0%} bootstrap intervals "
        f"({boot['resamples']} resamples, seed {boot['seed']}). log_loss: lower is better."
    )
    lines.append("")
    rows = [
        [name, _number(m["value"]), f"[{_number(m['low'])}, {_number(m['high'])}]"]
        for name, m in summary["metrics"].items()
    ]
    lines.extend(_table(["metric", "value", "interval"], rows))
    return [*lines, ""]


def _champion_section(facts: CardFacts) -> list[str]:
    champion = facts.evidence.get("champion") or {}
    lines = ["## Comparison with the champion", ""]
    if champion.get("status") != "compared":
        lines.append(f"Not compared: {champion.get('reason', 'no champion')}.")
        return [*lines, ""]
    lines.append(
        f"Champion v{champion['version']} ({champion.get('semver') or 'no semver'}) scored on "
        "the same holdout rows; difference = this version - champion, paired bootstrap."
    )
    lines.append("")
    versus = (facts.summary or {}).get("versus_champion")
    if versus:
        rows = [
            [
                name,
                _number(m["b"]),
                _number(m["a"]),
                _signed(m["difference"]),
                f"[{_signed(m['low'])}, {_signed(m['high'])}]",
            ]
            for name, m in versus.items()
        ]
        lines.extend(_table(["metric", "this version", "champion", "difference", "interval"], rows))
    else:
        metrics, theirs = facts.evidence.get("metrics") or {}, champion.get("metrics") or {}
        rows = [
            [name, _number(metrics.get(name)), _number(theirs.get(name))]
            for name in ("accuracy", "macro_f1", "log_loss")
        ]
        lines.extend(_table(["metric", "this version", "champion"], rows))
    return [*lines, ""]


def _slices_section(facts: CardFacts) -> list[str]:
    lines = ["## Per-slice results (holdout)", ""]
    if facts.slices is None:
        return [*lines, "Not recorded by this run.", ""]
    if not facts.slices:
        return [*lines, "No slice.", ""]
    metric = facts.slices[0].get("metric", "metric")
    rows = [
        [
            str(entry["slice"]),
            str(entry["value"]),
            str(int(entry["rows"])),
            _number(entry.get("challenger")),
            _number(entry.get("champion")),
            _signed(entry.get("difference")),
        ]
        for entry in facts.slices
    ]
    header = ["slice", "value", "rows", f"{metric}", f"champion {metric}", "difference"]
    return [*lines, *_table(header, rows), ""]


def _limitations(facts: CardFacts) -> list[str]:
    found = []
    schema_columns = {pair[0] for pair in facts.evidence.get("input_schema") or []}
    excluded = [column for column in FEATURE_COLUMNS if column not in schema_columns]
    if schema_columns and excluded:
        found.append(f"Features excluded from the model: {', '.join(excluded)}.")
    unseen = (facts.summary or {}).get("unseen_categories") or {}
    for column, values in sorted(unseen.items()):
        found.append(
            f"Holdout {column} values never seen in training (scored as unknown): "
            f"{', '.join(values)}."
        )
    for entry in facts.slices or ():
        difference = entry.get("difference")
        if isinstance(difference, int | float) and not math.isnan(difference) and difference < 0:
            found.append(
                f"{entry['slice']}={entry['value']}: {entry['metric']} "
                f"{_number(entry['challenger'])} below the champion's "
                f"{_number(entry['champion'])} (n={int(entry['rows'])})."
            )
    for entry in facts.slices or ():
        if int(entry["rows"]) < 200:
            found.append(
                f"{entry['slice']}={entry['value']}: only {int(entry['rows'])} holdout rows; "
                "its figures are uncertain."
            )
    found.append(
        "Learned from the labels of past quarters: a shift in the market or the organisation "
        "degrades it until it is retrained (monitoring watches drift)."
    )
    return ["## Known limitations", "", *(f"- {item}" for item in found), ""]


def render_model_card(facts: CardFacts) -> str:
    """The card in Markdown; the same facts always give the same text."""
    info, evidence = facts.version, facts.evidence
    split = evidence.get("split") or {}
    tags = info.tags
    lines = [
        f"{CARD_TITLE_PREFIX}{facts.model_name} v{info.version} ({info.semver or 'no semver'})",
        "",
        "## Intended use",
        "",
        INTENDED_USE,
        "",
        "## Out of scope",
        "",
        *(f"- {item}" for item in OUT_OF_SCOPE),
        "",
        "## Training data",
        "",
        f"- Algorithm: {evidence.get('algorithm', '-')}",
        f"- Split: {split.get('strategy', '-')}; training rows {split.get('train_rows', '-')} "
        f"({split.get('train_from', '-')} to {split.get('train_to', '-')}), holdout rows "
        f"{split.get('holdout_rows', '-')} ({split.get('holdout_from', '-')} to "
        f"{split.get('holdout_to', '-')})",
        f"- Data hash: {evidence.get('data_hash', '-')}",
        f"- Target classes: {', '.join(evidence.get('target_classes') or []) or '-'}",
        "",
        *_metrics_section(facts),
        *_champion_section(facts),
        *_slices_section(facts),
        "## Promotion decision",
        "",
        f"- Outcome at training: {facts.outcome or 'not recorded'}",
        f"- Reason: {facts.reason or 'not recorded'}",
        f"- Version: {tags.get(TAG_VERSION_REASON) or '-'}",
        "",
        *_limitations(facts),
        "## Lineage",
        "",
        f"- MLflow run: {info.run_id or '-'}",
        f"- Kedro run: {tags.get(TAG_KEDRO_RUN_ID) or '-'}",
        f"- Git commit: {tags.get(TAG_GIT_SHA) or '-'}",
        f"- Parent version: {tags.get(TAG_PARENT_SEMVER) or '-'}",
        f"- Data hash: {tags.get(TAG_DATA_HASH) or evidence.get('data_hash', '-')}",
        f"- Params hash: {tags.get(TAG_PARAMS_HASH) or evidence.get('params_hash', '-')}",
        f"- Input schema hash: {tags.get(TAG_SCHEMA_HASH) or '-'}",
        f"- Holdout hash: {tags.get(TAG_HOLDOUT_HASH) or evidence.get('holdout_hash', '-')}",
        "",
    ]
    return "\n".join(lines)
