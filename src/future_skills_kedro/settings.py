"""Project settings: hooks and configuration loading."""

from future_skills_kedro.hooks import MlflowTrackingSetupHook

# kedro-mlflow's own hook is discovered through its entry point; ours prepares the
# tracking URI and the per-pipeline experiment before it runs (tryfirst).
HOOKS = (MlflowTrackingSetupHook(),)

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
}
