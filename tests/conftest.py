"""Shared fixtures: a temporary copy of the project and a real `kedro` CLI runner.

The suite runs in parallel (pytest-xdist, `-n auto --dist loadscope` in pyproject.toml: a
worker per core and one more): one module's tests stay on one worker, in order, so a
module-scoped project copy, trained model or server is built once; every test and fixture
writes only under its own temporary directory and servers listen on free ports (disjoint
between workers), so modules never share state across workers. Modules sharing a wider
fixture run on one worker as one unit (SHARED_FIXTURE_GROUPS).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import pytest

from tests.kedro_forkserver import KEDRO_SCRIPT, ForkServer

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# OpenMP/BLAS pools size themselves to every core of the machine: two workers fitting
# HistGradientBoosting at once on 2 cores then oversubscribe them (many times slower).
# Each worker, and the `kedro` subprocesses it starts (they inherit the environment), gets its
# share of the cores; set before any test module imports numpy or scikit-learn. A value already
# set in the environment wins.
THREAD_POOL_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def threads_per_worker(workers: int, cores: int) -> int:
    """How many threads each of ``workers`` parallel test processes may use on ``cores``."""
    return max(1, cores // max(1, workers))


if "PYTEST_XDIST_WORKER_COUNT" in os.environ:
    _threads = threads_per_worker(
        int(os.environ["PYTEST_XDIST_WORKER_COUNT"]), len(os.sched_getaffinity(0))
    )
    for _variable in THREAD_POOL_VARIABLES:
        os.environ.setdefault(_variable, str(_threads))


# The JVMs the tests start (the Spark session fixture, `kedro run --env spark` subprocesses)
# run for seconds on small tables: the C1 compiler alone and the serial collector cut their
# CPU by a third (a local[2,2] session's short jobs: 38 s -> 26 s of CPU) without changing a
# result. spark-submit adds SPARK_SUBMIT_OPTS to the driver JVM of local and client mode.
# A value already set in the environment wins.
TEST_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
os.environ.setdefault("SPARK_SUBMIT_OPTS", TEST_JVM_OPTIONS)

# Modules that start real processes and servers (kedro runs, PostgreSQL, Chromium, notebooks)
# run first: a worker then ends on short unit-test modules instead of leaving the other one
# idle while it finishes a long module alone.
SLOW_MARKERS = ("team", "notebooks", "browser", "integration")


# Modules that share a fixture wider than a module: the inference package's trained project
# (package scope: a training run) and the Spark session (session scope: a JVM). Spread over
# both workers, each built it, and a worker coming back to the package built the trained
# project again: three trainings and two JVMs in one CI run (measured). Each group is one
# xdist work unit, on one worker, its modules in collection order (a package's together).
SHARED_FIXTURE_GROUPS = {
    "tests/pipelines/inference/": "trained-project-and-spark",
    "tests/spark/": "trained-project-and-spark",
}
# The fixtures those groups share: a test elsewhere that asks for one starts a second JVM or
# trains a second template on the other worker, so collection refuses it.
SHARED_FIXTURES = frozenset({"spark", "trained_template"})


def work_unit(nodeid: str) -> str:
    """The xdist work unit of a test: its shared-fixture group, else its module."""
    module = nodeid.split("::", 1)[0]
    return next(
        (group for prefix, group in SHARED_FIXTURE_GROUPS.items() if module.startswith(prefix)),
        module,
    )


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: a worker per core, and one more. Many tests wait with a core idle (a server
    or kernel starting, a JVM, a browser's animations): with one worker per core the machine's
    CPU was busy 87-95 % of the test step (2 cores, `.ci/run`)."""
    return len(os.sched_getaffinity(0)) + 1


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """`--dist loadscope` with SHARED_FIXTURE_GROUPS' modules in one scope."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return SharedFixtureScheduling(config, log)


def outside_the_shared_groups(items: list[pytest.Item]) -> list[str]:
    """The tests that use a SHARED_FIXTURES fixture but are in no SHARED_FIXTURE_GROUPS unit."""
    groups = set(SHARED_FIXTURE_GROUPS.values())
    return [
        item.nodeid
        for item in items
        if SHARED_FIXTURES & set(getattr(item, "fixturenames", ()))
        and work_unit(item.nodeid) not in groups
    ]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow work units first, each unit's tests kept together and in their written order;
    a test using a shared fixture outside its group stops the collection."""
    misplaced = outside_the_shared_groups(items)
    if misplaced:
        raise pytest.UsageError(
            f"{', '.join(sorted(SHARED_FIXTURES))} are shared by the modules of "
            f"SHARED_FIXTURE_GROUPS (tests/conftest.py), one work unit: add the module of "
            f"{misplaced[0]} there ({len(misplaced)} test(s) outside)"
        )

    def slowness(item: pytest.Item) -> int:
        markers = {mark.name for mark in item.iter_markers()}
        return next(
            (rank for rank, name in enumerate(SLOW_MARKERS) if name in markers),
            len(SLOW_MARKERS),
        )

    unit_of = {item.nodeid: work_unit(item.nodeid) for item in items}
    unit_rank: dict[str, int] = {}
    for item in items:
        unit = unit_of[item.nodeid]
        unit_rank[unit] = min(unit_rank.get(unit, len(SLOW_MARKERS)), slowness(item))
    # A group's modules are not contiguous in collection order: keep each unit together.
    first_seen = {unit: index for index, unit in enumerate(dict.fromkeys(unit_of.values()))}
    items.sort(key=lambda item: (unit_rank[unit_of[item.nodeid]], first_seen[unit_of[item.nodeid]]))


