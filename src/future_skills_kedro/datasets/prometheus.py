"""Prometheus outputs as Kedro datasets: a textfile-collector file and a Pushgateway push.

``PrometheusTextfileDataset`` writes atomically (temporary file in the same folder, fsync,
rename): node_exporter reads the folder at any moment and must never see half a file.
``PushgatewayDataset`` pushes with prometheus_client's ``push_to_gateway`` and never fails
a run: monitoring that crashes because the metrics gateway is down would hide the very
status it computed. A failed push is logged as a warning and recorded (``load`` returns
the outcome).
"""

from __future__ import annotations

import http.client
import logging
import urllib.error
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from future_skills_kedro.atomic_files import atomic_write_text

logger = logging.getLogger(__name__)


class PrometheusTextfileDataset(AbstractDataset[str, str]):
    """A ``.prom`` file for node_exporter's textfile collector, replaced atomically.

    Args:
        filepath: the file, e.g. ``/var/lib/node_exporter/textfile/future_skills.prom``.
        mode: permission bits of the written file (node_exporter usually runs as another
            user, so the default is world-readable).
    """

    def __init__(
        self, filepath: str, mode: int = 0o644, metadata: dict[str, Any] | None = None
    ) -> None:
        self._filepath = Path(filepath)
        self._mode = mode
        self.metadata = metadata

    def save(self, data: str) -> None:
        atomic_write_text(self._filepath, data, mode=self._mode)

    def load(self) -> str:
        try:
            return self._filepath.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise DatasetError(f"{self._filepath} does not exist yet") from exc

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}


class _ParsedText:
    """A prometheus_client collector over metric families parsed from exposition text.

    The node renders the text once for both outputs; parsing it back with
    prometheus_client's own parser lets ``push_to_gateway`` send exactly the samples of
    metrics.prom (the round trip is lossless) and rejects malformed text before any request.
    """

    def __init__(self, text: str) -> None:
        from prometheus_client.parser import text_string_to_metric_families

        self._families = list(text_string_to_metric_families(text))

    def collect(self) -> Iterable[Any]:
        return iter(self._families)


class PushgatewayDataset(AbstractDataset[str, dict]):
    """Push Prometheus text to a Pushgateway with ``prometheus_client.push_to_gateway``
    (PUT: replaces the metrics of the same job and grouping key). Off when ``url`` is null.

    ``load`` returns the outcome of the last save: ``{"enabled", "pushed", "url", "status",
    "error"}``; ``url`` is the group's URL pushed to, ``status`` the HTTP status of a push
    the gateway refused (else null).

    Args:
        url: e.g. ``http://pushgateway:9091``; null disables the push.
        job: the ``job`` grouping label.
        grouping_key: further grouping labels, e.g. ``{instance: nightly}`` (values with
            ``/``, spaces or empty are base64-encoded in the URL by prometheus_client).
        timeout_s: connect/read timeout of the push.
        credentials: ``{username, password}`` for a Pushgateway behind HTTP basic auth
            (``credentials: <key>`` in the catalog, the values in ``credentials.yml``).
    """

    def __init__(
        self,
        url: str | None = None,
        job: str = "future_skills_monitoring",
        grouping_key: dict[str, str] | None = None,
        timeout_s: float = 5.0,
        credentials: dict[str, str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._url = url.rstrip("/") if url else None
        self._job = job
        self._grouping_key = {str(k): str(v) for k, v in (grouping_key or {}).items()}
        self._timeout_s = timeout_s
        self._credentials = _basic_auth(credentials)
        self._outcome: dict[str, Any] = {"enabled": bool(url), "pushed": False, "error": None}
        self.metadata = metadata

    def _handler(self, pushed_to: dict[str, str]) -> Callable[..., Callable[[], None]]:
        """prometheus_client's own HTTP handler (basic auth when configured), noting the URL
        it builds from the job and grouping key."""
        from prometheus_client.exposition import basic_auth_handler, default_handler

        def handler(url, method, timeout, headers, data):
            pushed_to["url"] = url
            if self._credentials is None:
                return default_handler(url, method, timeout, headers, data)
            username, password = self._credentials
            return basic_auth_handler(url, method, timeout, headers, data, username, password)

        return handler

    def save(self, data: str) -> None:
        if self._url is None:
            self._outcome = {"enabled": False, "pushed": False, "url": None, "error": None}
            logger.info("Pushgateway push disabled (no url configured)")
            return
        from prometheus_client import push_to_gateway

        pushed_to = {"url": self._url}  # replaced by the group's URL once one is built
        status = None
        try:
            metrics = _ParsedText(data)
        except ValueError as exc:
            error = f"not valid Prometheus text: {exc}"
        else:
            try:
                push_to_gateway(
                    self._url,
                    job=self._job,
                    registry=metrics,
                    grouping_key=self._grouping_key,
                    timeout=self._timeout_s,
                    handler=self._handler(pushed_to),
                )
            except urllib.error.HTTPError as exc:  # the gateway answered and refused
                body = exc.read().decode("utf-8", errors="replace")[:300]
                error, status = f"HTTP {exc.code}: {body.strip()}", exc.code
            # Refused, timed out, unresolvable, bad URL, or not an HTTP server at all.
            except (OSError, ValueError, http.client.HTTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
            else:
                error = None
        self._outcome = {
            "enabled": True,
            "pushed": error is None,
            "url": pushed_to["url"],
            "status": status,
            "error": error,
        }
        if error is None:
            logger.info("pushed monitoring metrics to %s", pushed_to["url"])
        else:
            logger.warning("could not push monitoring metrics to %s: %s", pushed_to["url"], error)

    def load(self) -> dict:
        return dict(self._outcome)

    def _describe(self) -> dict[str, Any]:
        # Never the credentials: Kedro logs this description.
        return {
            "url": self._url,
            "job": self._job,
            "grouping_key": self._grouping_key,
            "basic_auth": self._credentials is not None,
        }


def _basic_auth(credentials: dict[str, str] | None) -> tuple[str, str] | None:
    if not credentials:
        return None
    missing = sorted({"username", "password"} - set(credentials))
    if missing:
        raise DatasetError(
            f"PushgatewayDataset credentials need 'username' and 'password'; missing {missing}"
        )
    return str(credentials["username"]), str(credentials["password"])
