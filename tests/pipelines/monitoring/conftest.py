"""Fixtures of the monitoring tests: the real parameters, promtool, a real Pushgateway."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def pushgateway(tmp_path: Path):
    """A real prometheus-pushgateway on a free loopback port; yields its base URL."""
    binary = _tool("prometheus-pushgateway")
    port = _free_port()
    log = (tmp_path / "pushgateway.log").open("w")
    process = subprocess.Popen(
        [binary, f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(
                        "prometheus-pushgateway did not start: "
                        + (tmp_path / "pushgateway.log").read_text()[-2000:]
                    )
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
