"""Fixtures of the monitoring tests: the real parameters, promtool, a real Pushgateway."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import free_port, wait_for_http
from tests.pipelines.monitoring.scenarios import parameters

APT_LINE = (
    "apt-get update && apt-get install -y --no-install-recommends prometheus prometheus-pushgateway"
)


@pytest.fixture
def params() -> dict:
    """A fresh copy of conf/base/parameters_monitoring.yml's ``monitoring`` block."""
    return parameters()


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:  # a failure, not a skip: CI must have it
        pytest.fail(f"{name} is not installed; install it with: {APT_LINE}")
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return _tool("promtool")


@pytest.fixture
def pushgateway(tmp_path: Path):
    """A real prometheus-pushgateway on a free loopback port; yields its base URL."""
    binary = _tool("prometheus-pushgateway")
    port = free_port()
    log_path = tmp_path / "pushgateway.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [binary, f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/-/ready", process, "prometheus-pushgateway", log_path, timeout_s=20)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
