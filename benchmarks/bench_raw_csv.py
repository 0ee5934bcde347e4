"""Load time of the raw labels file: pandas.CSVDataset against RawCSVDataset.

    python benchmarks/bench_raw_csv.py --label-rows 1000000

Generates skill_need_labels.csv (and a copy whose first value spans two lines, which takes
RawCSVDataset's counting path) into a temporary folder and loads each file with:
``pandas.CSVDataset`` (record numbers only), ``RawCSVDataset`` (CSV line numbers), and
Python's csv module building the frame (the line-counting reader not chosen). Best of
--repeat runs each. Prints JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _best_of(repeat: int, load) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        load()
        times.append(time.perf_counter() - started)
    return round(min(times), 3)


def _csv_module_frame(path: Path) -> pd.DataFrame:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        starts, records, start = [], [], reader.line_num + 1
        for record in reader:
            starts.append(start)
            records.append(record)
            start = reader.line_num + 1
    return pd.DataFrame(records, columns=header, index=starts, dtype="str")


def main() -> None:
    from kedro_datasets.pandas import CSVDataset

    from future_skills_kedro.datagen import GeneratorConfig, generate, write
    from future_skills_kedro.datasets.raw_csv import RawCSVDataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        write(generate(GeneratorConfig.for_label_rows(args.label_rows)), tmp)
        labels = Path(tmp) / "skill_need_labels.csv"
        header, first, rest = labels.read_text(encoding="utf-8").split("\n", 2)
        first_id, first_rest = first.split(",", 1)
        multi_line = Path(tmp) / "multi_line.csv"
        multi_line.write_text(f'{header}\n"{first_id}\n(two lines)",{first_rest}\n{rest}')
        text_args = {"dtype": "str", "keep_default_na": False, "skip_blank_lines": False}
        figures = {
            "rows": len(pd.read_csv(labels, usecols=[0])),
            "pandas_csv_dataset_s": _best_of(
                args.repeat, CSVDataset(filepath=str(labels), load_args=text_args).load
            ),
            "raw_csv_dataset_s": _best_of(args.repeat, RawCSVDataset(filepath=str(labels)).load),
            "raw_csv_dataset_multi_line_value_s": _best_of(
                args.repeat, RawCSVDataset(filepath=str(multi_line)).load
            ),
            "csv_module_frame_s": _best_of(args.repeat, lambda: _csv_module_frame(labels)),
        }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
