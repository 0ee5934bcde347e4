"""Monitoring pipeline (docs/monitoring.md): `kedro run --pipelines monitoring`.

window of prediction logs + the champion's own training features and holdout predictions
-> feature drift, prediction drift, performance where labels exist, performance estimated
from calibrated probabilities -> health -> summary,
drift report, metrics.prom (+ optional Pushgateway push), MLflow metrics -> exit policy.
"""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import (
    assess_health,
    build_summary,
    describe_reference,
    detect_feature_drift,
    detect_prediction_drift,
    enforce_exit_policy,
    estimate_performance,
    evaluate_performance,
    load_prediction_window,
    load_previous_window,
    render_prometheus_metrics,
)

ENGINES = ("pandas", "spark")


def create_pipeline(engine: str = "pandas", **kwargs) -> Pipeline:
    """The monitoring pipeline; ``engine="spark"`` (``--env spark``) reads and aggregates the
    window on Spark and runs the same nodes on its aggregates (docs/spark.md)."""
    if engine not in ENGINES:
        raise ValueError(f"monitoring engine must be one of {ENGINES}, got {engine!r}")
    window = "monitoring_predictions"
    if engine == "spark":
        from future_skills_kedro.pipelines.monitoring import window_aggregates as on_aggregates
        from future_skills_kedro.spark.monitoring import (
            aggregate_previous_window,
            aggregate_window,
        )

        window = "monitoring_window_aggregates"
        read_previous = aggregate_previous_window
        read = node(
            aggregate_window,
            inputs=[
                "monitoring_prediction_logs",
                "params:monitoring.window",
                "params:monitoring.drift",
                "params:monitoring.performance",
                "skill_need_labels",
            ],
            outputs=[window, "monitoring_window"],
            name="load_prediction_window",
            tags=["window"],
        )
        feature_drift, prediction_drift = (
            on_aggregates.detect_feature_drift,
            on_aggregates.detect_prediction_drift,
        )
        evaluate, estimate = on_aggregates.evaluate_performance, on_aggregates.estimate_performance
    else:
        read = node(
            load_prediction_window,
            inputs=["monitoring_prediction_logs", "params:monitoring.window"],
            outputs=[window, "monitoring_window"],
            name="load_prediction_window",
            tags=["window"],
        )
        read_previous = load_previous_window
        feature_drift, prediction_drift = detect_feature_drift, detect_prediction_drift
        evaluate, estimate = evaluate_performance, estimate_performance
    return pipeline(
        [
            read,
            node(
                read_previous,
                inputs=[
                    "monitoring_prediction_logs",
                    "params:monitoring.window",
                    "params:monitoring.drift",
                ],
                outputs=["monitoring_previous_predictions", "monitoring_previous_window"],
                name="load_previous_window",
                tags=["window"],
            ),
            node(
                describe_reference,
                inputs=[
                    "monitoring_reference",
                    "monitoring_window",
                    "params:monitoring.health.important_features",
                ],
                outputs="monitoring_reference_info",
                name="describe_reference",
                tags=["window"],
            ),
            node(
                feature_drift,
                inputs=[
                    window,
                    "monitoring_reference",
                    "params:monitoring.drift",
                    "monitoring_previous_predictions",
                    "monitoring_previous_window",
                ],
                outputs=["monitoring_feature_drift", "monitoring_drift_report"],
                name="detect_feature_drift",
                tags=["drift"],
            ),
            node(
                prediction_drift,
                inputs=[
                    window,
                    "monitoring_reference",
                    "params:monitoring.prediction_drift",
                ],
                outputs="monitoring_prediction_drift",
                name="detect_prediction_drift",
                tags=["drift"],
            ),
            node(
                evaluate,
                inputs=[
                    window,
                    "skill_need_labels",
                    "monitoring_reference",
                    "params:monitoring.performance",
                ],
                outputs="monitoring_performance",
                name="evaluate_performance",
                tags=["performance"],
            ),
            node(
                estimate,
                inputs=[
                    window,
                    "skill_need_labels",
                    "monitoring_reference",
                    "params:monitoring.performance_estimate",
                ],
                outputs="monitoring_performance_estimate",
                name="estimate_performance",
                tags=["performance"],
            ),
            node(
                assess_health,
                inputs=[
                    "monitoring_window",
                    "monitoring_reference_info",
                    "monitoring_feature_drift",
                    "monitoring_prediction_drift",
                    "monitoring_performance",
                    "params:monitoring.health",
                    "monitoring_performance_estimate",
                ],
                outputs="monitoring_health",
                name="assess_health",
                tags=["health"],
            ),
            node(
                build_summary,
                inputs=[
                    "monitoring_window",
                    "monitoring_reference_info",
                    "monitoring_feature_drift",
                    "monitoring_prediction_drift",
                    "monitoring_performance",
                    "monitoring_health",
                    "monitoring_performance_estimate",
                ],
                outputs=["monitoring_summary", "monitoring_metrics"],
                name="build_summary",
                tags=["publish"],
            ),
            node(
                render_prometheus_metrics,
                inputs="monitoring_summary",
                outputs=["monitoring_metrics_prom", "monitoring_pushgateway"],
                name="render_prometheus_metrics",
                tags=["publish"],
            ),
            # Last: its inputs are the written outputs, so a failing status stops the run
            # (non-zero exit for cron/Airflow) only after everything was published.
            node(
                enforce_exit_policy,
                inputs=[
                    "monitoring_summary",
                    "monitoring_metrics_prom",
                    "monitoring_pushgateway",
                    "params:monitoring.exit_policy",
                ],
                outputs=None,
                name="enforce_exit_policy",
                tags=["exit_policy"],
            ),
        ],
        tags="monitoring",
        # Groups the nodes for kedro viz; dataset names stay the catalog's.
        namespace="monitoring",
        prefix_datasets_with_namespace=False,
    )
