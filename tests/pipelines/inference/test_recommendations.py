"""HR recommendation rules, ranking and report on hand-made scored rows."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader

from future_skills_kedro.parameters.project import validate_parameters
from future_skills_kedro.pipelines.inference.recommendations import (
    RECOMMENDATION_COLUMNS,
    plot_top_skills,
    recommend_actions,
    render_recommendation_report,
)

PROJECT_ROOT = Path(__file__).resolve().parents[3]
LEVEL_PROBABILITIES = {
    "HIGH": (0.05, 0.15, 0.80),
    "MEDIUM": (0.2, 0.6, 0.2),
    "LOW": (0.7, 0.2, 0.1),
}


@cache
def _rules() -> dict:
    """The project's rules as the nodes receive them: checked, defaults filled in."""
    conf = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base")
    return validate_parameters(conf["parameters"]).inference.recommendations.model_dump()


def rules(**changes) -> dict:
    """The project's rules with ``section__key=value`` changes."""
    result = copy.deepcopy(_rules())
    for name, value in changes.items():
        section, _, key = name.partition("__")
        if key:
            result[section][key] = value
        else:
            result[section] = value
    return result


def _skill(department, roles, skill, category, levels, **signals) -> list[dict]:
    """Rows of one skill in one department: per role, one row per horizon (1, 3, 5)."""
    defaults = {
        "internal_usage": 0.5,
        "training_requests": 1.0,
        "scarcity_index": 0.3,
        "trend_score": 0.6,
        "hiring_difficulty": 0.4,
    }
    rows = []
    for role in roles:
        for horizon, level in zip((1, 3, 5), levels, strict=True):
            low, medium, high = LEVEL_PROBABILITIES[level]
            rows.append(
                {
                    "job_role_id": role,
                    "skill_id": skill,
                    "horizon_years": horizon,
                    "as_of_date": pd.Timestamp("2025-12-31"),
                    "department": department,
                    "skill_name": f"{skill} name",
                    "skill_category": category,
                    **defaults,
                    **signals,
                    "predicted_need_level": level,
                    "prob_LOW": low,
                    "prob_MEDIUM": medium,
                    "prob_HIGH": high,
                    "confidence": max(low, medium, high),
                }
            )
    return rows


HIGH3 = ("HIGH", "HIGH", "HIGH")


