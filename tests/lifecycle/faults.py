"""Injected failures for the lifecycle tests: a registry client that fails (or kills its
process) on a chosen call, and an audit log whose Nth write fails like a full disk.

The registry behind them is the real SQLite MLflow registry; only the failure is injected.
"""

from __future__ import annotations

import errno
import os
import signal
from typing import Any

from mlflow.exceptions import MlflowException

from future_skills_kedro.lifecycle import AuditLog


class FaultyClient:
    """Wraps an ``MlflowClient``; every method call is counted.

    ``fail_at``: the call number that raises ``MlflowException`` (``outage``: that call and
    every later one, as a registry that stops answering). ``kill_after``: a method name; the
    process is killed (SIGKILL: no ``finally``, no undo) right after that call returned.
    """

    def __init__(
        self,
        client: Any,
        fail_at: int | None = None,
        outage: bool = False,
        kill_after: str | None = None,
    ) -> None:
        self._client = client
        self.fail_at = fail_at
        self.outage = outage
        self.kill_after = kill_after
        self.calls = 0
        self.failed = False

    def heal(self) -> None:
        self.fail_at = None
        self.kill_after = None

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.fail_at is not None and (
                self.calls == self.fail_at or (self.outage and self.calls > self.fail_at)
            ):
                self.failed = True
                raise MlflowException(f"injected registry failure on call {self.calls} ({name})")
            result = attribute(*args, **kwargs)
            if name == self.kill_after:
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        return call


class FullDiskAuditLog(AuditLog):
    """An audit log whose ``fail_at``-th write raises ENOSPC (the file is left as it was)."""

    def __init__(self, path: str | os.PathLike, fail_at: int | None = None) -> None:
        super().__init__(path)
        self.fail_at = fail_at
        self.writes = 0
        self.failed = False

    def write(self, data: dict[str, Any]) -> None:
        self.writes += 1
        if self.writes == self.fail_at:
            self.failed = True
            raise OSError(errno.ENOSPC, "No space left on device (injected)", str(self.path))
        super().write(data)
