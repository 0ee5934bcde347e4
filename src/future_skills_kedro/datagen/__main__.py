"""CLI: ``python -m future_skills_kedro.datagen --help``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from future_skills_kedro.datagen.generator import (
    LAST_QUARTER,
    GeneratorConfig,
    generate,
    write,
)

_DEFAULT = GeneratorConfig()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (separate so tests and docs can inspect it)."""
    parser = argparse.ArgumentParser(
        prog="python -m future_skills_kedro.datagen",
        description=(
            "Generate the six raw CSVs of the future-skills data contract "
            "(docs/data-contract.md) plus generator_oracle.json, deterministically from a seed."
        ),
    )
    parser.add_argument("--seed", type=int, default=_DEFAULT.seed, help="random seed (%(default)s)")
    parser.add_argument(
        "--output-dir", default="data/01_raw", help="folder for the files (%(default)s)"
    )
    size = parser.add_argument_group("size")
    scale = size.add_mutually_exclusive_group()
    scale.add_argument(
        "--roles", type=int, help=f"number of job roles (default {_DEFAULT.n_roles})"
    )
    scale.add_argument(
        "--label-rows",
        type=int,
        help="scale roles (and quarters, unless --quarters is given) to reach at least this "
        "many label rows, e.g. 1000000 for benchmarks",
    )
    size.add_argument(
        "--skills", type=int, help=f"number of skills (default {_DEFAULT.n_skills}, the catalogue)"
    )
    size.add_argument(
        "--skills-per-role",
        type=int,
        help=f"relevant skills per role (default {_DEFAULT.skills_per_role})",
    )
    size.add_argument(
        "--quarters",
        type=int,
        help=f"quarterly snapshots, the newest one unlabelled (default {_DEFAULT.n_quarters})",
    )
    size.add_argument(
        "--start-quarter",
        help=f"first quarter, e.g. 2022Q1 (default: so that the last one is {LAST_QUARTER})",
    )
    parser.add_argument(
        "--holdout-quarters",
        type=int,
        default=_DEFAULT.holdout_quarters,
        help="newest labelled quarters held out for the oracle report (%(default)s)",
    )
    parser.add_argument(
        "--noise-scale",
        type=float,
        default=_DEFAULT.noise_scale,
        help="label noise of the ordinal logit; larger = lower oracle accuracy (%(default)s)",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> GeneratorConfig:
    """Translate parsed arguments into a GeneratorConfig (unset sizes keep the defaults)."""
    options = {
        "seed": args.seed,
        "n_skills": args.skills,
        "skills_per_role": args.skills_per_role,
        "n_quarters": args.quarters,
        "start_quarter": args.start_quarter,
        "holdout_quarters": args.holdout_quarters,
        "noise_scale": args.noise_scale,
    }
    if args.label_rows is not None:
        return GeneratorConfig.for_label_rows(args.label_rows, **options)
    options["n_roles"] = args.roles
    return GeneratorConfig(**{k: v for k, v in options.items() if v is not None})


def main(argv: Sequence[str] | None = None) -> int:
    """Generate, write, and print a short JSON summary on stdout."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as error:
        parser.error(str(error))
    started = time.perf_counter()
    data = generate(config)
    paths = write(data, args.output_dir)
    summary = {
        "output_dir": str(args.output_dir),
        "files": sorted(path.name for path in paths.values()),
        "row_counts": data.oracle["row_counts"],
        "holdout": {
            key: data.oracle["holdout"][key]
            for key in ("oracle_accuracy", "oracle_macro_f1", "class_shares")
        },
        "seconds": round(time.perf_counter() - started, 2),
    }
    json.dump(summary, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
