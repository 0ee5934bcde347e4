"""Scoring a large snapshot: Spark in local mode beside the pandas path (issue 16).

Run by hand, never in CI, under the shared benchmark lock:

    python benchmarks/bench_spark.py --project <trained copy> \
        --engine spark --rows 10000000
    python benchmarks/bench_spark.py --project <trained copy> \
        --engine pandas --rows 1000000

``<trained copy>`` is a project copy after ``kedro run --pipelines training`` (its SQLite
registry holds the champion, data/02_intermediate its validated tables). The validated tables
are scaled up synthetically: job role k copies the sample's role k mod R (same department,
seniority and name, so every category is known) with all of that role's newest-quarter
internal signals; skills, market and economic signals stay the sample's. A snapshot of N
rows is then N / 3 (role, skill) pairs times 3 horizons.

Each run is one process, so its peak memory is its own: ``driver_peak_mb`` is the Python
driver's peak RSS during the run (the set-up's is ``setup_peak_mb``); for Spark
``jvm_peak_mb`` is the local-mode JVM's (driver and executor in one JVM here), and the Python
workers are executor-side memory (not counted). Measured:
snapshot features + row checks + scoring + predictions written (Parquet), and with
``--logs`` the prediction-log records appended to the daily files too (pandas: built in
chunks and appended by the driver; Spark: checked, encoded and staged by the executors, the
driver appends the parts).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

TABLES = ("job_roles", "skills", "market_signals", "economic_indicators", "internal_signals")
MODEL_NAME = "future-skills-model"
SNAPSHOT = {"as_of_date": None, "horizons": [1, 3, 5]}


def scaled_tables(project: Path, rows: int, folder: Path) -> dict[str, Path]:
    """The sample's validated tables grown to a snapshot of about ``rows`` rows (Parquet)."""
    sample = {
        name: pd.read_parquet(project / f"data/02_intermediate/validated_{name}.parquet")
        for name in TABLES
    }
    internal = sample["internal_signals"]
    newest = internal.loc[internal["as_of_date"] == internal["as_of_date"].max()]
    roles = sample["job_roles"].set_index("job_role_id")
    per_role = newest.groupby("job_role_id", sort=True)
    role_ids = [role for role in per_role.groups if role in roles.index]
    pairs_per_role = np.array([len(per_role.get_group(role)) for role in role_ids])
    target_pairs = max(1, rows // len(SNAPSHOT["horizons"]))
    copies, pairs, count = [], 0, 0
    while pairs < target_pairs:
        index = count % len(role_ids)
        copies.append(index)
        pairs += int(pairs_per_role[index])
        count += 1
    new_ids = np.array([f"JRB{k:08d}" for k in range(len(copies))], dtype=object)
    source_ids = np.array(role_ids, dtype=object)[copies]
    job_roles = roles.loc[source_ids].reset_index(drop=True)
    job_roles.insert(0, "job_role_id", new_ids)
    blocks = {role: per_role.get_group(role).reset_index(drop=True) for role in role_ids}
    parts = []
    for new_id, source in zip(new_ids, source_ids, strict=True):
        block = blocks[source]
        parts.append(block.assign(job_role_id=new_id))
        if len(parts) >= 20000:  # bounded concat
            parts = [pd.concat(parts, ignore_index=True)]
    internal_scaled = pd.concat(parts, ignore_index=True)
    tables = dict(sample, job_roles=job_roles, internal_signals=internal_scaled)
    paths = {}
    for name, table in tables.items():
        path = folder / f"{name}.parquet"
        # Spark reads microsecond timestamps only (pandas writes nanoseconds by default).
        table.astype({c: object for c in table.columns if table[c].dtype == "str"}).to_parquet(
            path, index=False, coerce_timestamps="us", allow_truncated_timestamps=True
        )
        paths[name] = path
    print(
        f"scaled: {len(job_roles)} roles, {len(internal_scaled)} pairs, "
        f"~{len(internal_scaled) * len(SNAPSHOT['horizons'])} snapshot rows",
        file=sys.stderr,
    )
    return paths


def _champion(project: Path):
    import mlflow
    from mlflow import MlflowClient

    uri = f"sqlite:///{(project / 'mlflow.db').as_posix()}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    version = MlflowClient().get_model_version_by_alias(MODEL_NAME, "champion")
    champion = {
        "model_name": MODEL_NAME,
        "version": version.version,
        "semver": version.tags.get("semver", ""),
        "alias": "champion",
        "run_id": version.run_id,
        "stage": version.tags.get("stage", ""),
    }
    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{version.version}")
    return champion, model


PURPOSE = {"purpose": "production"}


def _inference_parameters(project: Path):
    """``inference`` as a run of the project reads it (conf/base, typed and defaulted)."""
    from kedro.config import OmegaConfigLoader

    from future_skills_kedro.parameters.project import validate_parameters

    loader = OmegaConfigLoader(conf_source=str(project / "conf"), base_env="base")
    return validate_parameters(loader["parameters"]).inference


def run_pandas(project: Path, paths: dict[str, Path], out: Path, logs: bool) -> dict:
    from future_skills_kedro.datasets import append_prediction_logs
    from future_skills_kedro.pipelines.inference import nodes

    champion, model = _champion(project)
    chunk_rows = _inference_parameters(project).scoring.chunk_rows
    tables = {name: pd.read_parquet(path) for name, path in paths.items()}
    started = time.perf_counter()
    snapshot = nodes.build_scoring_snapshot(*tables.values(), SNAPSHOT)
    scorable, _, quality = nodes.split_scorable_rows(snapshot, 0.05)
    unseen = nodes.flag_unseen_categories(scorable, nodes.trained_categories(model))
    scores, stats = nodes.score_snapshot(model, scorable, quality, chunk_rows)
    predictions = nodes.build_predictions(scorable, scores, unseen, champion, stats)
    predictions.to_parquet(out / "predictions.parquet", index=False)
    if logs:
        records = nodes.build_prediction_log(scorable, scores, champion, stats, PURPOSE, chunk_rows)
        append_prediction_logs(records, out / "logs")
    return {"rows": len(predictions), "seconds": time.perf_counter() - started}


def _jvm_peak_mb() -> float | None:
    """Peak RSS (VmHWM) of this process's java child: the local-mode JVM."""
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(os.getpid()) and "java" in fields.get("Name", ""):
            return int(fields["VmHWM"].split()[0]) / 1024
    return None


def run_spark(project: Path, paths: dict[str, Path], out: Path, master: str, logs: bool) -> dict:
    from future_skills_kedro.spark import inference
    from future_skills_kedro.spark.datasets import (
        SparkPredictionLogDataset,
        SparkPredictionsDataset,
    )
    from future_skills_kedro.spark.session import spark_settings, start_session

    champion, model = _champion(project)
    spark = start_session(
        spark_settings(
            {
                "spark.master": master,
                "spark.driver.memory": "2g",
                "spark.sql.session.timeZone": "UTC",
                "spark.sql.execution.arrow.pyspark.enabled": True,
                "spark.sql.execution.arrow.maxRecordsPerBatch": 10000,
                "spark.sql.shuffle.partitions": 16,
                "spark.ui.enabled": False,
                "spark.ui.showConsoleProgress": False,
            }
        )
    )
    spark.sparkContext.setLogLevel("ERROR")
    small = {name: pd.read_parquet(paths[name]) for name in TABLES[:-1]}
    internal = spark.read.parquet(str(paths["internal_signals"]))
    started = time.perf_counter()
    columns = inference.check_champion_inputs(champion, model)
    snapshot = inference.build_spark_snapshot(*small.values(), internal, SNAPSHOT, columns)
    scorable, _, quality = inference.split_spark_snapshot(snapshot, 0.05)
    scored, stats = inference.score_spark_snapshot(champion, columns, scorable, quality)
    from future_skills_kedro.pipelines.inference.nodes import trained_categories

    predictions = inference.build_spark_predictions(
        scored, trained_categories(model), champion, stats
    )
    SparkPredictionsDataset(str(out / "predictions")).save(
        inference.write_spark_predictions(predictions)
    )
    if logs:
        records = inference.build_spark_prediction_log(scored, champion, stats, PURPOSE)
        SparkPredictionLogDataset(str(out / "logs")).save(records)
    seconds = time.perf_counter() - started
    return {
        "rows": stats["rows"],
        "seconds": seconds,
        "scoring_seconds": stats["scoring_seconds"],
        "jvm_peak_mb": _jvm_peak_mb(),
    }


def _high_water_mb() -> float:
    """This process's peak RSS since the last reset (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--engine", choices=("spark", "pandas"), required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--logs", action="store_true", help="write the prediction logs too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_spark_") as tmp:
        folder = Path(tmp)
        paths = scaled_tables(args.project.resolve(), args.rows, folder)
        before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # The set-up (scaling the tables with pandas) has its own peak: reset the high-water
        # mark so driver_peak_mb is the run's (Linux: 5 > /proc/self/clear_refs).
        Path("/proc/self/clear_refs").write_text("5")
        if args.engine == "pandas":
            result = run_pandas(args.project.resolve(), paths, folder, args.logs)
        else:
            result = run_spark(args.project.resolve(), paths, folder, args.master, args.logs)
        if args.logs:
            written = sorted((folder / "logs").glob("predictions_*.jsonl"))
            result["log_bytes"] = sum(path.stat().st_size for path in written)
            result["log_lines"] = sum(_lines(path) for path in written)
        result |= {
            "engine": args.engine,
            "rows_per_second": result["rows"] / result["seconds"],
            "driver_peak_mb": _high_water_mb(),
            "setup_peak_mb": before_mb,
        }
        print(json.dumps(result))


if __name__ == "__main__":
    main()
