"""The parallel test run (pytest-xdist) shares the cores instead of oversubscribing them, and
keeps the modules of a shared fixture on one worker."""

from __future__ import annotations

import os

import pytest

from tests.conftest import mlflow_store, outside_the_shared_groups, threads_per_worker


@pytest.mark.parametrize(
    ("workers", "cores", "threads"), [(1, 2, 2), (2, 2, 1), (2, 8, 4), (3, 2, 1), (0, 4, 4)]
)
def test_each_worker_gets_its_share_of_the_cores(workers, cores, threads):
    assert threads_per_worker(workers, cores) == threads


def test_a_worker_fits_models_on_its_share_of_the_cores():
    from sklearn.ensemble import HistGradientBoostingClassifier  # loads OpenMP
    from threadpoolctl import threadpool_info

    assert HistGradientBoostingClassifier  # imported for its OpenMP runtime
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    share = threads_per_worker(workers, len(os.sched_getaffinity(0)))
    openmp = [pool for pool in threadpool_info() if pool["user_api"] == "openmp"]
    assert openmp, threadpool_info()
    assert all(pool["num_threads"] <= share for pool in openmp), openmp


def test_parallel_workers_draw_free_ports_from_disjoint_sets(monkeypatch):
    from tests.conftest import TEST_PORTS, free_port, worker_ports

    for workers in (1, 2, 3):
        shares = [set(worker_ports(worker, workers)) for worker in range(workers)]
        assert all(share <= set(TEST_PORTS) for share in shares)
        assert sum(len(share) for share in shares) == len(set().union(*shares))  # disjoint
        monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", str(workers))
        for worker, share in enumerate(shares):
            monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{worker}")
            drawn = [free_port() for _ in range(20)]
            assert set(drawn) <= share
            assert len(set(drawn)) == len(drawn)  # never handed out twice


def test_a_tests_mlflow_store_does_not_outlive_it(tmp_path):
    # Tests of one xdist worker share the process: a store left set (module global or
    # exported variable) sends later tests' clients, and their kedro subprocesses, to it.
    import mlflow
    from mlflow import MlflowClient

    before = {name: os.environ.get(name) for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    with mlflow_store(f"sqlite:///{(tmp_path / 'a.db').as_posix()}") as uri:
        assert mlflow.get_registry_uri() == uri
    other = f"sqlite:///{(tmp_path / 'b.db').as_posix()}"
    assert MlflowClient(tracking_uri=other)._registry_uri == other
    assert {name: os.environ.get(name) for name in before} == before


class _Collected:
    def __init__(self, nodeid: str, *fixtures: str) -> None:
        self.nodeid, self.fixturenames = nodeid, ["tmp_path", *fixtures]


def test_a_test_outside_the_shared_groups_may_not_use_their_fixtures():
    items = [
        _Collected("tests/spark/test_session.py::test_a", "spark"),
        _Collected("tests/pipelines/inference/test_serving.py::test_b", "trained_template"),
        _Collected("tests/test_team_setup.py::test_c"),
        _Collected("tests/pipelines/monitoring/test_drift.py::test_d", "spark"),
        _Collected("tests/test_notebooks.py::test_e[x]", "trained_template"),
    ]
    assert outside_the_shared_groups(items) == [
        "tests/pipelines/monitoring/test_drift.py::test_d",
        "tests/test_notebooks.py::test_e[x]",
    ]
