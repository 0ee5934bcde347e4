"""Wall time and peak memory of `kedro run --pipelines data_engineering` at a given size.

    python benchmarks/bench_data_engineering.py --label-rows 1000000

Generates the raw files into a fresh copy of the project (committed sample when
--label-rows is 0), runs the real CLI, and reads the child's peak RSS from getrusage.
Prints JSON.
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
sys.path.insert(0, str(ROOT))


def main() -> None:
    from future_skills_kedro.datagen import GeneratorConfig, generate, write
    from tests.conftest import copy_project

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = copy_project(Path(tmp))
        if args.label_rows:
            write(
                generate(GeneratorConfig.for_label_rows(args.label_rows)), project / "data/01_raw"
            )
        env = os.environ | {
            "KEDRO_DISABLE_TELEMETRY": "true",
            "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
        }
        kedro = Path(sys.executable).with_name("kedro")
        started = time.perf_counter()
        subprocess.run(
            [str(kedro), "run", "--pipelines", "data_engineering"],
            cwd=project,
            env=env,
            check=True,
            capture_output=True,
        )
        wall = time.perf_counter() - started
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        report = json.loads((project / "data/08_reporting/data_quality_report.json").read_text())
        rows_out = report.get("model_input_table", {}).get("rows", report.get("rows_out"))
    print(
        json.dumps(
            {
                "label_rows_requested": args.label_rows,
                "model_input_rows": rows_out,
                "wall_s": round(wall, 2),
                "peak_rss_mb": round(peak_kib / 1024, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
