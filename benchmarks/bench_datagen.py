"""Benchmark the synthetic data generator: generate N label rows into a temporary folder.

    python benchmarks/bench_datagen.py --label-rows 1000000

Prints one JSON object: wall times, peak resident memory (resource.getrusage) and rows and
bytes per file.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import tempfile
import time
from dataclasses import asdict

from future_skills_kedro.datagen import GeneratorConfig, generate, write


def _peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (ru_maxrss is KiB on Linux, B on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def main() -> None:
    """Run one generation and print its figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    config = GeneratorConfig.for_label_rows(args.label_rows, seed=args.seed)
    rss_before_mb = _peak_rss_mb()
    with tempfile.TemporaryDirectory(prefix="bench_datagen_") as tmp:
        started = time.perf_counter()
        data = generate(config)
        generated = time.perf_counter()
        paths = write(data, tmp)
        written = time.perf_counter()
        files = {
            path.name: {
                "rows": len(data.tables[name]) if name in data.tables else None,
                "bytes": path.stat().st_size,
            }
            for name, path in paths.items()
        }
    print(
        json.dumps(
            {
                "requested_label_rows": args.label_rows,
                "config": asdict(config),
                "wall_seconds": {
                    "generate": round(generated - started, 2),
                    "write": round(written - generated, 2),
                    "total": round(written - started, 2),
                },
                "peak_rss_mb": _peak_rss_mb(),
                "rss_after_imports_mb": rss_before_mb,
                "files": files,
                "total_bytes": sum(f["bytes"] for f in files.values()),
                "holdout_oracle": {
                    k: data.oracle["holdout"][k] for k in ("oracle_accuracy", "oracle_macro_f1")
                },
                "class_shares": data.oracle["overall"]["class_shares"],
                "python": platform.python_version(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
