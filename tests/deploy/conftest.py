"""The deploy tests use the monitoring tests' promtool and real Pushgateway fixtures."""

from tests.pipelines.monitoring.conftest import (  # noqa: F401 (fixtures)
    params,
    promtool,
    pushgateway,
)
