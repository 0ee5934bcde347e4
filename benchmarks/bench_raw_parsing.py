"""Raw-file validation, this tree's parsing beside a git ref's, on the same files; prints JSON.

    KEDRO_DISABLE_TELEMETRY=true python benchmarks/bench_raw_parsing.py \
        --raw-dir DIR [--legacy-commit 8bc3fd3] [--repeats 2]

``DIR`` holds raw CSVs, e.g. a generated world
(``python -m future_skills_kedro.datagen --roles 2226 --skills-per-role 150 --quarters 4
--output-dir DIR``: 1.3M internal-signal rows, 3.0M label rows). Each file is read as the
pipeline reads it (``RawCSVDataset``: text), then each side runs on it what
``validate_raw_file`` spends its time on: the raw schema's checks (``failure_cases``), the
typed copy (``to_typed``) and the duplicate-key lookup (``first_lines_of_keys``).
``legacy`` is ``schemas.py`` of ``--legacy-commit`` (pandas ``to_numeric``/``to_datetime``
on the text), loaded with ``git show``; ``current`` is this tree's (Arrow compute kernels).
Both must give the same failure cases and typed values, or the benchmark stops. Figures are
the best of ``--repeats`` in seconds, per file and step.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from future_skills_kedro.contract import RAW_FILES
from future_skills_kedro.datasets.raw_csv import RawCSVDataset
from future_skills_kedro.pipelines.data_engineering import schemas as current

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = "src/future_skills_kedro/pipelines/data_engineering/schemas.py"


def _legacy_module(commit: str, folder: Path):
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{commit}:{SCHEMAS}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = folder / "legacy_schemas.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("legacy_schemas", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _best(repeats: int, work) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return round(best, 3), result


def _steps(module, file: str, text: pd.DataFrame, repeats: int) -> tuple[dict, tuple]:
    keys, _ = RAW_FILES[file]
    checks_s, cases = _best(repeats, lambda: module.failure_cases(module.raw_schema(file), text))
    valid = text if cases is None else text.drop(index=cases["index"].dropna().unique())
    typed_s, typed = _best(repeats, lambda: module.to_typed(file, valid))
    keys_s, lines = _best(repeats, lambda: module.first_lines_of_keys(valid, keys))
    seconds = {"checks": checks_s, "typed": typed_s, "keys": keys_s}
    return seconds | {"total": round(sum(seconds.values()), 3)}, (cases, typed, lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--raw-dir", type=Path, required=True)
    parser.add_argument("--legacy-commit", default="8bc3fd3")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    report: dict = {"legacy_commit": args.legacy_commit, "files": {}}
    with tempfile.TemporaryDirectory() as folder:
        legacy = _legacy_module(args.legacy_commit, Path(folder))
        for file in RAW_FILES:
            path = args.raw_dir / current.csv_file_name(file)
            text = RawCSVDataset(filepath=str(path)).load()
            sides = {}
            results = {}
            for name, module in (("legacy", legacy), ("current", current)):
                sides[name], results[name] = _steps(module, file, text, args.repeats)
            (old_cases, old_typed, old_lines), (new_cases, new_typed, new_lines) = (
                results["legacy"],
                results["current"],
            )
            if (old_cases is None) != (new_cases is None) or (
                old_cases is not None
                and not old_cases.reset_index(drop=True).equals(new_cases.reset_index(drop=True))
            ):
                sys.exit(f"{file}: the two sides found different failure cases")
            pd.testing.assert_frame_equal(old_typed, new_typed)
            pd.testing.assert_series_equal(old_lines, new_lines)
            report["files"][file] = {
                "rows": len(text),
                **sides,
                "speed_up": round(sides["legacy"]["total"] / sides["current"]["total"], 2),
            }
    totals = {
        side: round(sum(f[side]["total"] for f in report["files"].values()), 2)
        for side in ("legacy", "current")
    }
    report["total_s"] = totals | {"speed_up": round(totals["legacy"] / totals["current"], 2)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
