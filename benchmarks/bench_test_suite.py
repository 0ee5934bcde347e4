"""Wall and CPU time of test modules, with `kedro` commands on the tests' fork server or in
fresh processes (TESTS_FRESH_KEDRO=1).

Usage: python benchmarks/bench_test_suite.py [--fresh] [--workers N] TEST_PATH...

CPU time is user + system of pytest and every process it waited for (kedro commands, servers,
the fork server and its children), from RUSAGE_CHILDREN: on a machine shared with other work
it varies far less than wall time. The summed per-test durations come from pytest's JUnit
report (what .ci/timings.py reads); the load average is the machine's when the run ended.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="TESTS_FRESH_KEDRO=1")
    parser.add_argument("--workers", default="0", help="pytest-xdist -n (default 0)")
    parser.add_argument("paths", nargs="+")
    options = parser.parse_args()
    env = dict(os.environ, TESTS_FRESH_KEDRO="1" if options.fresh else "0")
    with tempfile.TemporaryDirectory() as directory:
        report = Path(directory) / "junit.xml"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            options.workers,
            f"--junitxml={report}",
            *options.paths,
        ]
        started = time.perf_counter()
        status = subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=False).returncode
        wall = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        summed = sum(float(case.get("time", 0)) for case in ET.parse(report).iter("testcase"))
    print(
        f"kedro: {'fresh processes' if options.fresh else 'fork server'}, -n {options.workers}, "
        f"exit {status}: wall {wall:.1f} s, CPU {usage.ru_utime + usage.ru_stime:.1f} s "
        f"(user {usage.ru_utime:.1f}, sys {usage.ru_stime:.1f}), summed test time "
        f"{summed:.1f} s, load average at the end {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
