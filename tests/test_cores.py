"""Threads for numeric work: one per usable core, capped by OMP_NUM_THREADS when it is set."""

from __future__ import annotations

import os

import pytest

from future_skills_kedro.cores import numeric_threads, usable_cores


def test_usable_cores_are_the_processs_affinity():
    assert usable_cores() == len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("limit", "expected"),
    [("1", 1), ("999", None), ("0", None), ("", None), ("two", None), (" 1 ", 1)],
)
def test_omp_num_threads_caps_the_threads_when_it_is_a_positive_number(
    limit, expected, monkeypatch
):
    monkeypatch.setenv("OMP_NUM_THREADS", limit)
    assert numeric_threads() == (expected or usable_cores())


def test_without_omp_num_threads_every_usable_core_is_used(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert numeric_threads() == usable_cores()
