"""The pipeline, run in-process by Kedro's runner on memory datasets, and its catalog entries."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, DatasetError, MemoryDataset
from kedro.runner import SequentialRunner

from future_skills_kedro.contract import MODEL_INPUT_COLUMNS
from future_skills_kedro.pipelines.data_engineering import create_pipeline
from future_skills_kedro.pipelines.data_engineering.nodes import RejectedShareError

from .raw_tables import valid_raw_tables

PROJECT_ROOT = Path(__file__).resolve().parents[3]
OUTPUTS = (
    "model_input_table",
    "rejected_rows",
    "data_quality_report",
    "validated_job_roles",
    "validated_skills",
    "validated_market_signals",
    "validated_economic_indicators",
    "validated_internal_signals",
)


@cache
def _conf() -> dict[str, dict]:
    """The catalog and parameters, read once: each `loader[...]` parses every file again."""
    loader = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base")
    return {"catalog": loader["catalog"], "parameters": loader["parameters"]}


def _catalog(raw: dict[str, pd.DataFrame | Path], tmp_path: Path, **param_overrides) -> DataCatalog:
    """Hand-made raw tables in memory, or raw files read by their catalog entry; outputs
    as declared in the catalog, under tmp_path."""
    conf = _conf()
    entries = {}
    for name in [*OUTPUTS, *(name for name, table in raw.items() if isinstance(table, Path))]:
        config = dict(conf["catalog"][name])
        path = raw.get(name)
        config["filepath"] = str(
            path if isinstance(path, Path) else tmp_path / Path(config["filepath"]).name
        )
        entries[name] = config
    catalog = DataCatalog.from_config(entries)
    params = conf["parameters"]["data_engineering"] | param_overrides
    catalog["params:data_engineering"] = MemoryDataset(params)
    for key, value in params.items():
        catalog[f"params:data_engineering.{key}"] = MemoryDataset(value)
    for name, table in raw.items():
        if not isinstance(table, Path):
            catalog[name] = MemoryDataset(table)
    return catalog


def _run(raw: dict[str, pd.DataFrame], tmp_path: Path) -> DataCatalog:
    return _run_catalog(_catalog(raw, tmp_path))


def _run_catalog(catalog: DataCatalog) -> DataCatalog:
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog


def test_pipeline_builds_model_input_and_report(tmp_path: Path):
    catalog = _run(valid_raw_tables(), tmp_path)
    table = catalog.load("model_input_table")
    assert tuple(table.columns) == MODEL_INPUT_COLUMNS
    assert len(table) == 4
    assert str(table["as_of_date"].dtype) == "datetime64[ns]"
    # Written with its header although nothing was rejected.
    rejected_text = (tmp_path / "rejected_rows.csv").read_text()
    assert rejected_text.strip() == "file,row_number,column,value,reason"
    report = catalog.load("data_quality_report")
    assert report["within_limits"]
    assert report["files"]["skill_need_labels.csv"]["rows_kept"] == 4
    assert len(catalog.load("validated_market_signals")) == 3


def test_failed_gate_leaves_rejected_rows_and_report_but_publishes_nothing(tmp_path: Path):
    raw = valid_raw_tables()
    raw["market_signals"].loc[0, "trend_score"] = "abc"  # 1 of 3 rows, > 5 %
    catalog = _catalog(raw, tmp_path)
    with pytest.raises(RejectedShareError, match=r"market_signals\.csv: 1 of 3 rows"):
        SequentialRunner().run(create_pipeline(), catalog)
    assert catalog.load("rejected_rows")["value"].tolist()[0] == "abc"
    assert not catalog.load("data_quality_report")["within_limits"]
    assert not catalog.exists("model_input_table")
    assert not catalog.exists("validated_skills")


def test_without_labels_the_signal_files_are_validated_and_gated_and_labels_never_read(
    tmp_path: Path,
):
    raw = valid_raw_tables()
    del raw["skill_need_labels"]  # inference's run: no label file at all
    catalog = _catalog(raw, tmp_path)
    SequentialRunner().run(create_pipeline(labels=False), catalog)
    report = catalog.load("data_quality_report")
    assert set(report["files"]) == {
        "job_roles.csv",
        "skills.csv",
        "market_signals.csv",
        "economic_indicators.csv",
        "internal_signals.csv",
    }
    assert "model_input_table" not in report
    assert len(catalog.load("validated_internal_signals")) == 3
    assert not catalog.exists("model_input_table")

    # The gate still holds for the files it reads.
    raw["internal_signals"].loc[0, "training_requests"] = "-1"
    catalog = _catalog(raw, tmp_path / "bad")
    with pytest.raises(RejectedShareError, match=r"internal_signals\.csv: 1 of 3 rows"):
        SequentialRunner().run(create_pipeline(labels=False), catalog)
    assert catalog.load("rejected_rows")["value"].astype("str").tolist() == ["-1"]
    assert not catalog.exists("validated_internal_signals")


def test_every_label_rejected_fails_on_the_gate_not_on_a_crash(tmp_path: Path):
    raw = valid_raw_tables()
    raw["skills"]["skill_category"] = ""  # every skill, hence every label, rejected
    catalog = _catalog(raw, tmp_path)
    with pytest.raises(RejectedShareError, match=r"skill_need_labels\.csv: 4 of 4 rows"):
        SequentialRunner().run(create_pipeline(), catalog)
    report = catalog.load("data_quality_report")
    assert report["model_input_table"]["rows"] == 0


def test_rejected_row_after_a_value_spanning_two_lines_gives_its_csv_line(tmp_path: Path):
    # The real catalog entry reads the file: S1's quoted name spans lines 2-3, so the row
    # missing its category is line 5 of the file (record 4).
    skills = tmp_path / "skills.csv"
    skills.write_text(
        "skill_id,skill_name,skill_category\n"
        'S1,"Python\n(the language)",programming\n'
        "S2,SQL,data\n"
        "S3,Go,\n"
    )
    raw = valid_raw_tables() | {"skills": skills}
    catalog = _run_catalog(_catalog(raw, tmp_path, max_rejected_share_per_file={"skills": 0.5}))
    rejected = pd.read_csv(tmp_path / "rejected_rows.csv", keep_default_na=False)
    assert rejected.to_dict("records") == [
        {
            "file": "skills.csv",
            "row_number": 5,
            "column": "skill_category",
            "value": "",
            "reason": "missing value",
        }
    ]
    validated = catalog.load("validated_skills")
    assert validated["row_number"].tolist() == [2, 4]
    assert validated["skill_name"].tolist() == ["Python\n(the language)", "SQL"]


def test_file_that_is_not_utf8_fails_naming_file_and_line_before_anything_is_saved(
    tmp_path: Path,
):
    skills = tmp_path / "skills.csv"
    # Line 3 saved as Latin-1 (é = 0xe9), the rest is ASCII.
    skills.write_bytes(
        "skill_id,skill_name,skill_category\nS1,Python,programming\nS2,Café,data\n".encode(
            "latin-1"
        )
    )
    catalog = _catalog(valid_raw_tables() | {"skills": skills}, tmp_path)
    with pytest.raises(DatasetError) as error:
        SequentialRunner().run(create_pipeline(), catalog)
    assert 'skills.csv: line 3 is not valid UTF-8 text (byte 0xe9 in "S2,Caf\\xe9,data")' in (
        str(error.value)
    )
    assert not [name for name in OUTPUTS if catalog.exists(name)]


def test_pipeline_nodes_are_named_and_tagged():
    pipeline = create_pipeline()
    names = {node.name for node in pipeline.nodes}
    assert {
        "data_engineering.validate_market_signals",
        "data_engineering.enforce_rejected_share_limit",
    } <= names
    assert {node.namespace for node in pipeline.nodes} == {"data_engineering"}  # kedro viz group
    assert pipeline.only_nodes_with_tags("validation").nodes
    assert pipeline.only_nodes_with_tags("features").nodes
    assert set(pipeline.inputs()) == {
        "job_roles",
        "skills",
        "market_signals",
        "economic_indicators",
        "internal_signals",
        "skill_need_labels",
        "params:data_engineering",
        "params:data_engineering.require_quarter_end_dates",
        "params:data_engineering.failure_cases_in_error",
    }


def test_catalog_declares_every_persisted_dataset_with_a_layer():
    catalog_conf = _conf()["catalog"]
    layers = {
        name: catalog_conf[name]["metadata"]["kedro-viz"]["layer"]
        for name in (*valid_raw_tables(), *OUTPUTS)
    }
    assert layers["skill_need_labels"] == "raw"
    assert layers["rejected_rows"] == "intermediate"
    assert layers["model_input_table"] == "model_input"
    # intermediate: the quality gate reads it upstream of the published tables (acyclic layers)
    assert layers["data_quality_report"] == "intermediate"
    assert catalog_conf["market_signals"]["type"].endswith("raw_csv.RawCSVDataset")
    assert not [
        name for name in catalog_conf if name.startswith(("schema_checked_", "referenced_"))
    ]


def test_raw_catalog_entry_reads_every_value_as_text(tmp_path: Path):
    config = dict(_conf()["catalog"]["skills"])
    path = tmp_path / "skills.csv"
    path.write_text("skill_id,skill_name,skill_category\nNA,null,001\n")
    config["filepath"] = str(path)
    catalog = DataCatalog.from_config({"skills": config})
    assert catalog.load("skills").values.tolist() == [["NA", "null", "001"]]
