"""`kedro run --pipelines inference` on a large snapshot: this tree beside a git ref, one run.

    KEDRO_DISABLE_TELEMETRY=true python benchmarks/bench_inference_run.py \
        [--baseline main] [--roles 2226] [--skills-per-role 150] [--quarters 4] \
        [--repeats 1] [--keep DIR] [--tags-only]

With ``--keep DIR`` the set-up stays in DIR and a later run reuses it (``--repeats 0``: set up
only), the branch side with this tree's current ``src`` and ``conf/base``.

Set-up (not measured): two fresh-clone-like copies of the project, one of this working tree
and one of ``--baseline`` (``git archive``), each with its own ``src`` on PYTHONPATH; each
trains a champion on the committed sample (`kedro run --pipelines training`, fast model
settings, same seed: the same model on both sides); then both get the same generated world
(``python -m future_skills_kedro.datagen --roles R --skills-per-role S --quarters Q``) as raw
files. Its newest quarter is the snapshot: R x S active (role, skill) pairs x 3 horizons
(2226 x 150 x 3 = 1,001,700 rows); the champion never saw these roles, so they are scored and
counted as unseen, as a new organisation's would be.

Measured, the two sides alternating per repeat: wall time, CPU time (user + sys of the
`kedro` process, from ``wait4``: what the other load on the machine distorts least), its peak
RSS (``ru_maxrss``), and where time and memory go: the RSS sampled every 20 ms is matched to the
node running then (the "Running node" lines of the project's info.log), giving per node its
wall time and the highest RSS seen while it ran. ``--tags-only`` runs
``--pipelines inference --tags inference`` (scoring from the validated tables, no
data_engineering) instead.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_monitoring_end_to_end import _env as monitoring_env  # noqa: E402

FAST_TRAINING = ",".join(
    [
        "training.model.hyperparameters.hist_gradient_boosting.max_iter=20",
        "training.permutation_importance.n_repeats=1",
        "training.permutation_importance.max_rows=1000",
    ]
)
_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "__pycache__",
    "*.egg-info",
    ".*_cache",
    "mlflow.db*",
    "mlruns",
    "benchmarks",
    "notebooks",
    "tests",
    "info.log*",
)
_OUTPUT_LAYERS = (
    "02_intermediate",
    "04_feature",
    "05_model_input",
    "06_models",
    "07_model_output",
    "08_reporting",
)
_RUNNING_NODE = re.compile(r"^(\S+ \S+) INFO \S+: Running node: ([^:]+):")
_SAMPLE_SECONDS = 0.02


def _env(project: Path) -> dict[str, str]:
    # the copy's own code: the two trees compared each run from their src/
    return monitoring_env(project) | {"PYTHONPATH": str(project / "src")}


def _kedro(project: Path, *args: str) -> subprocess.CompletedProcess:
    kedro = str(Path(sys.executable).with_name("kedro"))
    return subprocess.run(
        [kedro, *args], cwd=project, env=_env(project), capture_output=True, text=True, check=False
    )


def _fresh_copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=_IGNORE)
    for layer in _OUTPUT_LAYERS:
        folder = target / "data" / layer
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    return target


def _baseline_copy(ref: str, target: Path) -> Path:
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", ref], capture_output=True, text=True, check=True
    ).stdout.strip()
    (target / ".baseline_sha").write_text(sha)
    return _fresh_copy(target, target.with_name(target.name + "-clean"))


def set_up(parent: Path, baseline: str, world: list[str]) -> dict[str, Path]:
    """Both projects trained on the sample, then given the generated world's raw files."""
    sides = {
        "baseline": _baseline_copy(baseline, parent / "baseline"),
        "branch": _fresh_copy(ROOT, parent / "branch"),
    }
    raw = parent / "world"
    generated = subprocess.run(
        [sys.executable, "-m", "future_skills_kedro.datagen", *world, "--output-dir", str(raw)],
        env=_env(sides["branch"]),
        capture_output=True,
        text=True,
        check=False,
    )
    if generated.returncode:
        raise SystemExit(generated.stderr[-3000:])
    for project in sides.values():
        trained = _kedro(project, "run", "--pipelines", "training", "--params", FAST_TRAINING)
        if trained.returncode:
            raise SystemExit(trained.stderr[-3000:])
        for csv in raw.glob("*.csv"):
            shutil.copy2(csv, project / "data/01_raw" / csv.name)
    return sides


