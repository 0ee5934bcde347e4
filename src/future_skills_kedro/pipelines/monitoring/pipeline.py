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


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                load_prediction_window,
                inputs=["monitoring_prediction_logs", "params:monitoring.window"],
                outputs=["monitoring_predictions", "monitoring_window"],
                name="load_prediction_window",
                tags=["window"],
            ),
            node(
                load_previous_window,
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
                detect_feature_drift,
                inputs=[
                    "monitoring_predictions",
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
                detect_prediction_drift,
                inputs=[
                    "monitoring_predictions",
                    "monitoring_reference",
                    "params:monitoring.prediction_drift",
                ],
                outputs="monitoring_prediction_drift",
                name="detect_prediction_drift",
                tags=["drift"],
            ),
            node(
                evaluate_performance,
                inputs=[
                    "monitoring_predictions",
                    "skill_need_labels",
                    "monitoring_reference",
                    "params:monitoring.performance",
                ],
                outputs="monitoring_performance",
                name="evaluate_performance",
                tags=["performance"],
            ),
            node(
                estimate_performance,
                inputs=[
                    "monitoring_predictions",
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
