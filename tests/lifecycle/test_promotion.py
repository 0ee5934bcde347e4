"""Promotion policy rules, significance guard and the decision line (docs/lifecycle.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from future_skills_kedro.lifecycle import (
    LifecycleSettings,
    PromotionPolicy,
    decide_promotion,
    format_decision_line,
    paired_bootstrap_ci,
)
from future_skills_kedro.parameters import InvalidParameters

MAXIMIZE = PromotionPolicy()  # macro_f1, +0.01 absolute, floor 0.40
MINIMIZE = PromotionPolicy(metric="log_loss", direction="minimize", threshold=0.02, floor=1.0)
RELATIVE = PromotionPolicy(threshold=0.05, threshold_type="relative")


def m(value, name="macro_f1"):
    return {name: value}


@pytest.mark.parametrize(
    ("policy", "challenger", "champion", "compatible", "expected"),
    [
        # Missing or unusable challenger metric.
        (MAXIMIZE, m(math.nan), m(0.5), True, ("development", "macro_f1 is NaN")),
        (MAXIMIZE, {}, m(0.5), True, ("development", "macro_f1 is missing")),
        (MAXIMIZE, None, None, True, ("development", "is missing")),
        (MAXIMIZE, m("n/a"), None, True, ("development", "NaN or not a number")),
        # Floor (and ceiling when minimizing).
        (MAXIMIZE, m(0.399), None, True, ("development", "macro_f1 0.399 below floor 0.400")),
        (MAXIMIZE, m(0.40), None, True, ("champion", "first model passing the floor")),
        (MINIMIZE, m(1.2, "log_loss"), None, True, ("development", "above ceiling 1.000")),
        # No champion, incompatible champion, champion without the metric.
        (
            MAXIMIZE,
            m(0.5),
            None,
            True,
            ("champion", "first model passing the floor: macro_f1 0.500"),
        ),
        (MAXIMIZE, m(0.5), m(0.9), False, ("champion", "champion incompatible")),
        (MAXIMIZE, m(0.5), m(math.nan), True, ("champion", "champion has no usable macro_f1")),
        (MAXIMIZE, m(0.5), {}, True, ("champion", "champion has no usable macro_f1")),
        # Threshold, maximize.
        (
            MAXIMIZE,
            m(0.742),
            m(0.721),
            True,
            ("champion", "macro_f1 0.742 vs 0.721 (+0.021 >= 0.010)"),
        ),
        (MAXIMIZE, m(0.725), m(0.721), True, ("challenger", "(+0.004 < 0.010)")),
        (MAXIMIZE, m(0.60), m(0.72), True, ("challenger", "(-0.120 < 0.010)")),
        # A tie exactly at the threshold promotes despite floating point (0.57-0.56 < 0.01).
        (MAXIMIZE, m(0.57), m(0.56), True, ("champion", "(+0.010 >= 0.010)")),
        (MAXIMIZE, m(0.7299), m(0.72), True, ("challenger", "(+0.009900 < 0.010000)")),
        # Minimize: lower is better.
        (MINIMIZE, m(0.50, "log_loss"), m(0.55, "log_loss"), True, ("champion", "+0.050 >= 0.020")),
        (MINIMIZE, m(0.39, "log_loss"), m(0.41, "log_loss"), True, ("champion", "+0.020 >= 0.020")),
        (
            MINIMIZE,
            m(0.54, "log_loss"),
            m(0.55, "log_loss"),
            True,
            ("challenger", "+0.010 < 0.020"),
        ),
        (
            MINIMIZE,
            m(0.60, "log_loss"),
            m(0.55, "log_loss"),
            True,
            ("challenger", "-0.050 < 0.020"),
        ),
        # Relative threshold: 5% of the champion's value.
        (RELATIVE, m(0.63), m(0.60), True, ("champion", "(+0.030 >= 0.030 = 5.0% of champion)")),
        (RELATIVE, m(0.42), m(0.40), True, ("champion", "(+0.020 >= 0.020")),  # tie, relative
        (RELATIVE, m(0.62), m(0.60), True, ("challenger", "< 0.030")),
    ],
)
def test_promotion_rules(policy, challenger, champion, compatible, expected):
    outcome, reason_part = expected
    decision = decide_promotion(policy, challenger, champion, compatible)
    assert decision.outcome == outcome, decision.reason
    assert reason_part in decision.reason
    assert (
        decision.stage
        == {
            "champion": "Production",
            "challenger": "Staging",
            "development": "Development",
        }[outcome]
    )
    assert "\n" not in decision.reason


def test_tie_cases_really_need_the_tolerance():
    # Guards the table above: without the 1e-12 tolerance these ties would not promote.
    assert 0.57 - 0.56 < 0.01
    assert 0.41 - 0.39 < 0.02
    assert 0.42 - 0.40 < 0.05 * 0.40


def test_decision_numbers_are_recorded():
    decision = decide_promotion(MAXIMIZE, m(0.742), m(0.721))
    assert decision.metric == "macro_f1"
    assert decision.challenger_value == 0.742
    assert decision.champion_value == 0.721
    assert decision.delta == pytest.approx(0.021)
    assert decision.required == 0.01
    assert decision.promoted


def test_no_floor():
    policy = PromotionPolicy(floor=None)
    assert decide_promotion(policy, m(0.01), None).outcome == "champion"


def test_policy_from_parameters_fills_defaults():
    policy = PromotionPolicy.model_validate(
        {
            "metric": "log_loss",
            "direction": "minimize",
            "threshold": 1,
            "threshold_type": "relative",
            "floor": 2,
            "significance": {"enabled": True, "resamples": 500},
        }
    )
    assert (policy.direction, policy.threshold, policy.floor) == ("minimize", 1.0, 2.0)
    assert policy.significance.enabled
    assert policy.significance.resamples == 500
    assert policy.significance.confidence == 0.95


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"treshold": 0.01}, "lifecycle.promotion.treshold = 0.01: unknown key"),
        ({"direction": "up"}, "lifecycle.promotion.direction = 'up': expected one of maximize"),
        ({"threshold_type": "percent"}, "expected one of absolute, relative"),
        ({"threshold": -0.1}, "lifecycle.promotion.threshold = -0.1: expected a number >= 0"),
        ({"significance": {"confidence": 95}}, r"expected a number in \(0, 1\)"),
        ({"significance": {"seeds": 1}}, "significance.seeds = 1: unknown key"),
        ({"metric": "macro_f2"}, "expected a metric the training run computes"),
    ],
)
def test_policy_parameters_reject_bad_values(values, message):
    with pytest.raises(InvalidParameters, match=message):
        LifecycleSettings.from_params({"model_name": "m", "promotion": values})


GUARDED = PromotionPolicy.model_validate({"significance": {"enabled": True}})


def correctness(rng: np.random.Generator, accuracy: float, n: int) -> np.ndarray:
    return rng.random(n) < accuracy


def test_significance_guard_rejects_noisy_gain():
    # Equal true accuracy on 150 rows: any observed gain is noise.
    rng = np.random.default_rng(7)
    pair = (correctness(rng, 0.7, 150), correctness(rng, 0.7, 150))
    decision = decide_promotion(GUARDED, m(0.75), m(0.72), paired_correct=pair)
    assert decision.outcome == "challenger"
    low, high = decision.confidence_interval
    assert low <= 0 < high
    assert "not significant: paired 95% CI [" in decision.reason
    assert "n=150" in decision.reason


def test_significance_guard_accepts_real_gain():
    rng = np.random.default_rng(7)
    pair = (correctness(rng, 0.85, 1000), correctness(rng, 0.65, 1000))
    decision = decide_promotion(GUARDED, m(0.80), m(0.62), paired_correct=pair)
    assert decision.outcome == "champion"
    assert decision.confidence_interval[0] > 0
    assert "significant: paired 95% CI [+0." in decision.reason


def test_significance_guard_without_paired_results_does_not_promote():
    decision = decide_promotion(GUARDED, m(0.80), m(0.62))
    assert decision.outcome == "challenger"
    assert "no paired per-row results" in decision.reason


def test_significance_guard_not_consulted_when_threshold_fails():
    decision = decide_promotion(GUARDED, m(0.62), m(0.62), paired_correct=None)
    assert decision.outcome == "challenger"
    assert decision.confidence_interval is None


def test_bootstrap_is_reproducible_and_paired():
    rng = np.random.default_rng(0)
    a = rng.random(300)
    assert paired_bootstrap_ci(a, a) == (0.0, 0.0)  # identical models: no difference at all
    b = rng.random(300)
    assert paired_bootstrap_ci(a, b, seed=1) == paired_bootstrap_ci(a, b, seed=1)


def test_bootstrap_rejects_unpaired_arrays():
    with pytest.raises(ValueError, match="same holdout rows"):
        paired_bootstrap_ci(np.ones(3), np.ones(4))


def test_format_decision_line():
    decision = decide_promotion(MAXIMIZE, m(0.742), m(0.721))
    line = format_decision_line("future-skills-model", 7, "1.3.0", decision)
    assert line == (
        "future-skills-model v7 = 1.3.0 -> champion: macro_f1 0.742 vs 0.721 (+0.021 >= 0.010)"
    )


# ---------------------------------------------------------------- non-inferiority per slice
SLICE_RULE = PromotionPolicy(non_inferiority={"enabled": True, "margin": 0.05, "min_rows": 200})


def slice_row(value, challenger, champion, rows=500, column="department"):
    return {
        "slice": column,
        "value": value,
        "rows": rows,
        "challenger": challenger,
        "champion": champion,
        "metric": "macro_f1",
    }


def test_a_candidate_worse_on_one_department_stays_challenger_naming_it():
    slices = [
        slice_row("Finance", 0.41, 0.62),
        slice_row("Sales", 0.80, 0.55),
        slice_row("senior", 0.70, 0.60, column="seniority"),
    ]
    decision = decide_promotion(SLICE_RULE, m(0.70), m(0.60), slices=slices)
    assert decision.outcome == "challenger"
    assert decision.stage == "Staging"
    assert "worse on department=Finance: macro_f1 0.410 vs 0.620" in decision.reason
    assert "trails by 0.210 > margin 0.050, n=500" in decision.reason
    assert decision.reason.startswith("macro_f1 0.700 vs 0.600 (+0.100 >= 0.010)")
    assert decision.worst_slice["value"] == "Finance"


@pytest.mark.parametrize(
    ("policy", "slices"),
    [
        # The rule is off by default: the table does not decide.
        (MAXIMIZE, [slice_row("Finance", 0.41, 0.62)]),
        # Within the margin (exactly at it promotes).
        (SLICE_RULE, [slice_row("Finance", 0.57, 0.62)]),
        # Too few rows to judge.
        (SLICE_RULE, [slice_row("Finance", 0.10, 0.62, rows=199)]),
        # A column the rule does not judge.
        (SLICE_RULE, [slice_row("Data", 0.10, 0.62, column="skill_category")]),
        # No champion figure on that slice.
        (SLICE_RULE, [slice_row("Finance", 0.10, None)]),
    ],
)
def test_slices_that_do_not_trigger_the_rule_leave_the_promotion(policy, slices):
    assert decide_promotion(policy, m(0.70), m(0.60), slices=slices).outcome == "champion"


def test_the_rule_without_slice_results_keeps_the_candidate_challenger():
    decision = decide_promotion(SLICE_RULE, m(0.70), m(0.60), slices=None)
    assert decision.outcome == "challenger"
    assert "non-inferiority rule has no per-slice results" in decision.reason


def test_the_rule_is_direction_aware_and_names_the_worst_slice():
    policy = PromotionPolicy(
        metric="log_loss",
        direction="minimize",
        threshold=0.02,
        floor=None,
        non_inferiority={"enabled": True, "margin": 0.05},
    )
    slices = [
        {**slice_row("3", 0.90, 0.80, column="horizon_years"), "metric": "log_loss"},
        {**slice_row("5", 1.20, 0.80, column="horizon_years"), "metric": "log_loss"},
        {**slice_row("1", 0.50, 0.90, column="horizon_years"), "metric": "log_loss"},
    ]
    decision = decide_promotion(policy, m(0.7, "log_loss"), m(0.8, "log_loss"), slices=slices)
    assert decision.outcome == "challenger"
    assert "worse on horizon_years=5: log_loss 1.200 vs 0.800" in decision.reason
    assert "(and 1 more slice(s))" in decision.reason


def test_non_inferiority_settings_are_checked_with_their_dotted_name():
    with pytest.raises(InvalidParameters, match=r"lifecycle\.promotion\.non_inferiority\.margin"):
        LifecycleSettings.from_params(
            {"model_name": "m", "promotion": {"non_inferiority": {"margin": -1}}}
        )
    with pytest.raises(InvalidParameters, match=r"non_inferiority\.slices"):
        LifecycleSettings.from_params(
            {"model_name": "m", "promotion": {"non_inferiority": {"slices": ["job_role"]}}}
        )
