"""Project settings: hooks and configuration loading."""

import warnings

from omegaconf.resolvers import oc

from future_skills_kedro import third_party_warnings
from future_skills_kedro.data_catalog import ProjectDataCatalog
from future_skills_kedro.hooks import (
    LifecyclePreflightHook,
    MlflowRunFailureHook,
    MlflowTrackingSetupHook,
    ModelLifecycleHook,
    ParameterValidationHook,
    ScoringPurposeHook,
    SparkHook,
    StartUpCollectionHook,
)

# kedro-mlflow's own hook is discovered through its entry point. Ours run around it:
# MlflowTrackingSetupHook and LifecyclePreflightHook before it (tryfirst), ModelLifecycleHook
# after it (trylast). pluggy calls the last registered first among tryfirst hooks:
# ParameterValidationHook checks the parameters before LifecyclePreflightHook and
# MlflowTrackingSetupHook read them. MlflowRunFailureHook wraps the pipeline-run hooks of all
# (its position does not matter). ScoringPurposeHook moves a shadow or backfill scoring run's
# outputs into their own folder. StartUpCollectionHook (trylast, after kedro-mlflow has started
# the MLflow run) turns garbage collection back on (cli_start.py). SparkHook, registered last,
# checks PySpark and Java and starts the session before every other after_context_created
# (only when conf/<env>/spark.yml exists).
HOOKS = (
    MlflowTrackingSetupHook(),
    LifecyclePreflightHook(),
    ParameterValidationHook(),
    ModelLifecycleHook(),
    MlflowRunFailureHook(),
    ScoringPurposeHook(),
    StartUpCollectionHook(),
    SparkHook(),
)

# Frames between nodes are shallow copy-on-write copies instead of deep copies (data_catalog.py).
DATA_CATALOG_CLASS = ProjectDataCatalog

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # kedro-mlflow adds this pattern in its own hook; declared here, the project hook that runs
    # before it reads the same mlflow.yml (tracking URI, experiment).
    "config_patterns": {
        "mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"],
        # conf/spark/spark.yml: the Spark session's settings (SparkHook)
        "spark": ["spark*", "spark*/**"],
    },
    # Kedro resolves ${oc.env:...} in credentials only; conf/production/mlflow.yml also reads
    # the server address from MLFLOW_TRACKING_URI (a deployment setting, not a secret).
    "custom_resolvers": {"oc.env": oc.env},
    # A conf/<env>/parameters*.yml file overrides only the keys it names (Kedro's default
    # "destructive" merge would replace the whole top-level section, dropping e.g. the
    # model's name when a local file sets one monitoring threshold).
    "merge_strategy": {"parameters": "soft"},
}

# Third-party deprecation noise a user can do nothing about (kedro, kedro-mlflow and mlflow
# call APIs their own dependencies deprecated); it buried the project's own messages.
warnings.filterwarnings("ignore", message=r"register_new_resolver\(\) is deprecated")
# Warnings that do not apply to this project, each with its reason: third_party_warnings.py.
third_party_warnings.ignore_inapplicable_warnings()
third_party_warnings.import_kedro_mlflow_quietly()
