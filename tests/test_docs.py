"""docs/ is the project's reference: it refers to nothing outside the repository and stays
true to the code it describes (contract, catalog, pipelines, lifecycle, monitoring)."""

from __future__ import annotations

import ast
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"
# Spelled in two parts so that this file does not name them itself.
OUTSIDE_REFERENCES = ("ARCHITECTURE" + ".md", ".." + "/shared")
_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+")
_MARKDOWN_LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)\)")
_DOCS_PATH = re.compile(r"(?<![\w./-])docs/[\w./-]*")
_MD_NAME = re.compile(r"(?<![\w./-])[\w./-]*\w\.md(?!\w)")


# ---------------------------------------------------------------- helpers
@cache
def _tracked_files() -> tuple[Path, ...]:
    """The repository's files (git's list; every file but ignored ones without git)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout.decode()
        paths = [PROJECT_ROOT / name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        ignored = {".git", ".venv", "data", "mlruns", "test-artifacts", "__pycache__"}
        paths = [
            path
            for path in PROJECT_ROOT.rglob("*")
            if path.is_file() and not ignored & set(path.relative_to(PROJECT_ROOT).parts)
        ]
    return tuple(path for path in paths if path.exists())


@cache
def _text_files() -> dict[Path, str]:
    """Tracked text files, except the data sample (CSV and the generator's figures)."""
    texts = {}
    for path in _tracked_files():
        if path.relative_to(PROJECT_ROOT).parts[0] == "data":
            continue
        try:
            texts[path] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # images
    return texts


@cache
def _catalog() -> dict:
    catalog = yaml.safe_load((PROJECT_ROOT / "conf/base/catalog.yml").read_text())
    return {name: entry for name, entry in catalog.items() if not name.startswith("_")}


def _output_file_names() -> set[str]:
    """Files the pipelines write (catalog file paths), by name and by MLflow artifact path,
    and the model card the lifecycle hook logs with each training run."""
    from future_skills_kedro.lifecycle.model_card import CARD_ARTIFACT

    names = {CARD_ARTIFACT}
    for entry in _catalog().values():
        filepath = entry.get("filepath") or (entry.get("dataset") or {}).get("filepath")
        if filepath:
            name = Path(filepath).name
            names |= {filepath, name}
            if entry.get("artifact_path"):
                names.add(f"{entry['artifact_path']}/{name}")
    return names


def _exists(mention: str, mentioned_in: Path) -> bool:
    """A path relative to the mentioning file or to the root; a bare name anywhere."""
    mention = mention.split("#", maxsplit=1)[0].rstrip("/.")
    if not mention:
        return True
    if "/" not in mention and mention.endswith(".md"):
        named = any(path.name == mention for path in _tracked_files())
        return named or (mentioned_in.parent / mention).exists()
    return any((base / mention).resolve().exists() for base in (mentioned_in.parent, PROJECT_ROOT))


def _doc(name: str) -> str:
    return (DOCS / name).read_text()


def _section(text: str, heading: str) -> str:
    """The text under the first heading containing ``heading``, up to the next heading."""
    match = re.search(rf"^#+ .*{re.escape(heading)}.*$", text, flags=re.MULTILINE)
    assert match, f"no heading with {heading!r}"
    rest = text[match.end() :]
    following = re.search(r"^#+ ", rest, flags=re.MULTILINE)
    return rest[: following.start()] if following else rest


def _table_rows(text: str) -> list[list[str]]:
    """Cells of the Markdown table rows in ``text`` (header and separator rows excluded)."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows[1:] if rows else rows  # first row: the header


def _code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


# ---------------------------------------------------------------- self-contained repository
def test_no_tracked_file_refers_outside_the_repository():
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): [ref for ref in OUTSIDE_REFERENCES if ref in text]
        for path, text in _text_files().items()
    }
    assert {path: refs for path, refs in offenders.items() if refs} == {}


def test_every_document_path_a_file_mentions_exists():
    outputs = _output_file_names()
    missing = []
    for path, raw_text in _text_files().items():
        text = _URL.sub("", raw_text)
        mentions = set(_DOCS_PATH.findall(text)) | set(_MD_NAME.findall(text))
        if path.suffix in (".md", ".ipynb"):
            mentions |= {
                link
                for link in _MARKDOWN_LINK.findall(text)
                if not link.startswith(("#", "mailto:")) and "{" not in link
            }
        for mention in mentions:
            if mention in outputs or mention.startswith("data/"):
                continue  # a file the pipelines write, not a document
            if not _exists(mention, path):
                missing.append(f"{path.relative_to(PROJECT_ROOT)}: {mention}")
    assert missing == []


def test_the_path_check_catches_a_missing_document():
    note = PROJECT_ROOT / "README.md"
    assert _exists("docs/pipelines.md", note)
    assert _exists("lifecycle.md", DOCS / "pipelines.md")
    # Built at run time: this file itself must pass the check.
    missing_page, other = "no-such-page", "STYLE"
    assert not _exists(f"docs/{missing_page}.md", note)
    assert not _exists(f"{missing_page}.md", note)
    sentence = f"see {other}.md and docs/{missing_page}.md"
    assert _MD_NAME.findall(sentence) == [f"{other}.md", f"docs/{missing_page}.md"]
    assert _DOCS_PATH.findall("in docs/operations.md, not x.org/docs/y") == ["docs/operations.md"]


# ---------------------------------------------------------------- data contract
def test_contract_page_lists_each_raw_file_s_key_columns_and_rejection_reasons():
    from future_skills_kedro.contract import RAW_FILES
    from future_skills_kedro.pipelines.data_engineering.schemas import (
        MISSING_VALUE,
        csv_file_name,
        raw_schema,
    )

    page = _doc("data-contract.md")
    for file, (keys, columns) in RAW_FILES.items():
        section = _section(page, f"`{csv_file_name(file)}`")
        key_line = next(line for line in section.splitlines() if line.startswith("Key:"))
        assert tuple(_code_spans(key_line)) == keys, file
        rows = _table_rows(section)
        assert [_code_spans(row[0])[0] for row in rows] == list(columns), file
        schema = raw_schema(file, require_quarter_end_dates=True)
        for row in rows:
            column = _code_spans(row[0])[0]
            documented = set(_code_spans(row[2]))
            checked = {MISSING_VALUE} | {check.error for check in schema.columns[column].checks}
            assert documented == checked, f"{file}.{column}"


def test_contract_page_lists_the_model_input_table_columns_and_types():
    from pandera.engines.pandas_engine import Engine

    from future_skills_kedro.pipelines.data_engineering.schemas import model_input_schema

    section = _section(_doc("data-contract.md"), "The model-input table")
    documented = {_code_spans(row[0])[0]: _code_spans(row[2])[0] for row in _table_rows(section)}
    schema = model_input_schema()
    assert list(documented) == list(schema.columns)
    for name, column in schema.columns.items():
        assert Engine.dtype(documented[name]) == column.dtype, name


def test_contract_page_lists_rejected_rows_columns_and_every_quality_report_field(tmp_path):
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner
    from kedro_datasets.json import JSONDataset

    from future_skills_kedro.pipelines.data_engineering import create_pipeline
    from future_skills_kedro.pipelines.data_engineering.nodes import REJECTED_ROWS_COLUMNS
    from tests.pipelines.data_engineering.raw_tables import valid_raw_tables

    page = _doc("data-contract.md")
    rejected = _section(page, "`rejected_rows.csv`")
    assert [_code_spans(row[0])[0] for row in _table_rows(rejected)] == list(REJECTED_ROWS_COLUMNS)

    params = yaml.safe_load(
        (PROJECT_ROOT / "conf/base/parameters_data_engineering.yml").read_text()
    )["data_engineering"]
    catalog = DataCatalog(
        {name: MemoryDataset(table) for name, table in valid_raw_tables().items()}
    )
    catalog["params:data_engineering"] = MemoryDataset(params)
    for key, value in params.items():
        catalog[f"params:data_engineering.{key}"] = MemoryDataset(value)
    # A file, as in the catalog: the runner releases memory datasets once consumed.
    catalog["data_quality_report"] = JSONDataset(filepath=str(tmp_path / "report.json"))
    SequentialRunner().run(create_pipeline(), catalog)
    report = catalog.load("data_quality_report")
    produced = {
        *(f"files.<file>.{key}" for key in next(iter(report["files"].values()))),
        *(f"model_input_table.{key}" for key in report["model_input_table"]),
        *(key for key in report if key not in ("files", "model_input_table")),
    }
    section = _section(page, "`data_quality_report.json`")
    assert {_code_spans(row[0])[0] for row in _table_rows(section)} == produced


# ---------------------------------------------------------------- pipelines and datasets
def test_pipelines_page_lists_every_catalog_dataset_with_its_path_and_layer():
    rows = _table_rows(_section(_doc("pipelines.md"), "Datasets"))
    documented = {_code_spans(row[0])[0]: row for row in rows}
    catalog = _catalog()
    assert set(documented) == set(catalog)
    for name, entry in catalog.items():
        _, where, layer = documented[name]
        assert layer == entry["metadata"]["kedro-viz"]["layer"], name
        filepath = entry.get("filepath") or entry.get("path")
        filepath = filepath or (entry.get("dataset") or {}).get("filepath")
        if filepath:
            assert filepath in where, name
        if entry.get("artifact_path"):
            assert f"MLflow artifact `{entry['artifact_path']}/`" in where, name


def test_pipelines_page_names_every_node_and_each_pipeline_s_experiment():
    from kedro.framework.project import pipelines
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(PROJECT_ROOT)
    page = _doc("pipelines.md")
    spans = set(_code_spans(page))
    for name, pipeline in pipelines.items():
        for node in pipeline.nodes:
            assert node.name.split(".")[-1] in spans, f"{name}: {node.name}"
    experiments = yaml.safe_load((PROJECT_ROOT / "conf/base/parameters.yml").read_text())[
        "mlflow_experiments"
    ]
    table = _table_rows(page.split("\n### ")[0])
    documented = {_code_spans(row[0])[0]: row[2] for row in table}
    for name, experiment in experiments.items():
        documented_name = "training" if name == "__default__" else name
        assert documented[documented_name] == f"`{experiment}`", name
    assert documented["data_engineering"] == "(not tracked)"


# ---------------------------------------------------------------- lifecycle
def test_lifecycle_page_lists_stages_tags_settings_and_audit_actions():
    from future_skills_kedro.lifecycle import audit_log, registry
    from future_skills_kedro.lifecycle.promotion import PromotionPolicy

    page = _doc("lifecycle.md")
    stages = _table_rows(_section(page, "Stages and aliases"))
    assert [_code_spans(row[0])[0] for row in stages] == [
        registry.PRODUCTION,
        registry.STAGING,
        registry.DEVELOPMENT,
        registry.ARCHIVED,
    ]
    assert [_code_spans(row[1]) for row in stages[:2]] == [
        [registry.CHAMPION],
        [registry.CHALLENGER],
    ]
    tags = {
        span
        for row in _table_rows(_section(page, "Tags on every decided version"))
        for span in _code_spans(row[0])
    }
    lineage = {
        value for name, value in vars(registry).items() if name.startswith("TAG_") and value
    } - {registry.TAG_ARCHIVED_AT}  # documented with the Archived stage
    assert tags == lineage | {f"{registry.METRIC_TAG_PREFIX}<metric>"}
    settings = {
        _code_spans(row[0])[0].split(".")[0]
        for row in _table_rows(_section(page, "Promotion policy"))
    }
    assert settings == set(PromotionPolicy.model_fields)
    audit = _section(page, "The audit file")
    assert {f"`{action}`" for action in audit_log.ACTIONS} <= set(re.findall(r"`\w+`", audit))
    assert f'"format_version": {audit_log.FORMAT_VERSION}' in audit


# ---------------------------------------------------------------- monitoring
def _gauge_names() -> set[str]:
    """Metric names metrics.prom can hold: the first argument of every ``_gauge(...)`` call."""
    source = PROJECT_ROOT / "src/future_skills_kedro/pipelines/monitoring/prometheus.py"
    from future_skills_kedro.pipelines.monitoring.prometheus import PREFIX

    return {
        PREFIX + call.args[0].value
        for call in ast.walk(ast.parse(source.read_text()))
        if isinstance(call, ast.Call)
        and getattr(call.func, "id", None) == "_gauge"
        and call.args
        and isinstance(call.args[0], ast.Constant)
    }


def test_monitoring_page_lists_statuses_metric_names_and_summary_fields():
    from future_skills_kedro.pipelines.monitoring import health
    from future_skills_kedro.pipelines.monitoring.nodes import build_summary

    page = _doc("monitoring.md")
    statuses = _table_rows(_section(page, "Statuses, exit codes"))
    assert [_code_spans(row[0])[0] for row in statuses] == list(health.STATUS_CODES)

    names = _gauge_names()
    assert len(names) > 20
    assert names - {span.split("{")[0] for span in _code_spans(page)} == set()

    verdict = {"status": "healthy", "retrain_recommended": False, "retrain_reasons": []}
    verdict["issues"] = []
    summary, _ = build_summary({"predictions": 0, "corrupt_lines": 0}, None, {}, {}, {}, verdict)
    fields = _table_rows(_section(page, "`monitoring_summary.json` fields"))
    assert [_code_spans(row[0]) for row in fields] == [
        ["schema_version"],
        ["status"],
        ["retrain_recommended", "retrain_reasons"],
        *([key] for key in list(summary)[4:]),
    ]


@pytest.mark.parametrize("page", sorted(path.name for path in DOCS.glob("*.md")))
def test_each_docs_page_is_reachable_from_the_readme_or_another_page(page):
    linked = set()
    for path in [PROJECT_ROOT / "README.md", *DOCS.glob("*.md")]:
        if path.name == page:
            continue
        linked |= {
            Path(link.split("#")[0]).name for link in _MARKDOWN_LINK.findall(path.read_text())
        }
    assert page in linked
