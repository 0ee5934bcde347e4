"""Process entry point for the concurrency test (importable by a spawned interpreter)."""

from __future__ import annotations

import time


def decide_in_process(job: dict, barrier, queue) -> None:
    """Wait for the sibling, then run apply_lifecycle; slow reads widen any race window."""
    from mlflow import MlflowClient

    from future_skills_kedro.lifecycle import AuditLog, ModelRegistry, apply_lifecycle

    class SlowRegistry(ModelRegistry):
        def champion(self):
            found = super().champion()
            time.sleep(0.2)  # without the lock, both processes would read the same champion
            return found

    registry = SlowRegistry(MlflowClient(tracking_uri=job["tracking_uri"]), job["model_name"])
    candidate = job["candidate"]
    barrier.wait(timeout=120)
    try:
        outcome = apply_lifecycle(
            registry, AuditLog(job["audit_path"]), candidate, job["policy"], lock_timeout_s=60
        )
        queue.put((candidate.version, outcome.promotion.outcome, outcome.evidence, outcome.line))
    except Exception as exc:  # report, so the parent test shows the real error
        queue.put((candidate.version, "error", "", repr(exc)))


def promote_and_get_killed(
    tracking_uri: str, model_name: str, audit_path: str, version: int, kill_after: str
) -> None:
    """Promote ``version`` and be killed (SIGKILL) right after the ``kill_after`` call returned:
    a registry method, or ``audit_write`` for the audit write that ends the change."""
    import os
    import signal

    from mlflow import MlflowClient

    from future_skills_kedro.lifecycle import AuditLog, ModelRegistry, promote_version

    from .faults import FaultyClient

    class DyingAuditLog(AuditLog):
        def append(self, events, state=None, metric="macro_f1"):
            os.kill(os.getpid(), signal.SIGKILL)

    client = MlflowClient(tracking_uri=tracking_uri)
    if kill_after == "audit_write":
        registry, audit = ModelRegistry(client, model_name), DyingAuditLog(audit_path)
    else:
        faulty = FaultyClient(client, kill_after=kill_after)
        registry, audit = ModelRegistry(faulty, model_name), AuditLog(audit_path)
    promote_version(registry, audit, version, "this process is killed mid-command")
