"""Training pipeline: split, fit, evaluate, compare with the champion on the same holdout.

``pipeline_registry.py`` puts data_engineering in front and packages the whole with
kedro-mlflow's ``pipeline_ml_factory``: the logged MLflow model is
:func:`create_inference_pipeline`, so serving runs exactly the code that was evaluated.
"""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import (
    build_promotion_evidence,
    calibrate_drift_thresholds,
    calibrate_probabilities,
    compare_slices,
    evaluate_champion,
    evaluate_on_holdout,
    permutation_feature_importance,
    plot_confusion_matrix,
    score_model_input,
    select_reference_features,
    select_signature_rows,
    split_train_holdout,
    summarise_holdout,
    train_classifier,
)


def create_pipeline(**kwargs) -> Pipeline:
    """The nodes after the model-input table."""
    return pipeline(
        [
            node(
                split_train_holdout,
                inputs=["model_input_table", "params:training.split"],
                outputs=["train_set", "holdout_set", "split_info"],
                name="split_train_holdout",
                tags=["split"],
            ),
            node(
                select_signature_rows,
                inputs=["holdout_set", "params:training.model", "params:training.signature_rows"],
                outputs="model_input_rows",
                name="select_signature_rows",
                tags=["split"],
            ),
            node(
                select_reference_features,
                inputs=[
                    "train_set",
                    "holdout_set",
                    "params:training.reference_features.max_rows",
                    "params:training.reference_features.seed",
                ],
                outputs="reference_features",
                name="select_reference_features",
                tags=["monitoring_reference"],
            ),
            node(
                calibrate_drift_thresholds,
                inputs=[
                    "train_set",
                    "holdout_set",
                    "params:monitoring.drift",
                    "params:training.drift_calibration",
                ],
                outputs="drift_calibration",
                name="calibrate_drift_thresholds",
                tags=["monitoring_reference"],
            ),
            node(
                train_classifier,
                inputs=["train_set", "params:training.model"],
                outputs=["classifier", "fit_metrics", "model_hyperparameters"],
                name="train_classifier",
                tags=["fit"],
            ),
            node(
                evaluate_on_holdout,
                inputs=["classifier", "holdout_set", "fit_metrics"],
                outputs=[
                    "holdout_metrics",
                    "holdout_scores",
                    "holdout_predictions",
                    "classification_report",
                ],
                name="evaluate_on_holdout",
                tags=["evaluate"],
            ),
            node(
                calibrate_probabilities,
                inputs=["holdout_predictions", "params:training.calibration"],
                outputs=["probability_calibration", "calibration_metrics"],
                name="calibrate_probabilities",
                tags=["evaluate", "monitoring_reference"],
            ),
            node(
                plot_confusion_matrix,
                inputs="holdout_predictions",
                outputs="confusion_matrix_plot",
                name="plot_confusion_matrix",
                tags=["evaluate"],
            ),
            node(
                permutation_feature_importance,
                inputs=["classifier", "holdout_set", "params:training.permutation_importance"],
                outputs=["feature_importance", "feature_importance_plot"],
                name="permutation_feature_importance",
                tags=["evaluate"],
            ),
            node(
                evaluate_champion,
                inputs=["champion_model", "holdout_set", "holdout_predictions"],
                outputs=[
                    "champion_metrics",
                    "champion_comparison",
                    "paired_correctness",
                    "champion_holdout_predictions",
                ],
                name="evaluate_champion_on_same_holdout",
                tags=["evaluate", "champion"],
            ),
            node(
                compare_slices,
                inputs=[
                    "holdout_set",
                    "holdout_predictions",
                    "champion_holdout_predictions",
                    "params:lifecycle.promotion",
                ],
                outputs="slice_comparison",
                name="compare_slices",
                tags=["evaluate", "champion"],
            ),
            node(
                summarise_holdout,
                inputs=[
                    "train_set",
                    "holdout_set",
                    "holdout_predictions",
                    "champion_holdout_predictions",
                    "params:lifecycle.promotion.significance",
                ],
                outputs="holdout_summary",
                name="summarise_holdout",
                tags=["evaluate", "champion"],
            ),
            node(
                build_promotion_evidence,
                inputs=[
                    "model_input_table",
                    "model_input_rows",
                    "paired_correctness",
                    "split_info",
                    "params:training.model",
                    "holdout_scores",
                    "champion_comparison",
                ],
                outputs=["promotion_evidence", "training_run_params"],
                name="build_promotion_evidence",
                tags=["evaluate", "champion"],
            ),
        ],
        tags="training",
        # Groups the nodes for kedro viz; dataset names stay the catalog's.
        namespace="training",
        prefix_datasets_with_namespace=False,
    )


def create_inference_pipeline(**kwargs) -> Pipeline:
    """What the logged MLflow model runs: model-input rows in, scored rows out."""
    return pipeline(
        [
            node(
                score_model_input,
                inputs=["classifier", "model_input_rows"],
                outputs="need_predictions",
                name="score_model_input",
                tags=["inference"],
            )
        ]
    )
