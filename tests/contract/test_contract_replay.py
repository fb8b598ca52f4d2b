"""`replay`: the app's interactions against a live scoring URI, here a real HTTP server on 127.0.0.1.

The server stands in for an Azure ML online endpoint with two deployments: it checks the bearer token,
routes on the `azureml-model-deployment` header and answers with a real MLflow model run through
MLflow's scoring code (contract_verify.LocalModel, the same path `verify` uses). `replay` itself runs
as a real process, with only the standard library.
"""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from contract_helpers import CONTRACT_DIR, EXAMPLE_APP, run_cli

pytestmark = pytest.mark.filterwarnings("ignore")
TOKEN = "not-a-real-token-3f9a"


@pytest.fixture(scope="module")
def endpoint(models):
    import sys

    sys.path.insert(0, str(CONTRACT_DIR))
    import contract_verify

    deployments = {
        "blue": contract_verify.LocalModel(str(models("seeded"))),
        "green": contract_verify.LocalModel(str(models("wrap-frame2"))),
    }
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append({k.lower(): v for k, v in self.headers.items()})
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._send(401, "Unauthorized")
            model = deployments.get(self.headers.get("azureml-model-deployment", "blue"))
            if model is None:
                return self._send(404, "No deployment with that name")
            answer = model.answer(json.loads(body))
            self._send(answer.status, answer.body)

        def _send(self, status, text):
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/score", seen
    server.shutdown()
    server.server_close()


def replay(uri, *args, token=TOKEN):
    env = {**os.environ, "ENDPOINT_TOKEN": token}
    env.pop("TF_BUILD", None)
    return run_cli("replay", "--app", EXAMPLE_APP, "--scoring-uri", uri, *args, env=env)


def test_idle_deployment_with_the_seeded_model_passes(endpoint):
    uri, seen = endpoint
    result = replay(uri, "--deployment", "blue")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"COMPATIBLE: the app's 2 interaction(s) got answers it can read from {uri}")
    assert seen[-1]["azureml-model-deployment"] == "blue"
    assert TOKEN not in result.stdout + result.stderr


def test_idle_deployment_with_a_broken_model_names_the_interaction(endpoint):
    uri, _ = endpoint
    result = replay(uri, "--deployment", "green")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BREAKING: interaction 'two customers, one without a region'" in result.stdout
    assert "got a record with field(s) prediction, interval" in result.stdout
    assert TOKEN not in result.stdout + result.stderr


def test_broken_deployment_junit_names_the_interaction(endpoint, tmp_path):
    import xml.etree.ElementTree as ET

    uri, _ = endpoint
    junit = tmp_path / "replay.xml"
    result = replay(uri, "--deployment", "green", "--junit", junit)
    assert result.returncode == 1
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "2"
    assert "got a record with field(s) prediction, interval" in suite.find("testcase/failure").text
    assert TOKEN not in junit.read_text()


def test_token_file_is_read_and_never_printed(endpoint, tmp_path):
    uri, seen = endpoint
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    result = replay(uri, "--deployment", "blue", "--token-file", token_file, token="")
    assert result.returncode == 0, result.stdout + result.stderr
    assert seen[-1]["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in result.stdout + result.stderr


def test_refused_token_is_a_one_line_error_without_the_token(endpoint):
    uri, _ = endpoint
    result = replay(uri, "--deployment", "blue", token="wrong-token-77")
    assert result.returncode == 2
    assert "HTTP 401: the endpoint refused the credentials (token from $ENDPOINT_TOKEN)" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "wrong-token-77" not in result.stdout + result.stderr


def test_unknown_deployment_is_breaking_with_the_server_message(endpoint):
    uri, _ = endpoint
    result = replay(uri, "--deployment", "purple")
    assert result.returncode == 1
    assert "refused the request with HTTP 404: No deployment with that name" in result.stdout


def test_unreachable_endpoint_is_a_one_line_error():
    result = replay("http://127.0.0.1:9/score", "--timeout", "5")
    assert result.returncode == 2
    assert "http://127.0.0.1:9/score: no answer to interaction 'two customers, one without a region'" in result.stderr


@pytest.fixture(scope="module")
def mlflow_server(models, tmp_path_factory):
    """`mlflow models serve` (MLflow's own scoring server, uvicorn) with the seeded model on 127.0.0.1."""
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(Path(bin_dir) / "mlflow"), "models", "serve", "-m", str(models("seeded")), "--env-manager", "local",
             "-h", "127.0.0.1", "-p", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"mlflow models serve did not start:\n{log.read_text()[-2000:]}")
                time.sleep(1)
        yield f"http://127.0.0.1:{port}/invocations"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and its uvicorn child, by the group we started
        proc.wait(timeout=30)


def _mlflow_protocol_app(tmp_path):
    doc = json.loads(EXAMPLE_APP.read_text())
    for interaction in doc["interactions"]:
        interaction["request"] = {"dataframe_split": interaction["request"]["input_data"]}
    path = tmp_path / "model-contract.json"
    path.write_text(json.dumps(doc))
    return path


def test_replay_against_mlflow_own_scoring_server(mlflow_server, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_BUILD"}
    result = run_cli("replay", "--app", _mlflow_protocol_app(tmp_path), "--scoring-uri", mlflow_server, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "COMPATIBLE: the app's 2 interaction(s)" in result.stdout


def test_azure_ml_requests_against_a_plain_mlflow_server_are_refused(mlflow_server):
    """The same model behind `mlflow models serve` does not speak Azure ML's input_data: replay says so."""
    env = {k: v for k, v in os.environ.items() if k != "TF_BUILD"}
    result = run_cli("replay", "--app", EXAMPLE_APP, "--scoring-uri", mlflow_server, env=env)
    assert result.returncode == 1
    assert "refused the request with HTTP 400" in result.stdout and "dataframe_split" in result.stdout
