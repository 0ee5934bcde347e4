"""`kedro models compare | card` and the per-slice rule on real training runs (real CLI,
real SQLite registry).

Two trainings, engineered on the raw labels of the training quarters only (the holdout, the
newest two quarters, stays as generated, so both versions are judged on the same true rows):
- v1: labels shuffled everywhere except Finance -> poor overall, fair on Finance; champion
  (floor 0 for this run);
- v2: labels shuffled only for Finance -> far better overall, worse on Finance; with the
  non-inferiority rule on it stays challenger and the reason names department=Finance.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import FAST_TRAINING_PARAMS, copy_project, mlflow_client, run_kedro

pytestmark = pytest.mark.integration

MODEL_NAME = "future-skills-model"
DEPARTMENT = "Finance"
LABELS = "data/01_raw/skill_need_labels.csv"


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout


def _one_line_error(result: subprocess.CompletedProcess, code: int, message: str) -> None:
    assert result.returncode == code, result.stdout[-2000:] + result.stderr[-3000:]
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr[-3000:]
    assert message in lines[0], lines[0]


def _shuffle_training_labels(project: Path, original: bytes, departments: set[str]) -> None:
    """The generated labels, shuffled (seeded) for ``departments`` before the holdout."""
    (project / LABELS).write_bytes(original)
    labels = pd.read_csv(project / LABELS)
    roles = pd.read_csv(project / "data/01_raw/job_roles.csv").set_index("job_role_id")
    department = labels["job_role_id"].map(roles["department"])
    holdout_from = np.sort(labels["as_of_date"].unique())[-2]
    rows = (labels["as_of_date"] < holdout_from) & department.isin(departments)
    shuffled = np.random.default_rng(0).permutation(labels.loc[rows, "future_need_level"])
    labels.loc[rows, "future_need_level"] = shuffled
    labels.to_csv(project / LABELS, index=False)


# Gradient boosting learns department-specific patterns, so labels shuffled for one
# department make it worse there; the additive default shares its effects across
# departments and hardly moves on the shuffled one.
BOOSTING = ",".join(
    [
        "training.model.algorithm=hist_gradient_boosting",
        "training.model.hyperparameters.hist_gradient_boosting.max_iter=20",
    ]
)


def _train(project: Path, extra: str) -> subprocess.CompletedProcess:
    params = f"{FAST_TRAINING_PARAMS},{BOOSTING},{extra}"
    return run_kedro(project, "run", "--pipelines", "training", "--params", params, timeout=1200)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    project = copy_project(tmp_path_factory.mktemp("governance"))
    original = (project / LABELS).read_bytes()
    departments = set(pd.read_csv(project / "data/01_raw/job_roles.csv")["department"])
    _shuffle_training_labels(project, original, departments - {DEPARTMENT})
    first = _ok(_train(project, "lifecycle.promotion.floor=0"))
    _shuffle_training_labels(project, original, {DEPARTMENT})
    second = _ok(_train(project, "lifecycle.promotion.non_inferiority.enabled=true"))
    return {"project": project, "first": first, "second": second}


def test_a_candidate_worse_on_one_department_stays_challenger_naming_it(trained):
    assert "v1 = 1.0.0 -> champion" in trained["first"]
    line = next(row for row in trained["second"].splitlines() if " v2 = " in row)
    assert "-> challenger: macro_f1" in line
    assert f"but worse on department={DEPARTMENT}: macro_f1" in line
    assert "> margin 0.050" in line
    client = mlflow_client(trained["project"])
    assert str(client.get_model_version_by_alias(MODEL_NAME, "champion").version) == "1"
    v2 = client.get_model_version(MODEL_NAME, "2")
    assert v2.tags["stage"] == "Staging"
    assert f"department={DEPARTMENT}" in v2.tags["promotion_reason"]
    # The slice table is in the run.
    path = client.download_artifacts(
        v2.run_id, "evaluation/slice_comparison.csv", str(trained["project"] / "dl")
    )
    table = pd.read_csv(path, dtype={"value": str})
    finance = table.loc[(table["slice"] == "department") & (table["value"] == DEPARTMENT)]
    assert len(finance) == 1 and finance["difference"].iloc[0] < -0.05
    assert set(table["slice"]) == {"department", "seniority", "horizon_years"}


def _cells(line: str) -> list[float]:
    return [float(x) for x in re.findall(r"[-+]?\d+\.\d{3}", line)]


def _table_row(table: str, heading: str, metric: str) -> list[float]:
    section = table.split(f"\n{heading}")[1]
    row = next(line for line in section.splitlines() if line.split()[:1] == [metric])
    return _cells(row)


def test_compare_intervals_exclude_zero_where_they_must_and_json_matches_table(trained):
    project = trained["project"]
    args = ("models", "compare", "1", "2", "--by", "department")
    document = json.loads(_ok(run_kedro(project, *args, "--format", "json")))
    table = _ok(run_kedro(project, *args))
    assert document["comparable"] is True
    assert document["a"]["version"] == 1 and document["b"]["version"] == 2
    overall = document["overall"]["macro_f1"]
    assert overall["low"] > 0  # v2 is better overall, and the interval says so
    finance = next(s for s in document["slices"] if s["value"] == DEPARTMENT)
    assert finance["metrics"]["macro_f1"]["high"] < 0  # ... and worse on Finance
    assert document["differences"]["data_hash"]["same"] is False
    assert document["differences"]["algorithm"]["same"] is True
    # The table prints the same numbers (3 decimals) as the JSON document.
    for heading, metrics in (
        ("overall", document["overall"]),
        (f"department = {DEPARTMENT} ({finance['rows']} rows)", finance["metrics"]),
    ):
        for name, m in metrics.items():
            expected = [m["a"], m["b"], m["difference"], m["low"], m["high"]]
            assert _table_row(table, heading, name) == pytest.approx(expected, abs=5e-4), name
    assert f"rows: {document['rows']['count']} (current holdout" in table
    # Seeded: the same command gives the same document.
    again = json.loads(_ok(run_kedro(project, *args, "--format", "json")))
    assert again == document


def test_the_card_is_the_version_description_and_the_run_artifact(trained):
    project = trained["project"]
    client = mlflow_client(project)
    card = _ok(run_kedro(project, "models", "card", "challenger"))
    v2 = client.get_model_version(MODEL_NAME, "2")
    assert card == v2.description
    artifact = client.download_artifacts(v2.run_id, "model_card.md", str(project / "card"))
    assert Path(artifact).read_text() == card
    assert card.startswith(f"# Model card: {MODEL_NAME} v2 (1.1.0)")
    assert f"| department | {DEPARTMENT} |" in card
    assert f"worse on department={DEPARTMENT}" in card
    assert "Champion v1 (1.0.0) scored on the same holdout rows" in card
    # Deterministic: regenerating from the run gives the very same card.
    assert _ok(run_kedro(project, "models", "card", "2", "--generate")) == card


def test_a_version_without_a_card_says_so_and_generate_writes_it(trained):
    project = trained["project"]
    client = mlflow_client(project)
    before = client.get_model_version(MODEL_NAME, "1").description
    client.update_model_version(MODEL_NAME, "1", description="")
    _one_line_error(run_kedro(project, "models", "card", "1"), 1, "card 1 --generate")
    generated = _ok(run_kedro(project, "models", "card", "1", "--generate"))
    assert generated == before
    assert _ok(run_kedro(project, "models", "card", "champion")) == generated


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("compare", "1", "9"), "has no version '9'"),
        (("compare", "nosuch", "1"), "has no version with alias 'nosuch'"),
        (("compare", "1", "2", "--quarter", "1999-03-31"), "--quarter 1999-03-31: no labelled"),
        (("card", "7.7.7"), "has no version '7.7.7'"),
        (("card", "v1.x"), "'v1.x' is not a version reference"),
    ],
)
def test_unknown_versions_aliases_and_quarters_are_one_line_usage_errors(trained, args, message):
    _one_line_error(run_kedro(trained["project"], "models", *args), 2, message)
