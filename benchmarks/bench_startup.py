"""Start-up cost: `kedro registry list` wall time, and heavy modules imported by registration.

    python benchmarks/bench_startup.py [--repeats 5]

Registering pipelines must not import evidently, mlflow's model flavours or scikit-learn
models: nodes import them lazily, when they run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("evidently", "sklearn.ensemble", "sklearn.linear_model", "mlflow.sklearn", "matplotlib")

_PROBE = """
import json, sys
from kedro.framework.startup import bootstrap_project
bootstrap_project(sys.argv[1])
from kedro.framework.project import pipelines
names = sorted(pipelines)
print(json.dumps({"pipelines": names,
                  "heavy_imported": [m for m in sys.argv[2:] if m in sys.modules]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    env = os.environ | {"KEDRO_DISABLE_TELEMETRY": "true"}
    kedro = Path(sys.executable).with_name("kedro")
    walls = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        subprocess.run(
            [str(kedro), "registry", "list"], cwd=ROOT, env=env, capture_output=True, check=True
        )
        walls.append(time.perf_counter() - started)
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, str(ROOT), *HEAVY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    print(
        json.dumps(
            {
                "kedro_registry_list_s": {
                    "median": round(statistics.median(walls), 2),
                    "min": round(min(walls), 2),
                    "max": round(max(walls), 2),
                },
                **json.loads(probe.stdout.strip().splitlines()[-1]),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