def _rss_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) if found else 0


def _node_starts(project: Path) -> list[tuple[float, str]]:
    starts = []
    for line in (project / "info.log").read_text(errors="replace").splitlines():
        found = _RUNNING_NODE.match(line)
        if found:
            stamp = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            starts.append((stamp, found.group(2)))
    return starts


def _per_node(starts, samples, ended: float) -> list[dict]:
    nodes = []
    for index, (start, name) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else ended
        rss = [kib for stamp, kib in samples if start <= stamp < end]
        nodes.append(
            {
                "node": name,
                "seconds": round(end - start, 2),
                "peak_rss_mb": round(max(rss) / 1024) if rss else None,
            }
        )
    return nodes


def measure(project: Path, tags_only: bool) -> dict:
    """One inference run: wall, CPU, peak RSS, and per node its time and highest RSS."""
    (project / "info.log").unlink(missing_ok=True)
    args = ["run", "--pipelines", "inference", *(["--tags", "inference"] if tags_only else [])]
    kedro = str(Path(sys.executable).with_name("kedro"))
    samples: list[tuple[float, int]] = []
    started = time.time()
    process = subprocess.Popen(
        [kedro, *args],
        cwd=project,
        env=_env(project),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.time(), _rss_kib(process.pid)))
            time.sleep(_SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    ended = time.time()
    stop.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(stderr[-4000:])
    nodes = _per_node(_node_starts(project), samples, ended)
    summary = json.loads((project / "data/08_reporting/inference_summary.json").read_text())
    return {
        "wall_s": round(ended - started, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "rows_scored": summary["predictions"]["rows"],
        "scoring_seconds": round(summary["scoring"]["scoring_seconds"], 2),
        "slowest_nodes": sorted(nodes, key=lambda node: -node["seconds"])[:8],
        "highest_rss_nodes": sorted(nodes, key=lambda node: -(node["peak_rss_mb"] or 0))[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default="main", help="git ref measured beside this tree")
    parser.add_argument("--roles", type=int, default=2226)
    parser.add_argument("--skills-per-role", type=int, default=150)
    parser.add_argument("--quarters", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="set up the projects here and keep them")
    parser.add_argument("--tags-only", action="store_true")
    args = parser.parse_args()
    world = [
        "--roles",
        str(args.roles),
        "--skills-per-role",
        str(args.skills_per_role),
        "--quarters",
        str(args.quarters),
    ]
    with tempfile.TemporaryDirectory(prefix="bench-inference-run-") as tmp:
        parent = args.keep or Path(tmp)
        parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        if (parent / "branch").exists():
            sides = {"baseline": parent / "baseline-clean", "branch": parent / "branch"}
            # A kept set-up measures this tree's current code and configuration.
            for folder in ("src", "conf/base"):
                shutil.rmtree(sides["branch"] / folder)
                shutil.copytree(ROOT / folder, sides["branch"] / folder, ignore=_IGNORE)
        else:
            sides = set_up(parent, args.baseline, world)
        set_up_s = time.perf_counter() - started
        runs: dict[str, list[dict]] = {side: [] for side in sides}
        for _ in range(args.repeats):
            for side, project in sides.items():
                runs[side].append(measure(project, args.tags_only))
        report = {
            "baseline": args.baseline,
            "baseline_sha": (parent / "baseline" / ".baseline_sha").read_text(),
            "world": world,
            "command": "kedro run --pipelines inference"
            + (" --tags inference" if args.tags_only else ""),
            "set_up_s": round(set_up_s, 1),
            "load_average_after": os.getloadavg(),
            "cpu_count": os.cpu_count(),
            "runs": runs,
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
