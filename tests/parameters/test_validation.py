"""validate_parameters in-process: one line naming the parameter, its value, what is allowed."""

from __future__ import annotations

import copy
import shutil
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader

from future_skills_kedro.parameters import InvalidParameters
from future_skills_kedro.parameters.project import catalog_entries, validate_parameters
from future_skills_kedro.settings import CONFIG_LOADER_ARGS

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PIPELINES = [
    "__default__",
    "data_engineering",
    "evaluation",
    "inference",
    "monitoring",
    "training",
    "tuning",
]


@cache
def _base() -> dict:
    conf = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base")
    return conf["parameters"]


def base_with(**changes) -> dict:
    """conf/base parameters with ``dotted__name=value`` changes (None value: key removed)."""
    params = copy.deepcopy(_base())
    for name, value in changes.items():
        *parents, key = name.split("__")
        section = params
        for parent in parents:
            section = section.setdefault(parent, {})
        if value is None:
            del section[key]
        else:
            section[key] = value
    return params


def problem(params: dict, **options) -> str:
    with pytest.raises(InvalidParameters) as raised:
        validate_parameters(params, pipelines=PIPELINES, **options)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_the_project_parameters_are_valid():
    parameters = validate_parameters(_base(), pipelines=PIPELINES, check_estimators=True)
    assert parameters.lifecycle.promotion.metric == "macro_f1"
    assert parameters.monitoring.window.end_date is None


def test_wrong_type():
    message = problem(base_with(lifecycle__promotion__threshold="abc"))
    assert message == "lifecycle.promotion.threshold = 'abc': expected a number >= 0"


def test_unknown_key():
    message = problem(base_with(lifecycle__promotion__treshold=0.02))
    assert message.startswith(
        "lifecycle.promotion.treshold = 0.02: unknown key (did you mean threshold?); "
        "known keys: metric, direction, threshold,"
    )


def test_out_of_range():
    message = problem(base_with(data_engineering__max_rejected_share=1.5))
    assert message == "data_engineering.max_rejected_share = 1.5: expected a number in [0, 1]"


def test_unknown_metric_names_the_metrics_training_computes():
    message = problem(base_with(lifecycle__promotion__metric="macro_f2"))
    assert message.startswith(
        "lifecycle.promotion.metric = 'macro_f2': expected a metric the training run computes "
        "(did you mean macro_f1?): one of accuracy, macro_precision,"
    )
    assert "log_loss" in message  # from scoring.classification_metrics itself


def test_cross_field_rules():
    assert problem(base_with(lifecycle__promotion__metric="log_loss")) == (
        "lifecycle.promotion.direction = 'maximize': expected minimize: lower log_loss is better"
    )
    snapshot = {"horizons": [1, 5]}
    assert problem(base_with(inference__snapshot=snapshot)) == (
        "inference.recommendations.horizons = [1, 3, 5]: "
        "expected horizons that inference.snapshot.horizons scores (1, 5)"
    )
    assert problem(
        base_with(monitoring__drift__per_column={"avg_salary_k": {"method": "chisquare"}})
    ).startswith(
        "monitoring.drift.per_column.avg_salary_k.method = 'chisquare': "
        "expected a method for numeric columns: one of ks, wasserstein,"
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"monitoring__window__end_date": "30/06/2025"},
            "monitoring.window.end_date = '30/06/2025': expected a date YYYY-MM-DD or null",
        ),
        (
            {"monitoring__window__end_date": 20250630},  # not read as seconds since 1970
            "monitoring.window.end_date = 20250630: expected a date YYYY-MM-DD or null",
        ),
        ({"monitoring__window__days": 0}, "monitoring.window.days = 0: expected an integer >= 1"),
        (
            {"monitoring__exit_policy__fail_on": "sometimes"},
            "monitoring.exit_policy.fail_on = 'sometimes': expected one of unhealthy, degraded, "
            "never",
        ),
        (
            {"monitoring__drift__numeric": {"method": "kolmogorov"}},
            "monitoring.drift.numeric.method = 'kolmogorov': expected one of ks, wasserstein, "
            "chisquare, jensenshannon, psi, psi_quantile, mean_shift",
        ),
        (
            {"inference__snapshot__horizons": [1, 2]},
            "inference.snapshot.horizons[1] = 2: expected one of 1, 3, 5",
        ),
        (
            {"inference__recommendations__rule_order": ["TRAIN", "HIRE"]},
            'inference.recommendations.rule_order = ["TRAIN", "HIRE"]: '
            "expected TRAIN, HIRE, RESKILL, each once",
        ),
        (
            {"training__split__strategy": "by_hand"},
            "training.split.strategy = 'by_hand': expected one of time, stratified",
        ),
        (
            {"evaluation__min_rows": True},  # true is not the number 1
            "evaluation.min_rows = true: expected an integer >= 1",
        ),
        (
            {"scoring_alias": "best"},
            "scoring_alias = 'best': expected one of champion, challenger or null",
        ),
    ],
)
def test_values_are_named_with_what_is_allowed(changes, expected):
    assert problem(base_with(**changes)) == expected


