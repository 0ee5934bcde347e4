"""`kedro run --pipelines monitoring --env spark` over 10M logged predictions: wall time,
CPU time, driver and JVM peak memory.

    KEDRO_DISABLE_TELEMETRY=true python benchmarks/bench_spark_monitoring.py \
        [--rows 10000000] [--driver-memory 4g] [--keep DIR]

Set-up (not measured): ``bench_monitoring_end_to_end.set_up``: a copy of the project, a real
champion (fast training settings) and ``--rows`` prediction-log lines written by the
project's writer over the 7 days of the window (rows of the champion's holdout drawn at
random, scored by its classifier). Then one run of the real CLI with ``--env spark``
(``conf/spark/spark.yml``: ``local[*]``) and ``spark.driver.memory`` (in local mode the
driver's JVM runs the executors' work too), while a sampler reads, every 0.5 s, the RSS of
the `kedro` process (the Python driver), of its JVM and of the Python workers. CPU time is
user + sys of every process of the run (getrusage of the waited children).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_monitoring_end_to_end import WINDOW_END, _env, kept_or_new_project  # noqa: E402


def _processes() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command name, RSS in MB) of every process (from /proc)."""
    page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            rss_pages = int((entry / "statm").read_text().split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        table[int(entry.name)] = (parent, name, rss_pages * page_mb)
    return table


def _sample(root: int, peaks: dict[str, float], done: threading.Event) -> None:
    """Peak RSS of the driver (``root``), its JVM and the Python workers, every 0.5 s."""
    while not done.is_set():
        table = _processes()
        tree, added = {root}, True
        while added:
            children = {pid for pid, (parent, _, _) in table.items() if parent in tree}
            added = bool(children - tree)
            tree |= children
        workers = 0.0
        for pid in tree & set(table):
            _, name, rss = table[pid]
            if pid == root:
                peaks["driver_python_mb"] = max(peaks["driver_python_mb"], rss)
            elif name == "java":
                peaks["jvm_mb"] = max(peaks["jvm_mb"], rss)
            else:
                workers += rss
        peaks["python_workers_mb"] = max(peaks["python_workers_mb"], workers)
        done.wait(0.5)


def measure(project: Path, driver_memory: str) -> dict:
    kedro = str(Path(sys.executable).with_name("kedro"))
    params = ",".join(
        [
            f"monitoring.window.end_date={WINDOW_END}",
            "monitoring.exit_policy.fail_on=never",
            f"spark.driver.memory={driver_memory}",
        ]
    )
    command = [kedro, "run", "--pipelines", "monitoring", "--env", "spark", "--params", params]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    log = (project / "bench_spark_monitoring.log").open("w")
    process = subprocess.Popen(command, cwd=project, env=_env(project), stdout=log, stderr=log)
    peaks = {"driver_python_mb": 0.0, "jvm_mb": 0.0, "python_workers_mb": 0.0}
    done = threading.Event()
    sampler = threading.Thread(target=_sample, args=(process.pid, peaks, done))
    sampler.start()
    code = process.wait()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        raise SystemExit((project / "bench_spark_monitoring.log").read_text()[-3000:])
    summary = json.loads(
        (project / "data/08_reporting/monitoring/monitoring_summary.json").read_text()
    )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        **{name: round(value) for name, value in peaks.items()},
        "load_average_after": [round(x, 1) for x in os.getloadavg()],
        "predictions": summary["window"]["predictions"],
        "engine": summary["window"]["engine"],
        "status": summary["status"],
        "drift_engine": summary["drift"]["engine"],
        "report": summary["drift"]["report"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--keep", type=Path, help="set up the project here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-spark-monitoring-") as tmp:
        parent = args.keep or Path(tmp)
        parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        project = kept_or_new_project(parent, args.rows)
        logs = project / "data/07_model_output/prediction_logs"
        report = {
            "cpus": os.cpu_count(),
            "rows": args.rows,
            "driver_memory": args.driver_memory,
            "log_bytes": sum(f.stat().st_size for f in logs.iterdir()),
            "set_up_s": round(time.perf_counter() - started, 1),
            "load_average_before": [round(x, 1) for x in os.getloadavg()],
            "run": measure(project, args.driver_memory),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
