"""Tuning pipeline: time-based folds of the training set, the Optuna study, the best trial.

``pipeline_registry.py`` puts data_engineering and training's split in front: the nodes
here only ever receive ``train_set`` (the holdout quarters never reach them).
"""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import assign_time_folds, search_hyperparameters, select_best_trial


def create_pipeline(**kwargs) -> Pipeline:
    """The nodes after the train/holdout split."""
    return pipeline(
        [
            node(
                assign_time_folds,
                inputs=["train_set", "params:tuning.cv"],
                outputs="tuning_folds",
                name="assign_time_folds",
            ),
            node(
                search_hyperparameters,
                inputs=["train_set", "tuning_folds", "params:training.model", "params:tuning"],
                outputs="tuning_trials",
                name="search_hyperparameters",
            ),
            node(
                select_best_trial,
                inputs=["tuning_trials", "params:training.model", "params:tuning"],
                # tuned_parameters last: saved once the trial runs are logged
                outputs=[
                    "tuning_trial_runs",
                    "tuning_best_params",
                    "tuning_metrics",
                    "tuned_parameters",
                ],
                name="select_best_trial",
            ),
        ],
        tags="tuning",
        namespace="tuning",
        prefix_datasets_with_namespace=False,
    )
