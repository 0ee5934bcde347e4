"""Inference pipeline: score the newest quarter with the champion, log it, plan for HR.

``pipeline_registry.py`` puts data_engineering in front, so ``kedro run --pipelines
inference`` first validates the raw files (new signals are checked exactly as for training
and the ``validated_*`` tables are current), then scores. To score again from the already
validated tables, run only these nodes: ``kedro run --pipelines inference --tags inference``.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import (
    build_prediction_log,
    build_predictions,
    build_scoring_snapshot,
    decide_purpose,
    flag_unseen_categories,
    open_champion,
    resolve_champion,
    score_snapshot,
    split_scorable_rows,
    summarise_inference,
)
from .recommendations import plot_top_skills, recommend_actions, render_recommendation_report


def create_pipeline(**kwargs) -> Pipeline:
    """The nodes after the validated tables: snapshot, checks, scoring, logs, plan."""
    return pipeline(
        [
            # No inputs from data_engineering: runs in the first batch (after the in-memory
            # schema checks, which sort first by namespace), so a missing champion fails the
            # run before any file is written.
            node(
                resolve_champion,
                inputs="scoring_model_version",
                outputs="champion",
                name="resolve_champion",
                tags=["champion"],
            ),
            node(
                decide_purpose,
                inputs=["champion", "params:inference.snapshot", "params:inference.purpose"],
                outputs="scoring_purpose",
                name="decide_purpose",
                tags=["champion"],
            ),
            node(
                open_champion,
                inputs=["champion", "scoring_model"],
                outputs=["champion_pyfunc", "champion_categories"],
                name="open_champion",
                tags=["champion"],
            ),
            node(
                build_scoring_snapshot,
                inputs=[
                    "validated_job_roles",
                    "validated_skills",
                    "validated_market_signals",
                    "validated_economic_indicators",
                    "validated_internal_signals",
                    "params:inference.snapshot",
                ],
                outputs="scoring_snapshot",
                name="build_scoring_snapshot",
                tags=["features"],
            ),
            node(
                split_scorable_rows,
                inputs=["scoring_snapshot", "params:inference.snapshot.max_rejected_share"],
                outputs=["scorable_rows", "rejected_scoring_rows", "snapshot_quality"],
                name="split_scorable_rows",
                tags=["features", "validation"],
            ),
            node(
                flag_unseen_categories,
                inputs=["scorable_rows", "champion_categories"],
                outputs="unseen_categories",
                name="flag_unseen_categories",
                tags=["scoring"],
            ),
            node(
                score_snapshot,
                inputs=[
                    "champion_pyfunc",
                    "scorable_rows",
                    "snapshot_quality",
                    "params:inference.scoring.chunk_rows",
                ],
                outputs=["model_scores", "scoring_stats"],
                name="score_snapshot",
                tags=["scoring"],
            ),
            node(
                build_predictions,
                inputs=[
                    "scorable_rows",
                    "model_scores",
                    "unseen_categories",
                    "champion",
                    "scoring_stats",
                ],
                outputs="predictions",
                name="build_predictions",
                tags=["scoring"],
            ),
            node(
                build_prediction_log,
                inputs=[
                    "scorable_rows",
                    "model_scores",
                    "champion",
                    "scoring_stats",
                    "scoring_purpose",
                    "params:inference.scoring.chunk_rows",
                ],
                # Sorts before build_predictions (same inputs ready): a batch whose records
                # cannot be logged fails the run before predictions.parquet is written.
                outputs="prediction_log_batch",
                name="build_prediction_log",
                tags=["scoring", "prediction_logs"],
            ),
            node(
                recommend_actions,
                inputs=["scorable_rows", "model_scores", "params:inference.recommendations"],
                outputs="recommendations",
                name="recommend_actions",
                tags=["recommendations"],
            ),
            node(
                summarise_inference,
                inputs=[
                    "predictions",
                    "scorable_rows",
                    "unseen_categories",
                    "champion_categories",
                    "snapshot_quality",
                    "scoring_stats",
                    "champion",
                    "recommendations",
                    "scoring_purpose",
                ],
                outputs=["inference_summary", "inference_metrics", "inference_run_params"],
                name="summarise_inference",
                tags=["tracking"],
            ),
            node(
                plot_top_skills,
                inputs=["recommendations", "params:inference.recommendations"],
                outputs="recommendations_chart",
                name="plot_top_skills",
                tags=["recommendations", "reporting"],
            ),
            node(
                render_recommendation_report,
                inputs=[
                    "recommendations",
                    "inference_summary",
                    "params:inference.recommendations",
                ],
                outputs="recommendations_report",
                name="render_recommendation_report",
                tags=["recommendations", "reporting"],
            ),
        ],
        tags="inference",
        # Groups the nodes for kedro viz; dataset names stay the catalog's.
        namespace="inference",
        prefix_datasets_with_namespace=False,
    )


def create_spark_pipeline(**kwargs) -> Pipeline:
    """The same run on Spark (``--env spark``, docs/spark.md): same node names and outputs.

    The champion's facts, purpose and categories come from the pandas nodes; the Spark nodes
    (``future_skills_kedro.spark.inference``, imported here only) run the pandas path's
    functions per partition. ``check_champion_inputs`` feeds the snapshot, so an incompatible
    champion stops the run before any Spark job.
    """
    from future_skills_kedro.spark import inference as spark

    return pipeline(
        [
            node(
                resolve_champion,
                inputs="scoring_model_version",
                outputs="champion",
                name="resolve_champion",
                tags=["champion"],
            ),
            node(
                decide_purpose,
                inputs=["champion", "params:inference.snapshot", "params:inference.purpose"],
                outputs="scoring_purpose",
                name="decide_purpose",
                tags=["champion"],
            ),
            node(
                open_champion,
                inputs=["champion", "scoring_model"],
                outputs=["champion_pyfunc", "champion_categories"],
                name="open_champion",
                tags=["champion"],
            ),
            node(
                spark.check_champion_inputs,
                inputs=["champion", "champion_pyfunc"],
                outputs="champion_input_columns",
                name="check_champion_inputs",
                tags=["champion"],
            ),
            node(
                spark.build_spark_snapshot,
                inputs=[
                    "validated_job_roles",
                    "validated_skills",
                    "validated_market_signals",
                    "validated_economic_indicators",
                    "validated_internal_signals",
                    "params:inference.snapshot",
                    "champion_input_columns",
                ],
                outputs="spark_scoring_snapshot",
                name="build_scoring_snapshot",
                tags=["features"],
            ),
            node(
                spark.split_spark_snapshot,
                inputs=["spark_scoring_snapshot", "params:inference.snapshot.max_rejected_share"],
                outputs=["spark_scorable_rows", "rejected_scoring_rows", "snapshot_quality"],
                name="split_scorable_rows",
                tags=["features", "validation"],
            ),
            node(
                spark.score_spark_snapshot,
                inputs=[
                    "champion",
                    "champion_input_columns",
                    "spark_scorable_rows",
                    "snapshot_quality",
                ],
                outputs=["spark_scored_rows", "scoring_stats"],
                name="score_snapshot",
                tags=["scoring"],
            ),
            node(
                spark.build_spark_predictions,
                inputs=["spark_scored_rows", "champion_categories", "champion", "scoring_stats"],
                outputs="spark_predictions",
                name="build_predictions",
                tags=["scoring"],
            ),
            node(
                spark.write_spark_predictions,
                inputs="spark_predictions",
                outputs="predictions",
                name="write_predictions",
                tags=["scoring"],
            ),
            node(
                spark.build_spark_prediction_log,
                inputs=["spark_scored_rows", "champion", "scoring_stats", "scoring_purpose"],
                outputs="prediction_log_batch",
                name="build_prediction_log",
                tags=["scoring", "prediction_logs"],
            ),
            node(
                spark.recommend_on_spark,
                inputs=["spark_scored_rows", "params:inference.recommendations"],
                outputs="recommendations",
                name="recommend_actions",
                tags=["recommendations"],
            ),
            node(
                spark.summarise_spark_inference,
                inputs=[
                    "spark_predictions",
                    "champion_categories",
                    "snapshot_quality",
                    "scoring_stats",
                    "champion",
                    "recommendations",
                    "scoring_purpose",
                ],
                outputs=["inference_summary", "inference_metrics", "inference_run_params"],
                name="summarise_inference",
                tags=["tracking"],
            ),
            node(
                plot_top_skills,
                inputs=["recommendations", "params:inference.recommendations"],
                outputs="recommendations_chart",
                name="plot_top_skills",
                tags=["recommendations", "reporting"],
            ),
            node(
                render_recommendation_report,
                inputs=[
                    "recommendations",
                    "inference_summary",
                    "params:inference.recommendations",
                ],
                outputs="recommendations_report",
                name="render_recommendation_report",
                tags=["recommendations", "reporting"],
            ),
        ],
        tags="inference",
        namespace="inference",
        prefix_datasets_with_namespace=False,
    )
