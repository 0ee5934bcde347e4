"""Prediction-log writer and reader, library vs hand-written, side by side; prints JSON.

    KEDRO_DISABLE_TELEMETRY=true python benchmarks/bench_prediction_logs.py \
        [--sizes 100000 1000000] [--chunk-rows 100000] [--legacy-commit 72dbf58]

For each size the parent builds one run of records shaped like production (the 13 contract
features, keys, 3 class probabilities, confidence, a per-row latency) and saves it as
parquet. Each measurement then runs in a fresh process, so its peak RSS is its own
(reported above the RSS after loading its inputs):

* ``write_handwritten``: the encoder this project used until it moved to polars (Arrow
  string fragments joined per row), loaded verbatim from ``--legacy-commit`` with ``git
  show``, writing the run in one call;
* ``write_polars``: :func:`append_prediction_logs` (record checks + polars' NDJSON writer +
  the locked, all-or-nothing append), the run in one call;
* ``write_polars_chunked``: the same run handed over as an iterable of ``--chunk-rows``
  frames (how chunked scoring writes): one commit, bounded memory;
* ``read_python``: the former line-by-line reader (orjson per line, Python columns);
* ``read_columnar``: :func:`read_prediction_logs` (pyarrow.json per block, vectorised checks);
* ``read_*_corrupt``: both readers on a copy with 1 % torn lines spread through the files.

Both readers read the same files (written by ``write_polars``; the former reader ignores the
fields it did not know). The decision rule of the project: keep a hand-written encoder only
when the library path is more than 1.5x slower (``write_ratio_*`` > 1.5). Figures are
wall and CPU seconds (CPU time is what load from other processes distorts least).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LEGACY_COMMIT = "72dbf58"  # the last commit with the hand-written encoder and reader
LEGACY_PATH = "src/future_skills_kedro/datasets/prediction_logs.py"
SCORED_AT = "2025-06-30T09:15:00Z"
CORRUPT_SHARE = 0.01


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cpu_seconds() -> float:
    times = os.times()  # every thread of this process
    return times.user + times.system


def _peak_rss_mb() -> float:
    """Peak RSS of this process image (VmHWM: unlike ru_maxrss, it restarts at exec, so a
    child does not inherit its parent's peak)."""
    with open("/proc/self/status") as handle:
        line = next(line for line in handle if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024.0


def scored_batch(rows: int, seed: int = 7):
    """Features (with keys) and predictions shaped like the inference pipeline's."""
    import numpy as np
    import pandas as pd

    from future_skills_kedro.contract import NEED_LEVELS, SENIORITIES

    rng = np.random.default_rng(seed)
    roles, skills = 60, 250
    role = rng.integers(0, roles, rows)
    skill = rng.integers(0, skills, rows)

    def pick(values, index):
        return pd.Series(np.asarray(values, dtype=object)[index], dtype="str")

    features = pd.DataFrame(
        {
            "job_role_id": pick([f"JR{i:04d}" for i in range(roles)], role),
            "skill_id": pick([f"SK{i:04d}" for i in range(skills)], skill),
            "as_of_date": pd.Series(pd.to_datetime(["2025-03-31"] * rows)),
            "job_role_name": pick([f"Role {i}" for i in range(roles)], role),
            "department": pick([f"Department {i}" for i in range(8)], role % 8),
            "seniority": pick(SENIORITIES, role % 5),
            "skill_name": pick([f"Skill {i}" for i in range(skills)], skill),
            "skill_category": pick([f"Category {i}" for i in range(12)], skill % 12),
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


def build_inputs(rows: int, folder: Path) -> float:
    """The run's flat records as parquet; returns the seconds the record builder took."""
    import numpy as np

    from future_skills_kedro.prediction_log import prediction_log_records

    features, predictions = scored_batch(rows)
    started = time.perf_counter()
    records = prediction_log_records(
        features,
        predictions,
        purpose="production",
        model_name="future-skills-model",
        model_version="7",
        model_semver="1.4.2",
        model_alias="champion",
        latency_ms=np.random.default_rng(1).gamma(2.0, 3.0, rows),
        scored_at=SCORED_AT,
        request_id_prefix="bench",
    )
    seconds = time.perf_counter() - started
    records.to_parquet(folder / "records.parquet")
    return seconds


def _legacy_module(source: Path):
    spec = importlib.util.spec_from_file_location("legacy_prediction_logs", source)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _directory_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.glob("*.jsonl"))


def measure(kind: str, folder: Path, legacy_source: Path, chunk_rows: int) -> dict:
    """One measurement in this (fresh) process."""
    import pandas as pd

    sys.path.insert(0, str(ROOT / "src"))
    from future_skills_kedro.datasets.prediction_logs import (
        append_prediction_logs,
        read_prediction_logs,
    )

    if kind == "build":
        return {"records_seconds": round(build_inputs(int(legacy_source.name), folder), 3)}
    legacy = _legacy_module(legacy_source) if "python" in kind or "handwritten" in kind else None
    result: dict = {}
    if kind.startswith("write"):
        records = pd.read_parquet(folder / "records.parquet")
        rows = len(records)
        target = folder / kind
        baseline = _rss_mb()
        cpu_started, started = _cpu_seconds(), time.perf_counter()
        if kind == "write_handwritten":
            # The former writer knew no purpose/model_alias fields: it logs the rest.
            legacy.write_prediction_log(records.drop(columns=["purpose", "model_alias"]), target)
        elif kind == "write_polars":
            append_prediction_logs(records, target)
        else:
            chunks = (records.iloc[i : i + chunk_rows] for i in range(0, rows, chunk_rows))
            append_prediction_logs(chunks, target)
        seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
        result["file_mb"] = round(_directory_bytes(target) / 1e6, 1)
        result["bytes_per_row"] = round(_directory_bytes(target) / rows)
    else:
        source = folder / ("corrupt" if kind.endswith("corrupt") else "write_polars")
        baseline = _rss_mb()
        cpu_started, started = _cpu_seconds(), time.perf_counter()
        if kind.startswith("read_python"):
            read = legacy.read_prediction_logs(source)
        else:
            read = read_prediction_logs(source)
        seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
        rows = len(read.frame)
        result["corrupt_lines"] = read.corrupt_lines
    result |= {
        "rows": rows,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "rows_per_s": round(rows / seconds),
        "rows_per_cpu_s": round(rows / cpu),
        "peak_rss_mb_above_inputs": round(_peak_rss_mb() - baseline),
    }
    return result


def _corrupt_copy(folder: Path, share: float) -> int:
    """A copy of the written logs with a torn line after every 1/share-th line."""
    source, target = folder / "write_polars", folder / "corrupt"
    target.mkdir()
    step = round(1 / share)
    torn = 0
    for path in sorted(source.glob("*.jsonl")):
        with path.open("rb") as reader, (target / path.name).open("wb") as writer:
            for number, line in enumerate(reader, start=1):
                writer.write(line)
                if number % step == 0:
                    writer.write(line[: len(line) // 2] + b"\n")
                    torn += 1
    return torn


def _run_child(kind: str, folder: Path, legacy_source: Path, chunk_rows: int) -> dict:
    command = [sys.executable, __file__, "--child", kind, str(folder), str(legacy_source)]
    command += ["--chunk-rows", str(chunk_rows)]
    env = os.environ | {"KEDRO_DISABLE_TELEMETRY": "true", "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if completed.returncode:
        return {"error": completed.stderr.strip().splitlines()[-1:]}
    return json.loads(completed.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--legacy-commit", default=LEGACY_COMMIT)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "FOLDER", "LEGACY"))
    args = parser.parse_args()
    if args.child:
        kind, folder, legacy = args.child
        print(json.dumps(measure(kind, Path(folder), Path(legacy), args.chunk_rows)))
        return

    sys.path.insert(0, str(ROOT / "src"))
    report: dict = {
        "machine": {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)},
        "legacy_commit": args.legacy_commit,
        "chunk_rows": args.chunk_rows,
        "sizes": {},
    }
    with tempfile.TemporaryDirectory(prefix="bench_prediction_logs_") as scratch:
        legacy_source = Path(scratch) / "legacy_prediction_logs.py"
        legacy_source.write_bytes(
            subprocess.run(
                ["git", "show", f"{args.legacy_commit}:{LEGACY_PATH}"],
                cwd=ROOT,
                capture_output=True,
                check=True,
            ).stdout
        )
        for size in args.sizes:
            folder = Path(scratch) / str(size)
            folder.mkdir()
            # In a child too: the parent stays small, so no child starts from a big process.
            figures: dict = _run_child("build", folder, Path(str(size)), args.chunk_rows)
            for kind in ("write_handwritten", "write_polars", "write_polars_chunked"):
                figures[kind] = _run_child(kind, folder, legacy_source, args.chunk_rows)
            figures["torn_lines_injected"] = _corrupt_copy(folder, CORRUPT_SHARE)
            for kind in ("read_python", "read_columnar", "read_python_corrupt"):
                figures[kind] = _run_child(kind, folder, legacy_source, args.chunk_rows)
            figures["read_columnar_corrupt"] = _run_child(
                "read_columnar_corrupt", folder, legacy_source, args.chunk_rows
            )
            library, handwritten = figures["write_polars"], figures["write_handwritten"]
            # > 1: the library takes longer. Wall time and CPU time (the machine is shared).
            for key in ("seconds", "cpu_seconds"):
                if key in library and key in handwritten:
                    figures[f"write_ratio_{key}"] = round(library[key] / handwritten[key], 2)
            before, after = figures["read_python"], figures["read_columnar"]
            for key in ("seconds", "cpu_seconds"):
                if key in before and key in after:
                    figures[f"read_speedup_{key}"] = round(before[key] / after[key], 1)
            report["sizes"][str(size)] = figures
            shutil.rmtree(folder)
    report["machine"]["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
