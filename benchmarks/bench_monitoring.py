"""Monitoring nodes over 10k / 100k / 1M logged predictions: wall time and peak memory.

    KEDRO_DISABLE_TELEMETRY=true python benchmarks/bench_monitoring.py [--sizes 10000 100000]

For each size the parent builds the inputs once (a generated world; a 50k-row training
reference; the window's flat log frame, rows drawn from the world and scored by the
generator's need model) and saves them as parquet; then each measurement runs in a fresh
process, so its peak RSS is its own:

* ``pipeline``: every monitoring node after the log read (feature drift with the default
  ``engine: evidently`` - Evidently decides up to 20k rows and only draws the report from a
  20k sample above -, prediction drift, performance against the labels, health, summary,
  metrics.prom), called directly as Python functions;
* ``pipeline_builtin``: the same with ``engine: builtin`` (Evidently never imported);
* ``evidently_preset``: Evidently's DataDriftPreset run directly on all rows (same methods
  and thresholds) plus its HTML, for comparison.

Prints one JSON document. Targets at 1M rows: pipeline <= 15 s and <= 2 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (10_000, 100_000, 1_000_000)
REFERENCE_ROWS = 50_000
EVIDENTLY_TIMEOUT_S = 600


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def build_inputs(size: int, folder: Path) -> None:
    """Reference, holdout, labels and a current log frame of ``size`` rows, as parquet."""
    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(ROOT))
    from future_skills_kedro.contract import FEATURE_COLUMNS, KEY_COLUMNS
    from future_skills_kedro.datagen import GeneratorConfig, generate
    from future_skills_kedro.prediction_log import prediction_log_records
    from tests.pipelines.monitoring.scenarios import oracle_scores

    world = generate(GeneratorConfig(seed=7))  # the committed sample's size: 40 500 labels
    features = world.features
    rng = np.random.default_rng(size)
    reference = features.sample(
        n=REFERENCE_ROWS, replace=len(features) < REFERENCE_ROWS, random_state=1
    )
    reference = reference.loc[:, list(dict.fromkeys([*KEY_COLUMNS, *FEATURE_COLUMNS]))]
    holdout = features.sample(n=5000, random_state=2).reset_index(drop=True)
    holdout = pd.concat([holdout, oracle_scores(world, holdout)], axis=1)
    rows = features.iloc[rng.integers(0, len(features), size)].reset_index(drop=True)
    stamps = pd.Timestamp("2025-06-24", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 7 * 86400, size), unit="s"
    )
    current = prediction_log_records(
        rows,
        oracle_scores(world, rows),
        purpose="production",
        model_name="bench-model",  # synthetic: no registry involved
        model_version="3",
        model_semver="1.2.0",
        model_alias="champion",
        latency_ms=rng.gamma(2.0, 5.0, size),
        scored_at=list(stamps),
        request_id_prefix="bench",
    )
    reference.reset_index(drop=True).to_parquet(folder / "reference.parquet")
    holdout.to_parquet(folder / "holdout.parquet")
    current.to_parquet(folder / "current.parquet")
    world.tables["skill_need_labels"].astype("str").to_parquet(folder / "labels.parquet")


def measure(kind: str, folder: Path) -> dict:
    """One measurement in this (fresh) process."""
    import pandas as pd
    import yaml

    sys.path.insert(0, str(ROOT))
    from future_skills_kedro.datasets.monitoring_reference import MonitoringReference
    from future_skills_kedro.pipelines.monitoring import nodes

    params = yaml.safe_load((ROOT / "conf/base/parameters_monitoring.yml").read_text())[
        "monitoring"
    ]
    current = pd.read_parquet(folder / "current.parquet")
    reference = MonitoringReference(
        model_name="bench-model",  # synthetic: no registry involved
        version="3",
        alias="champion",
        semver="1.2.0",
        stage="Production",
        run_id=None,
        created_at="2025-05-01T00:00:00Z",
        features=pd.read_parquet(folder / "reference.parquet"),
        holdout_predictions=pd.read_parquet(folder / "holdout.parquet"),
    )
    labels = pd.read_parquet(folder / "labels.parquet")
    loaded_rss = _rss_mb()
    timings: dict[str, float] = {}

    def timed(name, function, *args):
        start = time.perf_counter()
        value = function(*args)
        timings[name] = round(time.perf_counter() - start, 3)
        return value

    start = time.perf_counter()
    if kind == "evidently_preset":
        from future_skills_kedro.contract import CATEGORICAL_FEATURES, NUMERIC_FEATURES
        from future_skills_kedro.drift import scores as drift

        specs = drift.column_specs(params["drift"], NUMERIC_FEATURES, CATEGORICAL_FEATURES)
        ref = drift.prepare_features(reference.features, specs)
        cur = drift.prepare_features(current, specs)
        timed("import_evidently", __import__, "evidently.presets")
        results, html = timed("preset_and_html", drift.run_evidently, ref, cur, specs, 0.5)
        drifted = sorted(name for name, result in results.items() if result["drifted"])
        status = {"drifted_features": drifted, "html_mb": round(len(html) / 2**20, 1)}
    else:
        params["drift"]["engine"] = "builtin" if kind == "pipeline_builtin" else "evidently"
        params["window"] = {"end_date": "2025-06-30", "days": 7}
        # What load_prediction_window reports for a clean read of these rows.
        window = {
            "start": "2025-06-24",
            "end": "2025-06-30",
            "days": 7,
            "files_read": 7,
            "lines_read": len(current),
            "corrupt_lines": 0,
            "corrupt_line_share": 0.0,
            "corrupt_examples": [],
            "predictions": len(current),
        }
        info = timed(
            "describe_reference",
            nodes.describe_reference,
            reference,
            window,
            params["health"]["important_features"],
        )
        feature_drift, html = timed(
            "detect_feature_drift", nodes.detect_feature_drift, current, reference, params["drift"]
        )
        prediction_drift = timed(
            "detect_prediction_drift",
            nodes.detect_prediction_drift,
            current,
            reference,
            params["prediction_drift"],
        )
        performance = timed(
            "evaluate_performance",
            nodes.evaluate_performance,
            current,
            labels,
            reference,
            params["performance"],
        )
        verdict = timed(
            "assess_health",
            nodes.assess_health,
            window,
            info,
            feature_drift,
            prediction_drift,
            performance,
            params["health"],
        )
        summary, _ = timed(
            "build_summary",
            nodes.build_summary,
            window,
            info,
            feature_drift,
            prediction_drift,
            performance,
            verdict,
        )
        timed("render_prometheus_metrics", nodes.render_prometheus_metrics, summary)
        status = {
            "status": summary["status"],
            "drift_engine": feature_drift["engine"],
            "report_rows": feature_drift["report"]["current_rows"],
            "drifted_features": feature_drift["drifted_features"],
            "labelled_predictions": performance["labelled_predictions"],
            "html_mb": round(len(html) / 2**20, 1),
        }
    return {
        "wall_s": round(time.perf_counter() - start, 2),
        "peak_rss_mb": round(_peak_rss_mb()),
        "rss_after_inputs_mb": round(loaded_rss),
        "steps_s": timings,
        **status,
    }


def _child(kind: str, folder: Path, timeout: float | None) -> dict:
    command = [sys.executable, __file__, "--measure", kind, "--inputs", str(folder)]
    env = os.environ | {"KEDRO_DISABLE_TELEMETRY": "true", "PYTHONWARNINGS": "ignore"}
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {timeout:.0f} s"}
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1:]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--skip-evidently-above", type=int, default=1_000_000)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, Path(args.inputs))))
        return

    report = {"cpus": os.cpu_count(), "reference_rows": REFERENCE_ROWS, "sizes": {}}
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="bench-monitoring-") as tmp:
            folder = Path(tmp)
            started = time.perf_counter()
            build_inputs(size, folder)
            entry = {"build_inputs_s": round(time.perf_counter() - started, 1)}
            for kind in ("pipeline", "pipeline_builtin"):
                entry[kind] = _child(kind, folder, timeout=None)
            if size <= args.skip_evidently_above:
                entry["evidently_preset"] = _child("evidently_preset", folder, EVIDENTLY_TIMEOUT_S)
            else:
                entry["evidently_preset"] = {"skipped": f"above {args.skip_evidently_above} rows"}
            report["sizes"][str(size)] = entry
            print(json.dumps({str(size): entry}), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
