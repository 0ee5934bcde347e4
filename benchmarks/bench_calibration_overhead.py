"""What the probability calibration adds to `kedro run --pipelines training`.

    python benchmarks/bench_calibration_overhead.py [--repeats 3]

Each repeat runs the real CLI twice in fresh copies of the project (own SQLite store):
with the committed calibration settings, and with ``training.calibration.method=none``
(the node still runs, fits nothing). The difference of the medians is the calibration's
cost in the run. Because a whole training run is noisy on a shared machine, the node's own
work is also timed in-process: ``calibrate_probabilities`` on the run's holdout
predictions, committed settings. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _run(kedro: Path, params: str | None) -> tuple[float, float | None]:
    """Wall time of one training run, and the in-process time of the calibration node on
    that run's holdout predictions (committed settings)."""
    from future_skills_kedro.pipelines.training.nodes import calibrate_probabilities
    from tests.conftest import copy_project

    with tempfile.TemporaryDirectory() as tmp:
        project = copy_project(Path(tmp))
        env = os.environ | {
            "KEDRO_DISABLE_TELEMETRY": "true",
            "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
        }
        command = [str(kedro), "run", "--pipelines", "training"]
        if params:
            command += ["--params", params]
        started = time.perf_counter()
        subprocess.run(command, cwd=project, env=env, check=True, capture_output=True)
        wall = time.perf_counter() - started
        node = None
        if params is None:
            holdout = pd.read_parquet(project / "data/07_model_output/holdout_predictions.parquet")
            settings = yaml.safe_load((ROOT / "conf/base/parameters_training.yml").read_text())
            started = time.perf_counter()
            calibrate_probabilities(holdout, settings["training"]["calibration"])
            node = time.perf_counter() - started
    return wall, node


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    kedro = Path(sys.executable).with_name("kedro")
    walls: dict[str, list[float]] = {"calibrated": [], "method_none": []}
    nodes: list[float] = []
    for _ in range(args.repeats):
        wall, node = _run(kedro, None)
        walls["calibrated"].append(wall)
        nodes.append(node)
        walls["method_none"].append(_run(kedro, "training.calibration.method=none")[0])
    calibrated = statistics.median(walls["calibrated"])
    baseline = statistics.median(walls["method_none"])
    node = statistics.median(nodes)
    print(
        json.dumps(
            {
                "training_run_s": {k: [round(w, 2) for w in v] for k, v in walls.items()},
                "median_training_run_s": {
                    "calibrated": round(calibrated, 2),
                    "method_none": round(baseline, 2),
                },
                "run_difference_share": round((calibrated - baseline) / baseline, 4),
                "calibration_node_s": [round(n, 2) for n in nodes],
                "calibration_node_share_of_run": round(node / calibrated, 4),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