# What a fresh clone holds: no run outputs, no MLflow store, no VCS metadata.
_COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    ".ruff_cache",
    "mlflow.db*",
    "mlruns",
    "mlartifacts",
    "benchmarks",
    "notebooks",
    "tests",
    "test-artifacts",
    "info.log*",
)
_OUTPUT_DIRS = (
    "02_intermediate",
    "03_primary",
    "04_feature",
    "05_model_input",
    "06_models",
    "07_model_output",
    "08_reporting",
)


# Real training runs with a smaller model: for tests that check plumbing, not model quality.
FAST_TRAINING_PARAMS = ",".join(
    [
        "training.permutation_importance.n_repeats=1",
        "training.permutation_importance.max_rows=1000",
        "training.calibration.bootstrap_resamples=5",
    ]
)


# A clearly weaker model than the default: a 3-iteration gradient boosting (an algorithm
# change: a MINOR version, as a hyperparameter change would be).
WEAK_TRAINING_PARAMS = ",".join(
    [
        FAST_TRAINING_PARAMS,
        "training.model.algorithm=hist_gradient_boosting",
        "training.model.hyperparameters.hist_gradient_boosting.max_iter=3",
    ]
)


def kedro_env(project: Path) -> dict[str, str]:
    """Environment of a subprocess run: no telemetry, an MLflow store inside the copy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["KEDRO_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "1"
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{(project / 'mlflow.db').as_posix()}"
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"
    env["COLUMNS"] = "1000"  # Kedro's rich console wraps messages at the terminal width
    return env


# A run's deadline: a fast training run takes under a minute alone, but a notebooks-loop run
# on 2 cores shared with ~20 runnable processes took over 600 s (TimeoutExpired): the deadline
# is for a hung run, not a slow machine.
KEDRO_RUN_TIMEOUT_S = 1800


def fresh_kedro_only() -> bool:
    """TESTS_FRESH_KEDRO=1: every `kedro` command in a new process (no fork server)."""
    return os.environ.get("TESTS_FRESH_KEDRO") == "1"


_fork_server: ForkServer | None = None


def kedro_fork_server() -> ForkServer:
    """This test process's fork server for `kedro` commands (tests/kedro_forkserver.py),
    started at its first use and stopped when the process exits."""
    global _fork_server  # noqa: PLW0603 - one per test process, started lazily
    if _fork_server is None:
        _fork_server = ForkServer(kedro_env(PROJECT_ROOT))
        atexit.register(_fork_server.close)
    return _fork_server


_fork_server_problem: str | None = None


def _fork_server_can_start() -> bool:
    """False (once warned) when the fork server refuses to start, e.g. under `pytest -n 0`
    with unbounded OpenMP/BLAS pools, whose threads make forking unsafe: the commands then
    run in fresh processes, as with TESTS_FRESH_KEDRO=1."""
    global _fork_server_problem  # noqa: PLW0603 - decided once per test process
    if _fork_server is None and _fork_server_problem is None:
        try:
            kedro_fork_server()
        except RuntimeError as error:
            _fork_server_problem = str(error)
            warnings.warn(f"kedro commands run in fresh processes: {error}", stacklevel=2)
    return _fork_server_problem is None


def run_kedro(
    project: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = KEDRO_RUN_TIMEOUT_S,
) -> subprocess.CompletedProcess:
    """Run the real `kedro` CLI of this interpreter's environment inside ``project``: on the
    fork server (the start-up imports paid once), or in a fresh process with
    TESTS_FRESH_KEDRO=1 or when ``env`` changes what a process reads at import time."""
    env = env or kedro_env(project)
    if not fresh_kedro_only() and _fork_server_can_start():
        result = kedro_fork_server().run(list(args), cwd=project, env=env, timeout=timeout)
        if result is not None:
            return result
    return subprocess.run(
        [str(KEDRO_SCRIPT), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_python(
    script: str, *args: str, cwd: Path, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run ``python -c script args...`` of this interpreter in another process: a Kedro
    session's hooks set process-wide MLflow state that must not leak into the test process.
    A child of the fork server (its stack imported once), or a fresh interpreter with
    TESTS_FRESH_KEDRO=1 or when ``env`` changes what a process reads at import time."""
    if not fresh_kedro_only() and _fork_server_can_start():
        result = kedro_fork_server().run(list(args), cwd, env, timeout, script=script)
        if result is not None:
            return result
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def mlflow_client(project: Path):
    """An MlflowClient on ``project``'s embedded store (tracking and registry)."""
    from mlflow import MlflowClient

    from future_skills_kedro.tracking import default_tracking_uri

    uri = default_tracking_uri(project)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def copy_project(parent: Path) -> Path:
    """A fresh-clone-like copy of the project (committed raw sample, empty output layers)."""
    target = parent / "project"
    shutil.copytree(PROJECT_ROOT, target, ignore=_COPY_IGNORE)
    for layer in _OUTPUT_DIRS:
        layer_dir = target / "data" / layer
        shutil.rmtree(layer_dir, ignore_errors=True)
        layer_dir.mkdir(parents=True)
    return target


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A fresh-clone-like copy of the project, per test."""
    return copy_project(tmp_path)


# Servers under test listen on ports of this range: below Linux's ephemeral ports
# (32768-60999), so no client socket of the machine holds one by chance, and split between
# parallel workers, so two workers starting servers at the same moment never pick the same port.
TEST_PORTS = range(20000, 32000)
_handed_out: set[int] = set()


def worker_ports(worker: int, workers: int) -> range:
    """The share of TEST_PORTS that test worker ``worker`` (0-based) of ``workers`` draws from."""
    size = len(TEST_PORTS) // max(1, workers)
    start = TEST_PORTS.start + worker * size
    return range(start, start + size)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, for a server under test;
    never the same twice in one test process."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    ports = worker_ports(worker, workers)
    for port in random.sample(ports, len(ports)):
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:  # in use, or still in TIME_WAIT
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {ports} for test worker {worker} of {workers}")


def wait_for_http(
    url: str, process: subprocess.Popen, name: str, log: Path | None = None, timeout_s: float = 120
) -> bytes:
    """Poll ``url`` until it answers 200 and return the body; fail, with the server's log,
    as soon as ``process`` exits or when ``timeout_s`` has passed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return response.read()
        except OSError:  # refused, reset or timed out while the server starts
            pass
        time.sleep(0.2)
    pytest.fail(f"{name} did not answer {url} within {timeout_s} s:\n{_tail(log)}")


