"""Feature drift shared by the monitoring and monitoring_backtest pipelines (docs/monitoring.md).

* :mod:`.scores`: the distance and test definitions (a vectorised engine, Evidently for the
  report);
* :mod:`.reference`: which rows a window is compared with (``holdout``, ``training``,
  ``previous_window``);
* :mod:`.calibration`: per-feature thresholds from the labelled history's own
  quarter-to-quarter movement, computed at training time and kept with the model version;
* :mod:`.backtest`: the replay of that history (false-alarm rate, detection power).
"""