@pytest.mark.parametrize(
    ("changes", "start"),
    [
        (
            {"monitoring__health__rules__model_age__signal": "model_age"},
            "monitoring.health.rules.model_age.signal = 'model_age': expected one of drift_share,",
        ),
        (
            {"monitoring__drift__per_column": {"salary": {"method": "psi"}}},
            "monitoring.drift.per_column.salary: unknown key (did you mean avg_salary_k?); "
            "expected one of job_role_name,",
        ),
        (
            {"data_engineering__max_rejected_share_per_file": {"market_signal": 0.1}},
            "data_engineering.max_rejected_share_per_file.market_signal: unknown key "
            "(did you mean market_signals?); expected one of job_roles,",
        ),
        (
            {"training__model__excluded_features": ["avg_salary"]},
            "training.model.excluded_features[0] = 'avg_salary': expected one of job_role_name,",
        ),
        (
            {"mlflow_experiments__inferense": "future-skills-prediction"},
            "mlflow_experiments.inferense = 'future-skills-prediction': not a registered "
            "pipeline (did you mean inference?)",
        ),
        (
            {"trainig": {}},
            "trainig = {}: unknown key (did you mean training?); known keys: mlflow_experiments,",
        ),
    ],
)
def test_keys_and_items_are_named(changes, start):
    assert problem(base_with(**changes)).startswith(start)


def test_hyperparameters_are_checked_by_scikit_learn_when_the_run_fits_a_model():
    typo = base_with(training__model__hyperparameters__hist_gradient_boosting__max_iters=3)
    validate_parameters(typo, pipelines=PIPELINES)  # not fitting a model: not imported
    assert problem(typo, check_estimators=True) == (
        "training.model.hyperparameters.hist_gradient_boosting.max_iters = 3: "
        "not a parameter of HistGradientBoostingClassifier (did you mean max_iter?)"
    )
    wrong = base_with(training__model__hyperparameters__hist_gradient_boosting__max_iter="abc")
    assert problem(wrong, check_estimators=True) == (
        "training.model.hyperparameters.hist_gradient_boosting.max_iter = 'abc': "
        "expected an int in the range [1, inf) (HistGradientBoostingClassifier)"
    )


def test_several_problems_are_one_line_naming_the_others():
    message = problem(
        base_with(monitoring__window__days=0, evaluation__min_rows=-1, lifecycle__lock_timeout_s=0)
    )
    assert message == (
        "evaluation.min_rows = -1: expected an integer >= 1 "
        "(and 2 more: monitoring.window.days, lifecycle.lock_timeout_s)"
    )


def test_defaults_live_in_the_models_and_reach_the_nodes():
    params = base_with(monitoring__window__days=None, inference__snapshot=None)
    parameters = validate_parameters(params, pipelines=PIPELINES)
    entries = catalog_entries(parameters)
    assert entries["params:monitoring.window.days"] == 7
    assert entries["params:inference.snapshot"] == {
        "as_of_date": None,
        "horizons": [1, 3, 5],
        "max_rejected_share": 0.2,
    }
    # A null drift threshold is the method's Evidently default, decided once, here.
    per_column = validate_parameters(
        base_with(monitoring__drift__per_column={"trend_score": {"method": "ks"}}),
        pipelines=PIPELINES,
    ).monitoring.drift.per_column
    assert per_column["trend_score"].threshold == 0.05
    # --params end_date=2025-06-30 arrives as text; nodes get a date.
    window = validate_parameters(
        base_with(monitoring__window__end_date="2025-06-30"), pipelines=PIPELINES
    ).monitoring.window
    assert window.end_date == date(2025, 6, 30)
    assert entries["parameters"]["lifecycle"]["promotion"]["metric"] == "macro_f1"


def test_a_local_parameters_file_overrides_only_the_keys_it_names(tmp_path):
    """A documented per-environment override (docs/prediction-logs.md) keeps the rest."""
    conf = tmp_path / "conf"
    shutil.copytree(PROJECT_ROOT / "conf" / "base", conf / "base")
    (conf / "local").mkdir()
    (conf / "local" / "parameters_monitoring.yml").write_text(
        "monitoring:\n  window:\n    purposes: [production, shadow]\n"
        "lifecycle:\n  promotion:\n    threshold: 0.02\n"
    )
    # with a --params value for yet another key of a section the local file names
    runtime = {"lifecycle": {"semver_override": "2.0.0"}}
    params = OmegaConfigLoader(str(conf), runtime_params=runtime, **CONFIG_LOADER_ARGS)[
        "parameters"
    ]

    assert params["monitoring"]["window"]["purposes"] == ["production", "shadow"]
    base = _base()
    assert params["monitoring"]["window"].keys() == base["monitoring"]["window"].keys()
    assert params["lifecycle"]["promotion"]["threshold"] == 0.02
    assert params["lifecycle"]["semver_override"] == "2.0.0"
    assert params["lifecycle"]["promotion"]["floor"] == base["lifecycle"]["promotion"]["floor"]
    assert params["lifecycle"]["model_name"] == base["lifecycle"]["model_name"]
    validate_parameters(params, pipelines=PIPELINES)
