"""Project settings: hooks and configuration loading."""

import warnings

from future_skills_kedro.hooks import MlflowTrackingSetupHook, ModelLifecycleHook

# kedro-mlflow's own hook is discovered through its entry point. Ours run around it:
# MlflowTrackingSetupHook before it (tryfirst), ModelLifecycleHook after it (trylast).
HOOKS = (MlflowTrackingSetupHook(), ModelLifecycleHook())

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
}

# Third-party deprecation noise a user can do nothing about (kedro, kedro-mlflow and mlflow
# call APIs their own dependencies deprecated); it buried the project's own messages.
warnings.filterwarnings("ignore", message=r"register_new_resolver\(\) is deprecated")
warnings.filterwarnings("ignore", message=r"Add type hints to the `predict` method")
