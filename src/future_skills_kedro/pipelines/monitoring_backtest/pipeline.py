"""Drift backtest (docs/monitoring.md): `kedro run --pipelines monitoring_backtest`.

model_input_table (the labelled quarters) -> each quarter against the reference and the
thresholds the policy would have had then, as it is and with injected shifts ->
drift_backtest.json (false-alarm rate, detection power) + drift_backtest.png.
"""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import plot_drift_backtest, replay_drift_history


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                replay_drift_history,
                inputs=[
                    "model_input_table",
                    "params:monitoring.drift",
                    "params:training.drift_calibration",
                    "params:training.split.holdout_quarters",
                    "params:monitoring.backtest",
                ],
                outputs="drift_backtest",
                name="replay_drift_history",
                tags=["backtest"],
            ),
            node(
                plot_drift_backtest,
                inputs="drift_backtest",
                outputs="drift_backtest_plot",
                name="plot_drift_backtest",
                tags=["backtest"],
            ),
        ],
        tags="monitoring_backtest",
        namespace="monitoring_backtest",
        prefix_datasets_with_namespace=False,
    )