def _tail(log: Path | None, chars: int = 4000) -> str:
    return log.read_text(errors="replace")[-chars:] if log and log.exists() else ""


# One SparkSession for every Spark test of the run (starting one takes ~10 s): local[2,2],
# two threads and a task tried twice (local mode's second number), so a task that fails once
# is retried as on a cluster. The settings are conf/spark/spark.yml's otherwise.
SPARK_TEST_MASTER = "local[2,2]"
# The tests' tables are a few thousand rows: two shuffle partitions (one per core) instead of
# conf/spark/spark.yml's 8 give the same output with a quarter of the tasks (each groupBy's
# Python tasks). `kedro run --env spark` on the trained sample: 50-55 s -> 38-39 s of machine
# CPU. The Spark tests' CLI runs pass SPARK_TEST_PARAMS (docs/spark.md: any Spark setting
# on the command line).
SPARK_TEST_SHUFFLE_PARTITIONS = 2
SPARK_TEST_PARAMS = f"spark.sql.shuffle.partitions={SPARK_TEST_SHUFFLE_PARTITIONS}"


@pytest.fixture(scope="session")
def spark():
    """The real SparkSession of the Spark tests (PySpark and Java are required in CI)."""
    import yaml

    from future_skills_kedro.spark.session import spark_settings, start_session, stop_session

    configured = yaml.safe_load((PROJECT_ROOT / "conf/spark/spark.yml").read_text())
    settings = spark_settings(
        configured,
        {
            "master": SPARK_TEST_MASTER,
            "sql": {"shuffle": {"partitions": SPARK_TEST_SHUFFLE_PARTITIONS}},
        },
    )
    session = start_session(settings)
    yield session
    stop_session()


@contextlib.contextmanager
def mlflow_store(uri: str):
    """``uri`` as this process's MLflow tracking and registry store, then exactly what was before.

    ``mlflow.set_tracking_uri``/``set_registry_uri`` also export MLFLOW_TRACKING_URI and
    MLFLOW_REGISTRY_URI, and "restoring" with ``mlflow.get_*_uri()`` pins the resolved default:
    either would send later tests of the same xdist worker (and their subprocesses) to this
    store. The module globals and the variables are put back as they were.
    """
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    saved_globals = tracking_utils._tracking_uri, registry_utils._registry_uri
    saved_env = {
        name: os.environ.get(name) for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    }
    tracking_utils._tracking_uri = registry_utils._registry_uri = uri
    try:
        yield uri
    finally:
        tracking_utils._tracking_uri, registry_utils._registry_uri = saved_globals
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
