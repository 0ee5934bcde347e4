"""The scoring model's environment check: MLflow's at load time beside the project's; JSON.

    python benchmarks/bench_model_environment_check.py [--repeats 3]

Both check the model's requirements (this project's pinned list, as logged with every trained
model) against the installed distributions and a Python version, and report the same
mismatches (tests/test_model_requirements.py). Each measurement runs in a fresh process whose
imports are done before the clock starts: MLflow caches its module-to-distribution map per
process, and a scoring run pays for it once.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

_PROBE = """
import json, platform, sys, time
import mlflow.pyfunc
from mlflow.utils.requirements_utils import warn_dependency_requirement_mismatches
from future_skills_kedro.model_requirements import environment_warnings, model_pip_requirements

requirements = model_pip_requirements()
started = time.perf_counter()
if sys.argv[1] == "mlflow":
    warn_dependency_requirement_mismatches(requirements)
    mlflow.pyfunc._warn_potentially_incompatible_py_version_if_necessary(platform.python_version())
else:
    environment_warnings(requirements, platform.python_version())
print(json.dumps(time.perf_counter() - started))
"""


def _seconds(kind: str) -> float:
    ran = subprocess.run(
        [sys.executable, "-c", _PROBE, kind], capture_output=True, text=True, check=True
    )
    return json.loads(ran.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    seconds = {"mlflow": [], "project": []}
    for _ in range(args.repeats):  # the two alternate: the machine's load affects both alike
        for kind, values in seconds.items():
            values.append(_seconds(kind))
    medians = {kind: statistics.median(values) for kind, values in seconds.items()}
    print(
        json.dumps(
            {
                "seconds": {
                    kind: [round(value, 4) for value in values] for kind, values in seconds.items()
                },
                "median_s": {kind: round(value, 4) for kind, value in medians.items()},
                "ratio": round(medians["mlflow"] / medians["project"], 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
