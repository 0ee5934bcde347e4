"""`kedro run --pipelines monitoring` over 1M logged predictions, JSON lines to metrics.prom.

    KEDRO_DISABLE_TELEMETRY=true python benchmarks/bench_monitoring_end_to_end.py \
        [--rows 1000000] [--repeats 2] [--keep DIR]

Set-up (not measured): a fresh-clone-like copy of the project, a real champion trained by
`kedro run --pipelines training` (fast model settings), and ``--rows`` prediction-log lines
written by the project's writer into ``data/07_model_output/prediction_logs`` over the 7 days
of the window: rows of the champion's holdout quarters drawn at random, scored by its
classifier. Then each repeat runs the real CLI,

    kedro run --pipelines monitoring --params monitoring.window.end_date=...

and reports its wall time, its CPU time (user + sys: what other load distorts least), the
pipeline's own time (Kedro's "Pipeline execution completed ... in X sec" line: from the first
node to the last, catalog reads and writes and the MLflow run included), their difference
(Kedro start-up: imports, configuration, hooks, MLflow set-up; reported apart) and the peak
RSS of the `kedro` process. Target at 1M rows: pipeline <= 5 s, peak <= 1 GB. An empty
window (`no_data`) is measured the same way: the fixed cost of a run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WINDOW_END = "2026-01-07"
FAST_TRAINING = ",".join(
    [
        "training.model.hyperparameters.hist_gradient_boosting.max_iter=20",
        "training.permutation_importance.n_repeats=1",
        "training.permutation_importance.max_rows=1000",
    ]
)
SET_UP_CHUNK_ROWS = 1_000_000
_PIPELINE_SECONDS = re.compile(r"Pipeline execution completed successfully in ([0-9.]+) sec")


def _env(project: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return env | {
        "KEDRO_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
        "MLFLOW_TRACKING_URI": f"sqlite:///{(project / 'mlflow.db').as_posix()}",
        "PYTHONWARNINGS": "ignore",
        "COLUMNS": "1000",
    }


# Runs the command and writes its peak RSS (KiB) and CPU seconds to argv[1]: that process's.
_PEAK_WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
    "use = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "open(sys.argv[1], 'w').write(f'{use.ru_maxrss} {use.ru_utime + use.ru_stime}'); "
    "sys.exit(code)"
)


def _kedro(project: Path, *args: str, peak_file: Path | None = None):
    kedro = [str(Path(sys.executable).with_name("kedro")), *args]
    if peak_file is not None:
        kedro = [sys.executable, "-c", _PEAK_WRAPPER, str(peak_file), *kedro]
    return subprocess.run(
        kedro,
        cwd=project,
        env=_env(project),
        capture_output=True,
        text=True,
        check=False,
    )


def set_up(project_parent: Path, rows: int) -> Path:
    import pickle

    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(ROOT))
    from future_skills_kedro.contract import FEATURE_COLUMNS, KEY_COLUMNS
    from future_skills_kedro.datasets import append_prediction_logs
    from future_skills_kedro.prediction_log import prediction_log_records
    from future_skills_kedro.scoring import predict_need_levels
    from tests.conftest import copy_project

    project = copy_project(project_parent)
    trained = _kedro(project, "run", "--pipelines", "training", "--params", FAST_TRAINING)
    if trained.returncode != 0:
        raise SystemExit(trained.stderr[-3000:])
    classifier = pickle.loads((project / "data/06_models/classifier.pkl").read_bytes())
    holdout = pd.read_parquet(project / "data/05_model_input/holdout_set.parquet")
    holdout = holdout.loc[:, list(dict.fromkeys([*KEY_COLUMNS, *FEATURE_COLUMNS]))]
    scored = predict_need_levels(classifier, holdout)
    rng = np.random.default_rng(1)
    pick = rng.integers(0, len(holdout), rows)
    first = pd.Timestamp(WINDOW_END, tz="UTC") - pd.Timedelta(days=6)
    stamps = first + pd.to_timedelta(np.sort(rng.integers(0, 7 * 86400, rows)), unit="s")
    latency = rng.gamma(2.0, 5.0, rows)
    # In chunks (request ids numbered per chunk): 10M records at once would not fit in memory.
    for chunk in range(0, rows, SET_UP_CHUNK_ROWS):
        part = slice(chunk, chunk + SET_UP_CHUNK_ROWS)
        records = prediction_log_records(
            holdout.iloc[pick[part]].reset_index(drop=True),
            scored.iloc[pick[part]].reset_index(drop=True),
            purpose="production",
            model_name="future-skills-model",
            model_version="1",
            model_semver="1.0.0",
            model_alias="champion",
            latency_ms=latency[part],
            scored_at=list(stamps[part]),
            request_id_prefix=f"bench{chunk // SET_UP_CHUNK_ROWS}",
        )
        append_prediction_logs(records, project / "data/07_model_output/prediction_logs")
    return project


def measure(project: Path, end_date: str) -> dict:
    peak_file = project / "peak_rss_kib.txt"
    started = time.perf_counter()
    result = _kedro(
        project,
        "run",
        "--pipelines",
        "monitoring",
        "--params",
        f"monitoring.window.end_date={end_date},monitoring.exit_policy.fail_on=never",
        peak_file=peak_file,
    )
    wall = time.perf_counter() - started
    peak_kib, cpu_s = peak_file.read_text().split()
    found = _PIPELINE_SECONDS.search(result.stdout + result.stderr)
    if result.returncode != 0 or found is None:
        raise SystemExit((result.stdout + result.stderr)[-3000:])
    pipeline_s = float(found.group(1))
    summary = json.loads(
        (project / "data/08_reporting/monitoring/monitoring_summary.json").read_text()
    )
    return {
        "wall_s": round(wall, 2),
        "pipeline_s": pipeline_s,
        "startup_and_teardown_s": round(wall - pipeline_s, 2),
        "cpu_s": round(float(cpu_s), 2),  # user + sys of the whole run (start-up included)
        "peak_rss_mb": round(int(peak_kib) / 1024),
        "predictions": summary["window"]["predictions"],
        "status": summary["status"],
        "drift_engine": summary["drift"]["engine"],
        "drifted_features": summary["drift"]["drifted_features"],
        "metrics_prom_bytes": (project / "data/08_reporting/monitoring/metrics.prom")
        .stat()
        .st_size,
    }


def kept_or_new_project(parent: Path, rows: int) -> Path:
    """The project a previous ``--keep`` run set up under ``parent``, else a new one."""
    kept = parent / "project"
    return kept if kept.exists() else set_up(parent, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="set up the project here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-monitoring-e2e-") as tmp:
        parent = args.keep or Path(tmp)
        parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        project = kept_or_new_project(parent, args.rows)
        logs = project / "data/07_model_output/prediction_logs"
        report = {
            "cpus": os.cpu_count(),
            "rows": args.rows,
            "log_bytes": sum(f.stat().st_size for f in logs.iterdir()),
            "set_up_s": round(time.perf_counter() - started, 1),
            "runs": [measure(project, WINDOW_END) for _ in range(args.repeats)],
            "empty_window": measure(project, "2020-01-07"),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
