"""Print how long each part of the test suite took, and its slowest tests, from pytest's
JUnit XML report.

Usage: python .ci/timings.py REPORT.xml [SLOWEST]
Each test case's time includes its setup and teardown (servers, kedro runs of fixtures):
a module-scoped fixture counts towards the first test that uses it.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import defaultdict

# The steps the team cares about, by test module; everything else is "other tests".
STEPS = {
    "tests.test_team_setup": "team setup: PostgreSQL + mlflow server",
    "tests.test_kedro_viz": "kedro viz build + headless Chromium",
    "tests.test_notebooks": "notebooks (nbclient) + kedro mlflow ui",
    "tests.test_docs_commands": "docs: README and docs/ shell blocks run as written",
}


def main(report: str, slowest: int = 10) -> None:
    seconds: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    tests: list[tuple[float, str]] = []
    for case in ET.parse(report).getroot().iter("testcase"):
        # "tests.test_x" for a test function, "tests.test_x.TestClass" for a method.
        classname = case.get("classname", "")
        module = classname if classname in STEPS else classname.rsplit(".", 1)[0]
        step = STEPS.get(module, "other tests")
        case_seconds = float(case.get("time", 0))
        seconds[step] += case_seconds
        counts[step] += 1
        tests.append((case_seconds, f"{classname}::{case.get('name', '')}"))
    for step in [*STEPS.values(), "other tests"]:
        print(f"{seconds[step]:8.1f} s  {counts[step]:4d} tests  {step}")
    print(f"{sum(seconds.values()):8.1f} s  {sum(counts.values()):4d} tests  all tests")
    print(f"   ---  the {slowest} slowest tests:")
    for case_seconds, test in sorted(tests, key=lambda item: item[0], reverse=True)[:slowest]:
        print(f"{case_seconds:8.1f} s  {test}")


if __name__ == "__main__":
    main(sys.argv[1], *(int(arg) for arg in sys.argv[2:3]))
