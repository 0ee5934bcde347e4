"""The decision lock: exclusive, bounded wait, clear error, released on exceptions."""

from __future__ import annotations

from pathlib import Path

import pytest

from future_skills_kedro.lifecycle import LockTimeout, decision_lock


def test_second_holder_times_out_with_clear_error(tmp_path: Path):
    lock = tmp_path / "06_models" / "model_versions.json.lock"
    # flock locks belong to the open file: a second open, even in-process, must wait.
    with (
        decision_lock(lock),
        pytest.raises(LockTimeout, match=r"could not lock .*model_versions.json.lock"),
        decision_lock(lock, timeout_s=0.2),
    ):
        pass
    with decision_lock(lock, timeout_s=0.2):
        pass  # released after the first block


def test_error_names_the_holder(tmp_path: Path):
    lock = tmp_path / "x.lock"
    with (
        decision_lock(lock),
        pytest.raises(LockTimeout, match=r"pid=\d+"),
        decision_lock(lock, timeout_s=0.1),
    ):
        pass


def test_lock_released_when_block_raises(tmp_path: Path):
    lock = tmp_path / "x.lock"
    with pytest.raises(RuntimeError), decision_lock(lock):
        raise RuntimeError("decision failed")
    with decision_lock(lock, timeout_s=0.1):
        pass
