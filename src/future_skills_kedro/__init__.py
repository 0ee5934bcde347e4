"""future-skills-kedro: forecast future skill needs per job role, skill and horizon."""

__version__ = "0.1.0"
