"""The least a monitoring run over a window of JSON-lines logs can cost on this machine.

    KEDRO_DISABLE_TELEMETRY=true python benchmarks/bench_monitoring_floor.py \
        --logs DIR [--repeats 3]

``DIR``: a folder of daily log files, e.g. ``<kept>/project/data/07_model_output/prediction_logs``
after ``bench_monitoring_end_to_end.py --rows 1000000 --keep <kept>``. Measured, each in a
fresh process so nothing is cached in memory but the files (the OS page cache is warm):

- ``parse_pyarrow``: ``pyarrow.json.read_json`` of every file with the record's explicit
  schema, both cores (the fastest parse of the same bytes found here);
- ``parse_polars``: ``polars.read_ndjson`` of every file;
- ``project_reader``: :func:`read_prediction_logs` with monitoring's catalog columns (parse,
  per-line checks, corrupt-line accounting, categoricals);
- ``evidently_import``: importing Evidently's report API on top of what a monitoring run
  imports anyway (pandas, scipy, scikit-learn, MLflow, Kedro).

No other step of a monitoring run is in these figures: they are lower bounds for
"JSON lines to metrics.prom".
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

PARSE_PYARROW = """
import glob, sys, time
import pyarrow.json as pj
files = sorted(glob.glob(sys.argv[1] + "/predictions_*.jsonl"))
schema = pj.read_json(files[0]).schema
started = time.perf_counter()
rows = sum(pj.read_json(f, parse_options=pj.ParseOptions(explicit_schema=schema)).num_rows
           for f in files)
print(time.perf_counter() - started, rows)
"""
PARSE_POLARS = """
import glob, sys, time
import polars as pl
files = sorted(glob.glob(sys.argv[1] + "/predictions_*.jsonl"))
started = time.perf_counter()
rows = sum(pl.read_ndjson(f).height for f in files)
print(time.perf_counter() - started, rows)
"""
PROJECT_READER = """
import sys, time
from kedro.config import OmegaConfigLoader
from future_skills_kedro.datasets import read_prediction_logs
loader = OmegaConfigLoader(conf_source=sys.argv[2], base_env="base", default_run_env="local")
catalog = loader["catalog"]
columns = catalog["monitoring_prediction_logs"]["columns"]
started = time.perf_counter()
read = read_prediction_logs(sys.argv[1], columns=columns, text_as_category=True)
print(time.perf_counter() - started, len(read.frame))
"""
EVIDENTLY_IMPORT = """
import time
import pandas, numpy, pyarrow, scipy.stats, scipy.spatial, sklearn.metrics, mlflow
import kedro.framework.session
started = time.perf_counter()
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset
print(time.perf_counter() - started, 0)
"""
STEPS = {
    "parse_pyarrow": PARSE_PYARROW,
    "parse_polars": PARSE_POLARS,
    "project_reader": PROJECT_READER,
    "evidently_import": EVIDENTLY_IMPORT,
}


def timed(script: str, logs: Path) -> tuple[float, int]:
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", script, str(logs), str(root / "conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise SystemExit(result.stderr)
    seconds, rows = result.stdout.split()[-2:]
    return float(seconds), int(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    files = sorted(args.logs.glob("predictions_*.jsonl"))
    if not files:
        raise SystemExit(f"no predictions_*.jsonl in {args.logs}")
    report = {"files": len(files), "bytes": sum(f.stat().st_size for f in files)}
    for name, script in STEPS.items():
        runs = [timed(script, args.logs.resolve()) for _ in range(args.repeats)]
        report[name] = {"best_s": round(min(s for s, _ in runs), 3), "rows": runs[0][1]}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
