"""Fixtures of the monitoring tests: the real parameters, promtool, a real Pushgateway."""

from __future__ import annotations

import base64
import shutil
import subprocess
import urllib.request
from contextlib import contextmanager
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


@contextmanager
def _running_pushgateway(tmp_path: Path, *args: str, headers: dict[str, str] | None = None):
    binary = _tool("prometheus-pushgateway")
    port = free_port()
    log_path = tmp_path / "pushgateway.log"
    log = log_path.open("w")
    # Metrics in memory only: Debian's default --persistence.file is one file in
    # /var/lib/prometheus shared by every Pushgateway on the machine (other tests' too).
    command = [binary, f"--web.listen-address=127.0.0.1:{port}", "--persistence.file=", *args]
    process = subprocess.Popen(command, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    # wait_for_http opens a Request as it opens a URL (the headers carry basic auth).
    ready = urllib.request.Request(f"{url}/-/ready", headers=headers or {})
    try:
        wait_for_http(ready, process, "prometheus-pushgateway", log_path, timeout_s=20)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def pushgateway(tmp_path: Path):
    """A real prometheus-pushgateway on a free loopback port; yields its base URL."""
    with _running_pushgateway(tmp_path) as url:
        yield url


# bcrypt hash (cost 4: fast, it is a test) of PUSHGATEWAY_PASSWORD, as the Pushgateway's
# web config wants it.
PUSHGATEWAY_USER = "monitoring"
PUSHGATEWAY_PASSWORD = "pushgateway-test-secret"
_PASSWORD_HASH = "$2b$04$RszxbVsS1d2XlFSwr3UcguBHIUo/UIlFVvux9EkaBHiNZJSjnadk2"


@pytest.fixture
def pushgateway_with_basic_auth(tmp_path: Path):
    """A real Pushgateway that wants HTTP basic auth (PUSHGATEWAY_USER/PASSWORD)."""
    config = tmp_path / "pushgateway-web.yml"
    config.write_text(f"basic_auth_users:\n  {PUSHGATEWAY_USER}: {_PASSWORD_HASH}\n")
    token = base64.b64encode(f"{PUSHGATEWAY_USER}:{PUSHGATEWAY_PASSWORD}".encode()).decode()
    auth = {"Authorization": f"Basic {token}"}
    with _running_pushgateway(tmp_path, f"--web.config.file={config}", headers=auth) as url:
        yield url
