"""Project settings: hooks and configuration loading."""

from future_skills_kedro.hooks import MlflowTrackingSetupHook, ModelLifecycleHook

# kedro-mlflow's own hook is discovered through its entry point. Ours run around it:
# MlflowTrackingSetupHook before it (tryfirst), ModelLifecycleHook after it (trylast).
HOOKS = (MlflowTrackingSetupHook(), ModelLifecycleHook())

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
}
