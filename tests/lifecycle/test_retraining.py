"""The retrain-if-needed policy: one reason per way it can say no, and the yes."""

from __future__ import annotations

from datetime import date

import pytest

from future_skills_kedro.lifecycle.retraining import TrainedVersion, decide_retraining

TODAY = date(2026, 1, 10)
CHAMPION = TrainedVersion(3, "Production", date(2025, 9, 30))


def _summary(**changes) -> dict:
    summary = {
        "status": "degraded",
        "retrain_recommended": True,
        "retrain_reasons": ["a top feature drifted: important_features_drifted = 1 >= 1"],
        "window": {"start": "2026-01-03", "end": "2026-01-09"},
        "reference": {"version": "3"},
    }
    return summary | changes


def _decide(summary=None, champion=CHAMPION, latest=CHAMPION, newest=date(2025, 12, 31), age=7):
    return decide_retraining(summary, champion, latest, newest, TODAY, age)


def test_retrains_when_recommended_and_newer_labels_exist():
    decision = _decide(_summary())
    assert decision.retrain is True
    assert decision.reason == (
        "retraining: a top feature drifted: important_features_drifted = 1 >= 1; labels "
        "through 2025-12-31 are newer than v3's training data (through 2025-09-30)"
    )
    assert decision.facts["newest_label"] == "2025-12-31"
    assert decision.facts["champion_data_through"] == "2025-09-30"


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"summary": None}, "no monitoring summary"),
        ({"champion": None, "latest": None}, "no champion"),
        (
            {"summary": _summary(retrain_recommended=False, status="healthy")},
            "monitoring does not recommend retraining (status healthy)",
        ),
        ({"newest": date(2025, 9, 30)}, "no label is newer than v3's training data"),
        ({"newest": None}, "no label is newer"),
        (
            {"summary": _summary(window={"start": "2025-12-01", "end": "2025-12-07"})},
            "the monitoring summary is 34 days old",
        ),
        (
            {"summary": _summary(reference={"version": "2"})},
            "the monitoring summary is about v2, the champion is now v3",
        ),
        (
            {"latest": TrainedVersion(4, "Staging", date(2025, 12, 31))},
            "v4 (Staging) was already trained on labels through 2025-12-31",
        ),
    ],
)
def test_says_why_it_does_not_retrain(kwargs, reason):
    arguments = {"summary": _summary()} | kwargs
    decision = _decide(**arguments)
    assert decision.retrain is False
    assert reason in decision.reason


def test_an_old_summary_is_accepted_when_the_age_check_is_off():
    old = _summary(window={"start": "2025-06-01", "end": "2025-06-07"})
    assert _decide(old, age=None).retrain is True


def test_a_later_version_on_older_labels_does_not_block():
    older = TrainedVersion(4, "Development", date(2025, 9, 30))
    assert _decide(_summary(), latest=older).retrain is True
