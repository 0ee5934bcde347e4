"""Prometheus outputs as Kedro datasets: a textfile-collector file and a Pushgateway push.

``PrometheusTextfileDataset`` writes atomically (temporary file in the same folder, fsync,
rename): node_exporter reads the folder at any moment and must never see half a file.
``PushgatewayDataset`` never fails a run: monitoring that crashes because the metrics
gateway is down would hide the very status it computed. A failed push is logged as a
warning and recorded (``load`` returns the outcome).
"""

from __future__ import annotations

import base64
import logging
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kedro.io import AbstractDataset, DatasetError

from future_skills_kedro.atomic_files import atomic_write_text

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


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


def _path_segment(name: str, value: str) -> str:
    """Pushgateway URL path for one grouping label (base64 when '/' or empty)."""
    if not value or "/" in value:
        encoded = base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii")
        return f"{name}@base64/{encoded or '='}"
    return f"{name}/{quote(value, safe='')}"


class PushgatewayDataset(AbstractDataset[str, dict]):
    """Push Prometheus text to a Pushgateway (PUT: replaces the job's group). Off when
    ``url`` is null.

    ``load`` returns the outcome of the last save: ``{"enabled", "pushed", "url", "status",
    "error"}``.

    Args:
        url: e.g. ``http://pushgateway:9091``; null disables the push.
        job: the ``job`` grouping label.
        grouping_key: further grouping labels, e.g. ``{instance: nightly}``.
        timeout_s: connect/read timeout of the push.
    """

    def __init__(
        self,
        url: str | None = None,
        job: str = "future_skills_monitoring",
        grouping_key: dict[str, str] | None = None,
        timeout_s: float = 5.0,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._url = url.rstrip("/") if url else None
        self._job = job
        self._grouping_key = dict(grouping_key or {})
        self._timeout_s = timeout_s
        self._outcome: dict[str, Any] = {"enabled": bool(url), "pushed": False, "error": None}
        self.metadata = metadata

    @property
    def push_url(self) -> str | None:
        if not self._url:
            return None
        segments = [_path_segment("job", self._job)]
        segments += [_path_segment(k, str(v)) for k, v in self._grouping_key.items()]
        return f"{self._url}/metrics/" + "/".join(segments)

    def save(self, data: str) -> None:
        url = self.push_url
        if url is None:
            self._outcome = {"enabled": False, "pushed": False, "url": None, "error": None}
            logger.info("Pushgateway push disabled (no url configured)")
            return
        request = urllib.request.Request(
            url, data=data.encode("utf-8"), method="PUT", headers={"Content-Type": CONTENT_TYPE}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", errors="replace")[:300]
            error = f"HTTP {exc.code}: {body.strip()}"
            status = exc.code
        except (OSError, ValueError) as exc:  # URLError, timeouts, refused, bad URL
            error, status = f"{type(exc).__name__}: {exc}", None
        else:
            self._outcome = {
                "enabled": True,
                "pushed": True,
                "url": url,
                "status": status,
                "error": None,
            }
            logger.info("pushed monitoring metrics to %s", url)
            return
        self._outcome = {
            "enabled": True,
            "pushed": False,
            "url": url,
            "status": status,
            "error": error,
        }
        logger.warning("could not push monitoring metrics to %s: %s", url, error)

    def load(self) -> dict:
        return dict(self._outcome)

    def _describe(self) -> dict[str, Any]:
        return {"url": self._url, "job": self._job, "grouping_key": self._grouping_key}
