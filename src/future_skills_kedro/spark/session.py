"""The Spark session of a ``--env spark`` run: runtime check, settings, start and stop.

Plain policy code, called by ``hooks.SparkHook``. No module-level PySpark import: the
runtime check must be able to say that PySpark is missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

# conf/<env>/spark.yml; present in conf/spark/ only, so its presence selects the Spark engine.
CONFIG_KEY = "spark"
DEFAULT_MASTER = "local[*]"
APP_NAME = "future-skills-kedro"

_ACTIVE = {"engine": "pandas"}


class SparkUnavailableError(RuntimeError):
    """PySpark or Java is missing: the message says what to install."""


def missing_runtime(
    find_spec: Callable[[str], Any] = importlib.util.find_spec,
    which: Callable[[str], str | None] = shutil.which,
    environ: Mapping[str, str] = os.environ,
) -> str | None:
    """Why Spark cannot start here (one line, what to install), or None when it can."""
    if find_spec("pyspark") is None:
        return (
            'the spark environment needs PySpark, which is not installed: pip install -e ".[spark]"'
        )
    java_home = environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return None
    if which("java") is None:
        where = f"JAVA_HOME={java_home} has no bin/java and " if java_home else ""
        return (
            f"the spark environment needs Java 17 ({where}no java on PATH): "
            "apt-get install openjdk-17-jre-headless (or set JAVA_HOME)"
        )
    return None


def flatten(settings: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested YAML or ``--params`` mappings as Spark's dotted keys, values as text."""
    flat: dict[str, str] = {}
    for key, value in settings.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(flatten(value, name))
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        elif value is not None:
            flat[name] = str(value)
    return flat


def _names_key(settings: Mapping[str, Any], dotted: str, prefix: str = "") -> bool:
    """Whether ``settings`` names ``dotted`` (flat or nested), whatever its value, null too."""
    for key, value in settings.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if name == dotted or (isinstance(value, Mapping) and _names_key(value, dotted, name)):
            return True
    return False


def spark_settings(
    configured: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """spark.yml's settings, then ``--params spark.<key>=<value>`` over them.

    ``overrides`` is the ``spark`` parameter (Kedro nests ``spark.sql.shuffle.partitions=4``
    into mappings): its keys carry the ``spark.`` prefix back.
    """
    settings = flatten(configured)
    settings.update(flatten(overrides or {}, CONFIG_KEY))
    # `spark.master: null` leaves the master to spark-submit or the platform (a master set
    # here would override theirs); absent, local mode on every core.
    if not _names_key(configured, "spark.master"):
        settings.setdefault("spark.master", DEFAULT_MASTER)
    settings.setdefault("spark.app.name", APP_NAME)
    return settings


def start_session(settings: Mapping[str, str]):
    """The process's SparkSession with ``settings`` (getOrCreate: reused when one is up)."""
    problem = missing_runtime()
    if problem:
        raise SparkUnavailableError(problem)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def stop_session() -> None:
    """Stop the active session, if any (the engine goes back to pandas)."""
    _ACTIVE["engine"] = "pandas"
    if importlib.util.find_spec("pyspark") is None:
        return
    import sys

    if "pyspark" not in sys.modules:
        return
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()


def activate(engine: str) -> None:
    """Which engine the pipeline registry builds inference for (set by the Spark hook)."""
    _ACTIVE["engine"] = engine


def active_engine() -> str:
    """pandas, or spark once the hook found conf/<env>/spark.yml and started the session."""
    return _ACTIVE["engine"]
