"""The data_engineering pipeline on a temporary project copy's raw files and catalog.

The real `kedro run` (a subprocess) where the command is the subject: the committed sample's run
and a failed run's one-line message. The quarantine and broken-file checks run the same
pipeline in-process with Kedro's runner, on the copy's catalog entries (same datasets, same
files), which is several times faster than starting `kedro`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, DatasetError, MemoryDataset
from kedro.runner import SequentialRunner

from future_skills_kedro.contract import FEATURE_COLUMNS, MODEL_INPUT_COLUMNS, RAW_FILES
from future_skills_kedro.pipelines.data_engineering import create_pipeline
from future_skills_kedro.pipelines.data_engineering.nodes import RawFileStructureError
from tests.conftest import kedro_env, run_kedro

pytestmark = pytest.mark.integration

REJECTED_ROWS = Path("data/02_intermediate/rejected_rows.csv")
REPORT = Path("data/08_reporting/data_quality_report.json")
MODEL_INPUT = Path("data/05_model_input/model_input_table.parquet")


def _run_data_engineering(project: Path):
    # A wide console: rich would otherwise wrap file paths and messages at 80 columns.
    env = kedro_env(project) | {"COLUMNS": "1000"}
    return run_kedro(project, "run", "--pipelines", "data_engineering", env=env)


def _run_in_process(project: Path) -> None:
    """The pipeline run by Kedro's runner on the copy's catalog entries (paths in the copy)."""
    conf = OmegaConfigLoader(str(project / "conf"), base_env="base", default_run_env="local")
    pipeline = create_pipeline()
    # Read once: each `conf[...]` parses every configuration file again (~0.2 s).
    catalog_config = conf["catalog"]
    entries = {}
    for name in pipeline.datasets():
        if name in catalog_config:
            entries[name] = dict(catalog_config[name])
            entries[name]["filepath"] = str(project / entries[name]["filepath"])
    catalog = DataCatalog.from_config(entries)
    params = conf["parameters"]["data_engineering"]
    catalog["params:data_engineering"] = MemoryDataset(params)
    for key, value in params.items():
        catalog[f"params:data_engineering.{key}"] = MemoryDataset(value)
    SequentialRunner().run(pipeline, catalog)


def _raw(project: Path, file: str) -> Path:
    return project / "data" / "01_raw" / f"{file}.csv"


def _read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def _rejected(project: Path) -> pd.DataFrame:
    return pd.read_csv(project / REJECTED_ROWS, dtype={"value": "str"}, keep_default_na=False)


def _labels_rows(project: Path) -> int:
    return len(_read_rows(_raw(project, "skill_need_labels"))) - 1


def test_run_on_committed_sample_builds_model_input_and_report(project_copy: Path):
    result = _run_data_engineering(project_copy)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    table = pd.read_parquet(project_copy / MODEL_INPUT)
    rejected = _rejected(project_copy)
    assert tuple(table.columns) == MODEL_INPUT_COLUMNS
    rejected_labels = rejected.loc[rejected["file"].eq("skill_need_labels.csv"), "row_number"]
    assert len(table) == _labels_rows(project_copy) - rejected_labels.nunique()
    assert table[list(FEATURE_COLUMNS)].notna().all().all()
    assert str(table["as_of_date"].dtype) == "datetime64[ns]"
    assert table.equals(
        table.sort_values(["as_of_date", "job_role_id", "skill_id", "horizon_years"])
    )

    report = json.loads((project_copy / REPORT).read_text())
    assert report["within_limits"]
    for file in RAW_FILES:
        stats = report["files"][f"{file}.csv"]
        assert stats["rows_in"] == len(_read_rows(_raw(project_copy, file))) - 1
        assert stats["rows_in"] == stats["rows_kept"] + stats["rows_rejected"]
    assert report["model_input_table"]["rows"] == len(table)
    assert sum(report["model_input_table"]["target_class_shares"].values()) == pytest.approx(1)
    assert report["model_input_table"]["as_of_date_range"]["max"] == (
        table["as_of_date"].max().strftime("%Y-%m-%d")
    )
    for file in ("job_roles", "skills", "market_signals"):
        assert (project_copy / "data" / "02_intermediate" / f"validated_{file}.parquet").exists()


def test_planted_bad_rows_are_quarantined_and_the_run_succeeds(project_copy: Path):
    # One bad row in each of three files: an appended job role, an appended market signal,
    # a modified label (line 2). None of them is referenced by another row.
    roles = _read_rows(_raw(project_copy, "job_roles"))
    department = roles[1][roles[0].index("department")]
    roles.append(["R_PLANTED", "Planted Role", department, "intern"])
    _write_rows(_raw(project_copy, "job_roles"), roles)

    signals = _read_rows(_raw(project_copy, "market_signals"))
    planted_signal = dict.fromkeys(signals[0], "0.5") | {
        "skill_id": signals[1][0],
        "as_of_date": "2099-12-31",
        "trend_score": "abc",
        "avg_salary_k": "100",
    }
    signals.append([planted_signal[column] for column in signals[0]])
    _write_rows(_raw(project_copy, "market_signals"), signals)

    labels = _read_rows(_raw(project_copy, "skill_need_labels"))
    labels[1][labels[0].index("future_need_level")] = "VERY HIGH"
    _write_rows(_raw(project_copy, "skill_need_labels"), labels)

    _run_in_process(project_copy)

    rejected = _rejected(project_copy)
    assert rejected.to_dict("records") == [
        {
            "file": "job_roles.csv",
            "row_number": len(roles),
            "column": "seniority",
            "value": "intern",
            "reason": "not one of junior, mid, senior, lead, manager",
        },
        {
            "file": "market_signals.csv",
            "row_number": len(signals),
            "column": "trend_score",
            "value": "abc",
            "reason": "not a number",
        },
        {
            "file": "skill_need_labels.csv",
            "row_number": 2,
            "column": "future_need_level",
            "value": "VERY HIGH",
            "reason": "not one of LOW, MEDIUM, HIGH",
        },
    ]
    table = pd.read_parquet(project_copy / MODEL_INPUT)
    assert len(table) == len(labels) - 2  # header and the planted label
    report = json.loads((project_copy / REPORT).read_text())
    assert report["files"]["job_roles.csv"]["rows_rejected"] == 1
    assert report["files"]["skill_need_labels.csv"]["rejected_by_reason"] == {
        "not one of LOW, MEDIUM, HIGH": 1
    }


def test_renamed_column_fails_naming_file_and_column(project_copy: Path):
    path = _raw(project_copy, "market_signals")
    header, *rows = _read_rows(path)
    _write_rows(path, [[("trend" if c == "trend_score" else c) for c in header], *rows])

    result = _run_data_engineering(project_copy)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "market_signals.csv: missing column(s) trend_score" in output
    assert "Columns found: skill_id, as_of_date, trend, " in output
    assert not (project_copy / MODEL_INPUT).exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "No columns to parse from file"),
        ("skill_id,skill_name,skill_category\n", "skills.csv: the file has a header but no rows"),
        (
            "skill_id,skill_name,skill_category\nS1,Python,programming\nS2,SQL,data,extra\n",
            "skills.csv: line 3 has 4 fields, the header has 3",
        ),
        (
            "skill_id,skill_name,skill_category\nS1,Python,programming,extra\n",
            "skills.csv: line 2 has 4 fields, the header has 3",
        ),
    ],
    ids=["empty", "header-only", "unparseable", "extra-field-on-line-2"],
)
def test_structurally_broken_file_fails_naming_the_file(project_copy, content, expected):
    _raw(project_copy, "skills").write_text(content, encoding="utf-8")

    # The raw dataset's load error, or the node's, as `kedro run` reports it.
    with pytest.raises((DatasetError, RawFileStructureError)) as failure:
        _run_in_process(project_copy)
    assert "skills.csv" in str(failure.value)
    assert expected in str(failure.value)
    assert not (project_copy / MODEL_INPUT).exists()