def scored_rows() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features and model scores (split as the pipeline hands them over)."""
    rows = [
        # D1: one skill per rule.
        *_skill("D1", ["R1", "R2"], "S_TRAIN", "Cloud", HIGH3, internal_usage=0.5,
                training_requests=8.0),
        *_skill("D1", ["R1"], "S_HIRE", "Security", HIGH3, internal_usage=0.1,
                scarcity_index=0.8),
        *_skill("D1", ["R1", "R2"], "S_RESKILL", "Data", HIGH3, internal_usage=0.2),
        # The declining Data skill people use today: the reskilling source.
        *_skill("D1", ["R1", "R2"], "S_OLD", "Data", ("LOW", "LOW", "LOW"),
                internal_usage=0.8, trend_score=0.2),
        *_skill("D1", ["R2"], "S_FALLBACK", "Soft", HIGH3, internal_usage=0.9),
        # Not in HIGH need: never recommended.
        *_skill("D1", ["R1"], "S_MEDIUM", "Soft", ("MEDIUM", "MEDIUM", "MEDIUM")),
        # HIGH in 1 of 6 rows only: under min_high_share.
        *_skill("D1", ["R1", "R2"], "S_RARE", "Cloud", ("HIGH", "LOW", "LOW"))[:3],
        *_skill("D1", ["R2"], "S_RARE", "Cloud", ("LOW", "LOW", "LOW")),
        # D2: a HIGH skill only from the 5-year horizon on.
        *_skill("D2", ["R3"], "S_LATER", "Cloud", ("MEDIUM", "HIGH", "HIGH"),
                internal_usage=0.1, scarcity_index=0.2),
    ]  # fmt: skip
    frame = pd.DataFrame(rows)
    scores = ["predicted_need_level", "prob_LOW", "prob_MEDIUM", "prob_HIGH", "confidence"]
    return frame.drop(columns=scores), frame.loc[:, scores]


def _by_skill(plan: pd.DataFrame) -> pd.DataFrame:
    return plan.set_index("skill_id")


def test_each_rule_gives_its_action_with_a_rationale_from_the_signals():
    features, scores = scored_rows()
    plan = recommend_actions(features, scores, rules())
    assert list(plan.columns) == list(RECOMMENDATION_COLUMNS)
    by_skill = _by_skill(plan)
    assert set(by_skill.index) == {"S_TRAIN", "S_HIRE", "S_RESKILL", "S_FALLBACK", "S_LATER"}
    assert by_skill.loc["S_TRAIN", ["action", "rule"]].tolist() == ["TRAIN", "TRAIN"]
    assert by_skill.loc["S_HIRE", ["action", "rule"]].tolist() == ["HIRE", "HIRE"]
    assert by_skill.loc["S_RESKILL", ["action", "rule"]].tolist() == ["RESKILL", "RESKILL"]
    assert by_skill.loc["S_FALLBACK", ["action", "rule"]].tolist() == ["TRAIN", "fallback"]
    # Low usage, not scarce, no related skill: the fallback hires.
    assert by_skill.loc["S_LATER", ["action", "rule"]].tolist() == ["HIRE", "fallback"]

    assert by_skill.loc["S_RESKILL", "related_skill_id"] == "S_OLD"
    assert pd.isna(by_skill.loc["S_TRAIN", "related_skill_id"])
    assert "S_OLD name" in by_skill.loc["S_RESKILL", "rationale"]
    assert "0.80" in by_skill.loc["S_RESKILL", "rationale"]  # its usage
    assert "8.0 trainings per role" in by_skill.loc["S_TRAIN", "rationale"]
    assert "scarcity 0.80" in by_skill.loc["S_HIRE", "rationale"]
    assert by_skill.loc["S_LATER", "earliest_high_horizon"] == 3
    assert "from the 3-year horizon" in by_skill.loc["S_LATER", "rationale"]
    assert plan["rationale"].str.count(r"\. ").eq(0).all()  # one sentence each
    assert plan["horizons"].eq("1,3,5").all()


def test_ranking_is_by_mean_probability_of_high_within_each_department():
    features, scores = scored_rows()
    plan = recommend_actions(features, scores, rules())
    for _, department in plan.groupby("department"):
        assert department["rank"].tolist() == list(range(1, len(department) + 1))
        assert department["need_score"].is_monotonic_decreasing
    later = _by_skill(plan).loc["S_LATER"]
    assert later["rank"] == 1
    assert later["need_score"] == pytest.approx((0.2 + 0.8 + 0.8) / 3)
    assert later["high_share"] == pytest.approx(2 / 3)
    assert later["roles_high"] == 1


def test_parameters_change_the_plan():
    features, scores = scored_rows()
    # This year only: S_LATER is not HIGH at 1 year.
    assert "S_LATER" not in set(
        recommend_actions(features, scores, rules(horizons=[1]))["skill_id"]
    )
    # HIRE before RESKILL: the reskill candidate (low usage, but not scarce) stays RESKILL;
    # make it scarce and HIRE wins.
    features.loc[features["skill_id"].eq("S_RESKILL"), "scarcity_index"] = 0.9
    plan = recommend_actions(features, scores, rules(rule_order=["TRAIN", "HIRE", "RESKILL"]))
    assert _by_skill(plan).loc["S_RESKILL", "action"] == "HIRE"
    top1 = recommend_actions(features, scores, rules(top_n_per_department=1))
    assert top1.groupby("department").size().eq(1).all()


def test_report_and_chart(tmp_path):
    features, scores = scored_rows()
    plan = recommend_actions(features, scores, rules())
    summary = {
        "model": {"model_name": "future-skills-model", "version": "3", "semver": "1.1.0",
                  "alias": "champion"},
        "snapshot": {"as_of_date": "2025-12-31", "rows_rejected": 0},
        "predictions": {"rows": len(scores), "by_level": {"LOW": 1, "MEDIUM": 2, "HIGH": 3},
                        "mean_confidence": 0.7},
        "unseen_categories": {"checked": True, "rows": 0},
        "scoring": {"scored_at": "2026-01-05T10:00:00+00:00"},
        "recommendations": {"by_action": plan["action"].value_counts().to_dict()},
    }  # fmt: skip
    report = render_recommendation_report(plan, summary, rules())
    assert "## D1" in report
    assert "## D2" in report
    assert "future-skills-model v3" in report
    assert "(recommendations_top_skills.png)" in report
    assert report.count("| RESKILL |") == 1
    figure = plot_top_skills(plan, rules())
    figure.savefig(tmp_path / "chart.png")
    assert (tmp_path / "chart.png").stat().st_size > 1000
    empty = plan.iloc[0:0]
    assert "nothing to recommend" in render_recommendation_report(empty, summary, rules())
    plot_top_skills(empty, rules())
