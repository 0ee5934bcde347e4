"""The scoring model's environment check: the verdicts of MLflow's own, in milliseconds."""

from __future__ import annotations

import platform
from importlib.metadata import version

import pytest
from mlflow.utils.requirements_utils import _check_requirement_satisfied

from future_skills_kedro.model_requirements import (
    environment_warnings,
    model_pip_requirements,
    unmet_requirements,
)

NUMPY = version("numpy")
LINES = [
    f"numpy=={NUMPY}",
    "numpy==0.0.1",
    "scikit-learn>=1.0",
    "pandas>=99",
    "no-such-distribution-anywhere==1.0",
    "No_Such.Distribution-Anywhere",
    'pandas==0.1; python_version < "3"',  # the marker excludes this platform
    "pandas[performance]==0.1",
    "./wheels/local_package",
    "https://example.com/package-1.0-py3-none-any.whl",
    "--index-url https://example.com/simple",
    "# a comment",
    "",
]


def test_unmet_requirements_are_the_ones_mlflow_reports_in_its_words():
    mlflows = [str(found) for found in map(_check_requirement_satisfied, LINES) if found]

    assert unmet_requirements(LINES) == mlflows
    assert unmet_requirements(LINES) == [
        f"numpy (current: {NUMPY}, required: numpy==0.0.1)",
        f"pandas (current: {version('pandas')}, required: pandas>=99)",
        "no-such-distribution-anywhere (current: uninstalled, required: "
        "no-such-distribution-anywhere==1.0)",
        "No_Such.Distribution-Anywhere (current: uninstalled, required: "
        "No_Such.Distribution-Anywhere)",
        f"pandas (current: {version('pandas')}, required: pandas[performance]==0.1)",
    ]


def test_the_environment_that_trained_the_model_meets_its_requirements():
    assert unmet_requirements(model_pip_requirements()) == []
    assert environment_warnings(model_pip_requirements(), platform.python_version()) == []


@pytest.mark.parametrize(
    ("model_python", "expected"),
    [
        ("2.7.18", "`Python 2.7.18`, differs from the version of Python that is currently"),
        (None, "The specified model does not have a specified Python version"),
    ],
)
def test_a_model_saved_by_another_python_minor_or_none_is_warned_about(model_python, expected):
    (warning,) = environment_warnings([], model_python)
    assert expected in warning


def test_another_patch_release_of_python_is_not_warned_about():
    major, minor, _ = platform.python_version_tuple()
    assert environment_warnings([], f"{major}.{minor}.999") == []
