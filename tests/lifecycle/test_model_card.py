"""Model cards: deterministic Markdown from what a training run stored; written to a real
SQLite registry as the version's description and the run's artifact."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from future_skills_kedro.lifecycle import ModelRegistry
from future_skills_kedro.lifecycle.model_card import (
    CARD_ARTIFACT,
    CardFacts,
    is_model_card,
    render_model_card,
    write_card_from_run,
)
from future_skills_kedro.lifecycle.slices import slice_records
from tests.lifecycle.conftest import MODEL_NAME, register_version

EVIDENCE = {
    "metrics": {"accuracy": 0.71, "macro_f1": 0.66, "log_loss": 0.7},
    "champion": {
        "status": "compared",
        "version": "1",
        "semver": "1.0.0",
        "metrics": {"accuracy": 0.5, "macro_f1": 0.34, "log_loss": 1.0},
    },
    "input_schema": [["department", "str"], ["trend_score", "float64"]],
    "target_classes": ["HIGH", "LOW", "MEDIUM"],
    "data_hash": "data123",
    "params_hash": "params456",
    "holdout_hash": "holdout789",
    "algorithm": "hist_gradient_boosting",
    "split": {
        "strategy": "time",
        "train_rows": 35100,
        "holdout_rows": 5400,
        "train_from": "2022-03-31",
        "train_to": "2025-03-31",
        "holdout_from": "2025-06-30",
        "holdout_to": "2025-09-30",
    },
}
SLICES = pd.DataFrame(
    {
        "slice": ["department", "department", "horizon_years"],
        "value": ["Finance", "Sales", "3"],
        "rows": [630, 150, 1800],
        "metric": ["macro_f1"] * 3,
        "challenger": [0.31, 0.70, 0.66],
        "champion": [0.62, 0.40, 0.34],
        "difference": [-0.31, 0.30, 0.32],
    }
)
INTERVAL = {"value": 0.66, "low": 0.64, "high": 0.68}
SUMMARY = {
    "rows": 5400,
    "bootstrap": {"confidence": 0.95, "resamples": 2000, "seed": 42},
    "metrics": {"macro_f1": INTERVAL},
    "versus_champion": {
        "macro_f1": {"a": 0.34, "b": 0.66, "difference": 0.32, "low": 0.30, "high": 0.34}
    },
    "unseen_categories": {"skill_name": ["Rust"]},
}


def _facts(client, version: int) -> CardFacts:
    info = ModelRegistry(client, MODEL_NAME).get_version(version)
    return CardFacts(
        MODEL_NAME,
        info,
        EVIDENCE,
        "challenger",
        "worse on department=Finance",
        slice_records(SLICES),
        SUMMARY,
    )


def test_the_card_states_use_data_metrics_slices_decision_limitations_and_lineage(client):
    version = register_version(client)
    card = render_model_card(_facts(client, version))
    assert is_model_card(card)
    assert card.startswith(f"# Model card: {MODEL_NAME} v{version}")
    for expected in (
        "## Intended use",
        "## Out of scope",
        "training rows 35100 (2022-03-31 to 2025-03-31)",
        "Data hash: data123",
        "| macro_f1 | 0.660 | [0.640, 0.680] |",
        "Champion v1 (1.0.0) scored on the same holdout rows",
        "| macro_f1 | 0.660 | 0.340 | +0.320 | [+0.300, +0.340] |",
        "| department | Finance | 630 | 0.310 | 0.620 | -0.310 |",
        "- Outcome at training: challenger",
        "- Reason: worse on department=Finance",
        "department=Finance: macro_f1 0.310 below the champion's 0.620 (n=630).",
        "department=Sales: only 150 holdout rows",
        "Holdout skill_name values never seen in training (scored as unknown): Rust.",
        "Features excluded from the model: job_role_name, seniority, skill_name",
        "- Params hash: params456",
    ):
        assert expected in card, expected
    assert render_model_card(_facts(client, version)) == card  # deterministic


def test_a_card_is_written_from_the_run_as_artifact_and_description(client, tmp_path):
    version = register_version(client)
    run_id = client.get_model_version(MODEL_NAME, str(version)).run_id
    evidence = tmp_path / "promotion_evidence.json"
    evidence.write_text(json.dumps(EVIDENCE))
    client.log_artifact(run_id, str(evidence), "evaluation")
    SLICES.to_csv(tmp_path / "slice_comparison.csv", index=False)
    client.log_artifact(run_id, str(tmp_path / "slice_comparison.csv"), "evaluation")
    client.set_tag(run_id, "promotion_outcome", "challenger")
    registry = ModelRegistry(client, MODEL_NAME)

    card = write_card_from_run(client, registry, version)

    assert client.get_model_version(MODEL_NAME, str(version)).description == card
    stored = client.download_artifacts(run_id, CARD_ARTIFACT, str(tmp_path / "down"))
    assert Path(stored).read_text() == card
    assert "| department | Finance | 630 | 0.310 | 0.620 | -0.310 |" in card
    assert "Bootstrap intervals were not recorded by this run." in card  # no holdout_summary
    assert write_card_from_run(client, registry, version) == card  # same run, same card


def test_a_run_without_evidence_cannot_give_a_card(client):
    version = register_version(client)
    registry = ModelRegistry(client, MODEL_NAME)
    with pytest.raises(LookupError, match=r"has no evaluation/promotion_evidence\.json"):
        write_card_from_run(client, registry, version)
    assert not is_model_card(client.get_model_version(MODEL_NAME, str(version)).description)
