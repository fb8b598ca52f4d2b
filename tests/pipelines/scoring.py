"""A loopback HTTP server that answers like the Azure ML online endpoints the `az` stub has deployed.

`AZ_STUB_SCORING_URI` points `az ml online-endpoint show --query scoring_uri` at
`http://127.0.0.1:<port>/<endpoint>/score`. Like an aad_token endpoint, the server answers 401 without
`Authorization: Bearer <token for https://ml.azure.com>` (azstub.token_for). It routes on the
`azureml-model-deployment` header, or by the endpoint's traffic without it, to the deployment recorded
in the stub's state, and answers with that deployment's registry model (a real MLflow model) through
MLflow's scoring code: contract_verify.LocalModel, the path `verify` uses, with Azure ML's bare answer
for `input_data`. A request routed to a deployment by name is recorded in the state as `invoked`,
which the stub's traffic rule accepts as a smoke test, as it accepts `invoke --deployment-name`.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.pipelines.azstub import token_for

CONTRACT_DIR = Path(__file__).resolve().parents[2] / "infra" / "assets" / "contract"
MODEL = re.compile(r"azureml://registries/([^/]+)/models/([^/]+)/versions/([^/]+)")


class Endpoints:
    """Serve the stub's endpoints from `state_file` until `close()`; `uri` is the AZ_STUB_SCORING_URI template."""

    def __init__(self, state_file: Path) -> None:
        if str(CONTRACT_DIR) not in sys.path:
            sys.path.insert(0, str(CONTRACT_DIR))
        import contract_verify

        self.state_file, self.loaded, self.requests = state_file, {}, []
        self._verify = contract_verify
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}})
                status, text = owner.answer(self.path, self.headers, body)
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_port}/{{endpoint}}/score"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path: str, headers, body: bytes) -> tuple[int, str]:
        if headers.get("Authorization") != f"Bearer {token_for('https://ml.azure.com')}":
            return (
                401,
                '{"message": "An authentication header with a valid token for https://ml.azure.com is required"}',
            )
        m = re.fullmatch(r"/([^/]+)/score", path)
        state = json.loads(self.state_file.read_text())
        endpoint = state["endpoints"].get(m[1]) if m else None
        if endpoint is None:
            return 404, '{"message": "no such endpoint"}'
        name = headers.get("azureml-model-deployment")
        if name is None:
            serving = [(pct, n) for n, pct in endpoint["traffic"].items() if pct > 0]
            if not serving:
                return 503, '{"message": "No valid deployments to route to"}'
            name = max(serving)[1]
        deployment = endpoint["deployments"].get(name)
        if deployment is None:
            return 404, f'{{"message": "deployment {name} does not exist"}}'
        if headers.get("azureml-model-deployment"):
            state.setdefault("invoked", {})[f"{m[1]}/{name}"] = True
            self.state_file.write_text(json.dumps(state, indent=1, sort_keys=True))
        registry, model, version = MODEL.fullmatch(deployment["model"]).groups()
        files = state["models"][f"registry:{registry}"][f"{model}:{version}"]["files"]
        if files not in self.loaded:
            self.loaded[files] = self._verify.LocalModel(files)
        exchange = self.loaded[files].answer(json.loads(body))
        return exchange.status, exchange.body

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
