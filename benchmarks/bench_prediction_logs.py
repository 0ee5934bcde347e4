"""Write then read N prediction-log records; print rows/s and peak memory as JSON.

    KEDRO_DISABLE_TELEMETRY=true python benchmarks/bench_prediction_logs.py \
        [--rows 1000000] [--batch-size 100000] [--directory DIR]

The frame looks like production: the 13 contract features (5 categorical, 8 numeric), the
3 key columns, 3 class probabilities, confidence and a per-row latency.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from future_skills_kedro.contract import NEED_LEVELS, SENIORITIES
from future_skills_kedro.datasets.prediction_logs import (
    _fast_loads,
    prediction_log_records,
    read_prediction_logs,
    write_prediction_log,
)


def scored_batch(rows: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features (with keys) and predictions shaped like the inference pipeline's."""
    rng = np.random.default_rng(seed)
    roles, skills = 60, 250
    departments = np.array([f"Department {i}" for i in range(8)])
    categories = np.array([f"Category {i}" for i in range(12)])
    role = rng.integers(0, roles, rows)
    skill = rng.integers(0, skills, rows)
    features = pd.DataFrame(
        {
            "job_role_id": pd.Series([f"JR{i:04d}" for i in range(roles)], dtype="str")[
                role
            ].reset_index(drop=True),
            "skill_id": pd.Series([f"SK{i:04d}" for i in range(skills)], dtype="str")[
                skill
            ].reset_index(drop=True),
            "as_of_date": pd.Series(pd.to_datetime("2025-03-31"))
            .repeat(rows)
            .reset_index(drop=True),
            "job_role_name": pd.Series([f"Role {i}" for i in range(roles)], dtype="str")[
                role
            ].reset_index(drop=True),
            "department": pd.Series(departments[role % 8], dtype="str"),
            "seniority": pd.Series(np.array(SENIORITIES)[role % 5], dtype="str"),
            "skill_name": pd.Series([f"Skill {i}" for i in range(skills)], dtype="str")[
                skill
            ].reset_index(drop=True),
            "skill_category": pd.Series(categories[skill % 12], dtype="str"),
            "horizon_years": rng.choice(np.array([1, 3, 5], dtype=np.int64), rows),
            "trend_score": rng.random(rows),
            "scarcity_index": rng.random(rows),
            "hiring_difficulty": rng.random(rows),
            "avg_salary_k": rng.normal(85, 20, rows).round(1),
            "economic_indicator": rng.random(rows),
            "internal_usage": rng.random(rows),
            "training_requests": rng.poisson(4, rows),
        }
    )
    probabilities = rng.dirichlet(np.ones(len(NEED_LEVELS)), rows)
    best = probabilities.argmax(axis=1)
    predictions = pd.DataFrame(probabilities, columns=[f"prob_{level}" for level in NEED_LEVELS])
    predictions.insert(0, "predicted_need_level", np.array(NEED_LEVELS, dtype=object)[best])
    predictions["confidence"] = probabilities[np.arange(rows), best]
    return features, predictions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=100_000)
    parser.add_argument("--directory", type=Path, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_prediction_logs_") as scratch:
        directory = args.directory or Path(scratch)
        features, predictions = scored_batch(args.rows)
        started = time.perf_counter()
        records = prediction_log_records(
            features,
            predictions,
            model_name="future-skills-model",
            model_version="7",
            model_semver="1.4.2",
            latency_ms=np.random.default_rng(1).gamma(2.0, 3.0, args.rows),
            scored_at=pd.Timestamp("2025-06-30T09:15:00Z"),
            request_id_prefix="bench",
        )
        records_seconds = time.perf_counter() - started
        del features, predictions

        started = time.perf_counter()
        for start in range(0, args.rows, args.batch_size):
            write_prediction_log(records.iloc[start : start + args.batch_size], directory)
        write_seconds = time.perf_counter() - started
        rss_after_write_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        file_bytes = sum(path.stat().st_size for path in Path(directory).glob("*.jsonl"))
        del records

        started = time.perf_counter()
        result = read_prediction_logs(directory)
        read_seconds = time.perf_counter() - started
        assert len(result.frame) == args.rows and result.corrupt_lines == 0

    print(
        json.dumps(
            {
                "rows": args.rows,
                "batch_size": args.batch_size,
                "records_seconds": round(records_seconds, 3),
                "write_seconds": round(write_seconds, 3),
                "write_rows_per_s": round(args.rows / write_seconds),
                "read_seconds": round(read_seconds, 3),
                "read_rows_per_s": round(args.rows / read_seconds),
                "file_mb": round(file_bytes / 1e6, 1),
                "bytes_per_row": round(file_bytes / args.rows),
                "peak_rss_mb_after_write": round(rss_after_write_mb),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "json_parser": _fast_loads.__module__,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
