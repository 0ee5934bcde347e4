"""Deterministic synthetic HR data generator (the raw files of docs/data-contract.md + oracle).

Typical use::

    from future_skills_kedro.datagen import GeneratorConfig, generate, write

    data = generate(GeneratorConfig(seed=7, n_roles=12, n_quarters=8))
    write(data, "data/01_raw")

or ``python -m future_skills_kedro.datagen --help``.
"""

from future_skills_kedro.datagen.generator import (
    ORACLE_FILE,
    GeneratedData,
    GeneratorConfig,
    generate,
    oracle_report,
    write,
)
from future_skills_kedro.datagen.need_model import NeedModel

__all__ = [
    "ORACLE_FILE",
    "GeneratedData",
    "GeneratorConfig",
    "NeedModel",
    "generate",
    "oracle_report",
    "write",
]
