"""The Spark hook's policy: what is missing, which settings, and the default env untouched."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from future_skills_kedro.spark.session import missing_runtime, spark_settings
from tests.conftest import TEST_JVM_OPTIONS, copy_project, kedro_env, run_kedro, run_python

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _found(name):
    return object()


def test_missing_pyspark_says_to_install_the_spark_extra():
    message = missing_runtime(find_spec=lambda name: None, which=lambda name: "/usr/bin/java")
    assert message is not None
    assert 'pip install -e ".[spark]"' in message
    assert "\n" not in message


def test_missing_java_says_to_install_a_java_17_runtime(tmp_path):
    message = missing_runtime(find_spec=_found, which=lambda name: None, environ={})
    assert message is not None
    assert "openjdk-17-jre-headless" in message
    assert "\n" not in message
    # a JAVA_HOME without bin/java is named, and PATH is still tried
    broken = missing_runtime(
        find_spec=_found, which=lambda name: None, environ={"JAVA_HOME": str(tmp_path)}
    )
    assert f"JAVA_HOME={tmp_path}" in broken
    assert missing_runtime(find_spec=_found, which=lambda name: "/usr/bin/java", environ={}) is None
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text("")
    assert (
        missing_runtime(
            find_spec=_found, which=lambda name: None, environ={"JAVA_HOME": str(tmp_path)}
        )
        is None
    )


def test_settings_flatten_yaml_and_params_and_params_win():
    settings = spark_settings(
        {"spark.master": "local[*]", "spark": {"sql": {"shuffle.partitions": 8}}},
        {"sql": {"shuffle": {"partitions": 400}}, "ui": {"enabled": False}},
    )
    assert settings["spark.master"] == "local[*]"
    assert settings["spark.sql.shuffle.partitions"] == "400"
    assert settings["spark.ui.enabled"] == "false"
    assert spark_settings({})["spark.master"] == "local[*]"
    # null: spark-submit's or the platform's master stays (none is set here)
    assert "spark.master" not in spark_settings({"spark": {"master": None}})


def test_default_environment_never_loads_the_spark_engine(tmp_path):
    """A default-env session with every pipeline registered: no Spark module of the project,
    no JVM. (MLflow itself imports pyspark when it is installed, mlflow/types/schema.py, so
    "pyspark" in sys.modules says nothing about the project.)"""
    project = copy_project(tmp_path)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from kedro.framework.project import pipelines\n"
        "from kedro.framework.session import KedroSession\n"
        "from kedro.framework.startup import bootstrap_project\n"
        "bootstrap_project(Path.cwd())\n"
        "with KedroSession.create(project_path=Path.cwd()) as session:\n"
        "    session.load_context()\n"
        "    names = sorted(pipelines)\n"
        "    assert 'inference' in names, names\n"
        "    engine = [m for m in sys.modules if m.startswith('future_skills_kedro.spark.')]\n"
        "    spark = sys.modules.get('pyspark')\n"
        "    jvm = spark is not None and spark.SparkContext._active_spark_context is not None\n"
        "    print(engine, jvm)\n"
    )
    result = run_python(script, cwd=project, env=kedro_env(project))
    assert result.returncode == 0, result.stderr[-3000:]
    only_the_policy = "['future_skills_kedro.spark.session'] False"
    assert result.stdout.strip().splitlines()[-1] == only_the_policy


@pytest.mark.integration
def test_spark_env_without_java_fails_first_with_one_line(tmp_path):
    project = copy_project(tmp_path)
    env = kedro_env(project)
    env.pop("JAVA_HOME", None)
    env["PATH"] = str(Path(sys.executable).parent)  # the venv only: no java on PATH
    result = run_kedro(project, "run", "--pipelines", "inference", "--env", "spark", env=env)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "openjdk-17-jre-headless" in result.stderr
    assert "Traceback" not in result.stderr
    # before any work: nothing validated, no MLflow store written
    assert not any((project / "data/02_intermediate").iterdir())
    assert not list((project / "data/07_model_output").iterdir())
    assert os.path.exists(project / "conf/spark/spark.yml")


def test_the_tests_spark_jvm_runs_with_the_quick_start_options(spark):
    """SPARK_SUBMIT_OPTS (tests/conftest.py) reaches the driver JVM the session fixture starts."""
    runtime = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    arguments = list(runtime.getInputArguments())
    assert set(TEST_JVM_OPTIONS.split()) <= set(arguments), arguments
