"""Evaluation pipeline: re-evaluate the registered champion (and challenger) on newer labels."""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import evaluate_registered_models, plot_metrics_by_quarter, select_evaluation_rows


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                select_evaluation_rows,
                inputs=["model_input_table", "registered_champion", "params:evaluation"],
                outputs=["evaluation_rows", "evaluation_window"],
                name="select_evaluation_rows",
            ),
            node(
                evaluate_registered_models,
                inputs=[
                    "evaluation_rows",
                    "registered_champion",
                    "registered_challenger",
                    "evaluation_window",
                ],
                outputs=["evaluation_report", "evaluation_metrics", "evaluation_by_quarter"],
                name="evaluate_registered_models",
            ),
            node(
                plot_metrics_by_quarter,
                inputs="evaluation_by_quarter",
                outputs="evaluation_by_quarter_plot",
                name="plot_metrics_by_quarter",
            ),
        ],
        tags="evaluation",
        # Groups the nodes for kedro viz; dataset names stay the catalog's.
        namespace="evaluation",
        prefix_datasets_with_namespace=False,
    )
