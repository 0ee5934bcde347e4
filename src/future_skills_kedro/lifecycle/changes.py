"""All-or-nothing lifecycle changes: a command that fails, or is killed, changes nothing.

The registry (aliases, version tags) and the audit file are two stores: no transaction spans
both. So every lifecycle change, under the decision lock:

1. makes every check that can fail (audit file readable, target version valid) before
   writing anything;
2. records its *intent* in the audit file (``pending``: what it does, who, and a snapshot of
   the aliases and tags it may touch), in one atomic write;
3. writes the registry;
4. records its events and the new registry mirror, clearing ``pending``, in one atomic write.

An exception in 3 or 4 (registry error, full disk, Ctrl-C) puts the snapshot back and clears
``pending``: the registry and the audit file are as before, and the error says so. A process
killed in 3 or 4 leaves ``pending`` behind; the next lifecycle command finds it under the lock
(nobody else can be running it), puts the snapshot back and records a ``recover`` event.
``kedro models list`` reports it meanwhile. If the registry cannot be put back (it stopped
answering), ``pending`` stays until it can.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from future_skills_kedro.lifecycle.audit_log import AuditEvent, AuditLog, current_user
from future_skills_kedro.lifecycle.registry import (
    LifecycleError,
    ModelRegistry,
    RegistryState,
    utc_now_iso,
)


class ChangeNotUndone(LifecycleError):
    """A change failed and the registry could not be put back: the audit file says so."""


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


@contextmanager
def registry_change(
    registry: ModelRegistry, audit_log: AuditLog, operation: str, versions: Iterable[int]
) -> Iterator[None]:
    """Run the ``with`` block's registry writes and final ``audit_log.append`` all or nothing.

    ``versions``: every version whose tags the block may change (aliases are always saved).
    Call under ``decision_lock``, after :func:`recover_interrupted`. The block must end with
    the ``audit_log.append`` that records its events (which clears ``pending``).
    """
    snapshot = registry.snapshot(tuple(versions))
    audit_log.begin(
        {
            "operation": operation,
            "user": current_user(),
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": utc_now_iso(),
            "snapshot": snapshot,
        }
    )
    try:
        yield
    except BaseException as exc:
        try:
            registry.restore(snapshot)
        except Exception as restore_error:
            raise ChangeNotUndone(
                f"{operation} failed ({_short(exc)}) and putting the registry back failed too "
                f"({_short(restore_error)}); the audit log keeps the unfinished change: "
                "`kedro models sync-audit` puts the registry back once it answers"
            ) from exc
        try:
            audit_log.clear_pending()
        except Exception as clear_error:
            raise ChangeNotUndone(
                f"{operation} failed ({_short(exc)}); the registry was put back, but the audit "
                f"log still marks the change as unfinished ({_short(clear_error)}): "
                "`kedro models sync-audit` clears it"
            ) from exc
        if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: keep their meaning
            raise
        raise LifecycleError(
            f"{operation} failed and was undone, nothing changed: {_short(exc)}"
        ) from exc


def recover_interrupted(
    registry: ModelRegistry, audit_log: AuditLog, metric: str
) -> RegistryState | None:
    """Undo the unfinished change left by a killed process; None when there was none.

    Call under ``decision_lock``: then no other process can be running that change. Reads the
    audit file first, so a corrupt one fails here, before any registry write.
    """
    pending = audit_log.pending()
    if pending is None:
        return None
    registry.restore(pending["snapshot"])
    state = registry.state()
    champion = state.champion
    event = AuditEvent(
        "recover",
        None if champion is None else champion.version,
        None if champion is None else champion.semver,
        reason=(
            f"put the registry back as it was before the unfinished {pending.get('operation')} "
            f"by {pending.get('user')} (pid {pending.get('pid')} on {pending.get('host')}, "
            f"started {pending.get('started')})"
        ),
    )
    audit_log.append([event], state, metric)
    return state
