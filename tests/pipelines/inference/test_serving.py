"""`mlflow models serve` on the champion: real server, real HTTP, loopback only."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from future_skills_kedro.contract import FEATURE_COLUMNS, NEED_LEVELS
from future_skills_kedro.scoring import PREDICTION_COLUMN, PROBABILITY_COLUMNS
from tests.conftest import free_port, kedro_env, wait_for_http

pytestmark = pytest.mark.integration

STARTUP_TIMEOUT_S = 180


def _post(url: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _payload(rows: pd.DataFrame) -> dict:
    return {"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}


def test_served_champion_scores_model_input_rows_and_rejects_a_missing_column(
    trained_template, tmp_path
):
    port = free_port()
    env = kedro_env(trained_template)
    # The server runs uvicorn from the environment's bin folder.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    log = tmp_path / "serve.log"
    mlflow = Path(sys.executable).with_name("mlflow")
    command = [
        str(mlflow), "models", "serve", "-m", "models:/future-skills-model@champion",
        "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    with log.open("w") as output:
        # Its own process group: the server forks uvicorn, and both must go in the end.
        server = subprocess.Popen(
            command,
            cwd=trained_template,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/ping", server, "mlflow models serve", log, STARTUP_TIMEOUT_S)
        table = pd.read_parquet(trained_template / "data/05_model_input/model_input_table.parquet")
        rows = table.loc[:, list(FEATURE_COLUMNS)].head(4)

        status, answer = _post(f"{base}/invocations", _payload(rows))
        assert status == 200, answer
        predictions = pd.DataFrame(answer["predictions"])
        assert len(predictions) == 4
        assert set(predictions[PREDICTION_COLUMN]) <= set(NEED_LEVELS)
        probabilities = predictions.loc[:, list(PROBABILITY_COLUMNS)]
        assert probabilities.sum(axis=1).round(6).eq(1.0).all()
        assert predictions["confidence"].round(9).eq(probabilities.max(axis=1).round(9)).all()

        status, answer = _post(f"{base}/invocations", _payload(rows.drop(columns="internal_usage")))
        assert 400 <= status < 500, answer
        assert "internal_usage" in answer["message"]
        assert "missing" in answer["message"]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
