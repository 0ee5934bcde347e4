"""Apache Spark execution of inference (``kedro run --pipelines inference --env spark``).

``session`` (the policy of the Spark hook: is a runtime there, which settings, one session)
imports no PySpark; the modules that do (``inference``, ``datasets``) are imported only when
the ``spark`` environment is active, so the default (pandas) environment never loads PySpark.
"""
