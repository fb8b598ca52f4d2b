#!/usr/bin/env python3
"""A recording `az` for the seeded pipelines' bash steps: checks every call against the az ml reference.

Installed as `az` on PATH by tests/pipelines/harness.py. Each call is appended to $AZ_LOG (JSON lines);
state (endpoints, deployments, traffic, models, data, environments, jobs) lives in $AZ_STATE. A call
that breaks the reference exits 2 with `az-stub: ...`, as az itself refuses it, and is logged too.

The flag table follows the ml extension's source (Azure/azure-cli-extensions,
src/machinelearningservices/azext_mlv2/manual/): `_params/*.py` for the option names and
`custom/*.py` for the positional (required) arguments; `commands.py` for `confirmation=True`
(delete needs --yes without a terminal). Name rules: azure-ai-ml `EndpointConfigurations`
(3-32 characters, `^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`) for endpoints and deployments.
Extra rules the kit relies on: no `--all-traffic` (traffic moves only after a smoke test), and
`online-endpoint update --traffic` may give a deployment traffic only after that deployment
answered an `invoke --deployment-name` (or a scoring request routed to it by name, which the
loopback server in tests/pipelines/scoring.py records) since it was created.
`account get-access-token` follows azure-cli's `az account get-access-token` (src/azure-cli/azure/cli/
command_modules/profile): one of --resource, --resource-type or --scope, never two; the output has
accessToken, expiresOn, subscription, tenant, tokenType. Each resource gets its own fake token
(token_for), so a test can tell a token for https://ml.azure.com from one for another audience.
`online-endpoint show` answers scoring_uri: $AZ_STUB_SCORING_URI with `{endpoint}` filled in, or
Azure's form https://<endpoint>.<region>.inference.ml.azure.com/score.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from pathlib import Path

WS = ("--resource-group", "--workspace-name")
COMMON = {"--resource-group", "--workspace-name", "--query", "-o", "--output", "--only-show-errors", "--subscription"}
# command: (required flag groups: each group is a tuple of alternatives that must all be present, any one of them
#           satisfying the call), allowed flags beyond COMMON, boolean flags)
SPEC: dict[str, tuple[list[tuple[str, ...]], set[str], set[str]]] = {
    "extension add": ([("--name",)], {"--name"}, set()),
    "account get-access-token": (
        [("--resource",), ("--resource-type",), ("--scope",)],
        {"--resource", "--resource-type", "--scope", "--tenant"},
        set(),
    ),
    "ml model show": ([("--name",)], {"--name", "--version", "--label", "--registry-name"}, set()),
    "ml model list": ([], {"--name", "--registry-name", "--max-results"}, set()),
    "ml model download": (
        [("--name", "--version", "--workspace-name")],  # -w even with --registry-name (#25720)
        {"--name", "--version", "--registry-name", "--download-path"},
        set(),
    ),
    "ml model create": (
        [("--name", "--path"), ("--file",)],
        {"--name", "--version", "--path", "--type", "--tags", "--registry-name", "--description", "--file"},
        set(),
    ),
    "ml model update": (
        [("--resource-group", "--name", "--version")],
        {"--name", "--version", "--set", "--registry-name"},
        set(),
    ),
    "ml model share": (
        [("--name", "--version", "--share-with-name", "--share-with-version", "--registry-name")],
        {"--name", "--version", "--share-with-name", "--share-with-version", "--registry-name"},
        set(),
    ),
    "ml online-endpoint list": ([WS], set(), set()),
    "ml online-endpoint show": ([(*WS, "--name")], {"--name"}, set()),
    "ml online-endpoint create": ([(*WS, "--name"), (*WS, "--file")], {"--name", "--file", "--auth-mode"}, set()),
    "ml online-endpoint update": ([(*WS, "--name")], {"--name", "--traffic", "--mirror-traffic"}, set()),
    "ml online-endpoint invoke": (
        [(*WS, "--name", "--request-file")],
        {"--name", "--request-file", "--deployment-name"},
        set(),
    ),
    "ml online-deployment list": ([(*WS, "--endpoint-name")], {"--endpoint-name"}, set()),
    "ml online-deployment show": ([(*WS, "--name", "--endpoint-name")], {"--name", "--endpoint-name"}, set()),
    "ml online-deployment create": (
        [(*WS, "--file")],
        {"--file", "--name", "--endpoint-name", "--all-traffic"},
        {"--all-traffic"},
    ),
    "ml online-deployment delete": (
        [(*WS, "--name", "--endpoint-name", "--yes")],
        {"--name", "--endpoint-name", "--yes", "--no-wait"},
        {"--yes", "--no-wait"},
    ),
    "ml data show": ([(*WS, "--name")], {"--name", "--version", "--label"}, set()),
    "ml data create": (
        [(*WS, "--name", "--version", "--type", "--path"), (*WS, "--file")],
        {"--name", "--version", "--type", "--path", "--description", "--file"},
        set(),
    ),
    "ml environment show": ([(*WS, "--name")], {"--name", "--version", "--label"}, set()),
    "ml environment create": (
        [(*WS, "--name", "--version", "--conda-file", "--image"), (*WS, "--file")],
        {"--name", "--version", "--conda-file", "--image", "--file", "--description"},
        set(),
    ),
    "ml job create": ([(*WS, "--file")], {"--file", "--name", "--stream"}, {"--stream"}),
    "ml job stream": ([(*WS, "--name")], {"--name"}, set()),
    "ml job show": ([(*WS, "--name")], {"--name"}, set()),
    "ml job download": ([(*WS, "--name")], {"--name", "--output-name", "--download-path", "--all"}, {"--all"}),
}
ALIASES = {
    "-g": "--resource-group",
    "-w": "--workspace-name",
    "-n": "--name",
    "-v": "--version",
    "-f": "--file",
    "-e": "--endpoint-name",
    "-p": "--path",
    "-t": "--type",
    "-r": "--request-file",
    "-d": "--deployment-name",
    "-y": "--yes",
    "--output": "-o",
}
NAME = re.compile(r"[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?")


class Refused(Exception):
    pass


def parse(argv: list[str]) -> tuple[str, dict[str, list[str]]]:
    words = []
    while argv and not argv[0].startswith("-"):
        words.append(argv.pop(0))
    command = " ".join(words)
    if command not in SPEC:
        raise Refused(f"unknown command 'az {command}' (not in the stub's reference table)")
    required, allowed, booleans = SPEC[command]
    booleans = booleans | {"--only-show-errors"}
    flags: dict[str, list[str]] = {}
    while argv:
        flag = ALIASES.get(argv[0], argv.pop(0) if False else argv[0])
        argv.pop(0)
        if flag not in allowed | COMMON:
            raise Refused(f"az {command}: unrecognized argument {flag}")
        values = []
        while argv and not (argv[0].startswith("-") and len(argv[0]) > 1 and not argv[0][1].isdigit()):
            values.append(argv.pop(0))
        if flag not in booleans and not values:
            raise Refused(f"az {command}: {flag} expected one argument")
        if flag in booleans and values:
            raise Refused(f"az {command}: {flag} takes no value")
        flags[flag] = values
    if required and not any(all(f in flags for f in group) for group in required):
        options = " or ".join("(" + " ".join(group) + ")" for group in required)
        raise Refused(f"az {command}: the following arguments are required: {options}")
    return command, flags


def token_for(resource: str) -> str:
    """The stub's access token for one audience: fake, but distinct per resource."""
    return "eyJ0eXAi.stub-" + hashlib.sha256(resource.encode()).hexdigest()[:32]


def scoring_uri(endpoint: str) -> str:
    template = os.environ.get("AZ_STUB_SCORING_URI") or "https://{endpoint}.westeurope.inference.ml.azure.com/score"
    return template.format(endpoint=endpoint)


def one(flags: dict[str, list[str]], flag: str, default: str | None = None) -> str | None:
    return " ".join(flags[flag]) if flag in flags else default


class State:
    def __init__(self, path: Path):
        self.path = path
        self.data = json.loads(path.read_text()) if path.exists() else {}
        for key in ("endpoints", "models", "data", "environments", "jobs", "invoked"):
            self.data.setdefault(key, {})

    def save(self) -> None:
        self.path.write_text(json.dumps(self.data, indent=1, sort_keys=True))


def check_name(kind: str, name: str) -> None:
    if not (3 <= len(name) <= 32 and NAME.fullmatch(name)):
        raise Refused(
            f"{kind} name '{name}' breaks Azure ML's rule: 3-32 characters, a letter first, "
            "letters, digits and '-', a letter or digit last"
        )


def run(command: str, flags: dict[str, list[str]], st: State):  # noqa: C901 - one branch per command, like az
    d = st.data
    ws = one(flags, "--workspace-name", "")
    name, version = one(flags, "--name"), one(flags, "--version")
    registry = one(flags, "--registry-name")
    models_key = f"registry:{registry}" if registry else f"workspace:{ws}"
    if command == "extension add":
        return None
    if command == "account get-access-token":
        audiences = [f for f in ("--resource", "--resource-type", "--scope") if f in flags]
        if len(audiences) > 1:
            raise Refused("usage error: --resource/--resource-type/--scope are mutually exclusive")
        resource = one(flags, audiences[0])
        return {
            "accessToken": token_for(resource),
            "expiresOn": "2026-01-01 01:00:00.000000",
            "subscription": "00000000-0000-0000-0000-000000000000",
            "tenant": "00000000-0000-0000-0000-000000000001",
            "tokenType": "Bearer",
        }
    if command == "ml online-endpoint list":
        return [{"name": n, **e} for n, e in d["endpoints"].items() if e["workspace"] == ws]
    if command.startswith("ml online-endpoint") or command.startswith("ml online-deployment"):
        endpoint_name = name if command.startswith("ml online-endpoint") else one(flags, "--endpoint-name")
        if command == "ml online-deployment create" and endpoint_name is None:  # the file names it
            endpoint_name = json.loads(Path(one(flags, "--file")).read_text()).get("endpoint_name")
    if command == "ml online-endpoint create":
        check_name("endpoint", name)
        if name in d["endpoints"]:
            raise Refused("(UserError) An endpoint with this name already exists")
        d["endpoints"][name] = {
            "workspace": ws,
            "traffic": {},
            "deployments": {},
            "auth_mode": one(flags, "--auth-mode", "key"),
        }
        return {"name": name}
    endpoint = d["endpoints"].get(endpoint_name) if command.startswith("ml online-") else None
    if command.startswith("ml online-") and endpoint is None:
        raise Refused(f"ResourceNotFound: endpoint {endpoint_name} does not exist")
    if command == "ml online-endpoint show":
        return {
            "name": name,
            "traffic": endpoint["traffic"],
            "auth_mode": endpoint.get("auth_mode", "key"),
            "scoring_uri": scoring_uri(name),
        }
    if command == "ml online-deployment list":
        return [{"name": n, **dep} for n, dep in endpoint["deployments"].items()]
    if command == "ml online-deployment show":
        if name not in endpoint["deployments"]:
            raise Refused("Deployment does not exist.")
        return {"name": name, **endpoint["deployments"][name]}
    if command == "ml online-deployment create":
        if "--all-traffic" in flags:
            raise Refused("kit rule: --all-traffic moves 100% of the traffic before any smoke test")
        spec = json.loads(Path(one(flags, "--file")).read_text())  # the kit writes JSON (a YAML subset)
        dep_name = one(flags, "--name") or spec["name"]
        check_name("deployment", dep_name)
        if dep_name in endpoint["deployments"]:
            raise Refused(
                "(UserError) A deployment with this name already exists. ... use `az ml online-deployment update`"
            )
        m = re.fullmatch(r"azureml://registries/([^/]+)/models/([^/]+)/versions/([^/]+)", spec["model"])
        if not m or f"{m[2]}:{m[3]}" not in d["models"].get(f"registry:{m[1]}", {}):
            raise Refused(f"model {spec['model']} not found in its registry")
        endpoint["deployments"][dep_name] = {"model": spec["model"], "instance_type": spec["instance_type"]}
        endpoint["traffic"].setdefault(dep_name, 0)
        d["invoked"].pop(f"{endpoint_name}/{dep_name}", None)
        return {"name": dep_name}
    if command == "ml online-deployment delete":
        if endpoint["traffic"].get(name, 0) > 0:
            raise Refused(f"deployment {name} still takes {endpoint['traffic'][name]}% of the traffic")
        endpoint["deployments"].pop(name, None)
        endpoint["traffic"].pop(name, None)
        return None
    if command == "ml online-endpoint invoke":
        target = one(flags, "--deployment-name")
        if target is None:
            live = [n for n, pct in endpoint["traffic"].items() if pct > 0]
            if not live:
                raise Refused("No valid deployments to route to")
            target = max(live, key=lambda n: endpoint["traffic"][n])
        if target not in endpoint["deployments"]:
            raise Refused(f"deployment {target} does not exist")
        rows = json.loads(Path(one(flags, "--request-file")).read_text())["input_data"]["data"]
        if target in os.environ.get("AZ_STUB_BROKEN", "").split():
            raise Refused(f"(500) deployment {target} failed to score")
        if one(flags, "--deployment-name"):
            d["invoked"][f"{endpoint_name}/{target}"] = True
        return json.dumps([1.5] * len(rows))
    if command == "ml online-endpoint update":
        traffic = dict(item.split("=") for item in one(flags, "--traffic", "").split())
        for dep, pct in traffic.items():
            if dep not in endpoint["deployments"]:
                raise Refused(f"traffic for deployment {dep}, which does not exist")
            if int(pct) > 0 and endpoint["traffic"].get(dep, 0) == 0 and not d["invoked"].get(f"{name}/{dep}"):
                raise Refused(
                    f"kit rule: traffic shifted to {dep} before it passed a smoke test (invoke --deployment-name)"
                )
        endpoint["traffic"].update({k: int(v) for k, v in traffic.items()})
        if sum(endpoint["traffic"].values()) not in (0, 100):
            raise Refused(f"traffic must add up to 100, got {endpoint['traffic']}")
        return {"name": name, "traffic": endpoint["traffic"]}
    models = d["models"].setdefault(models_key, {})
    if command == "ml model show":
        key = f"{name}:{version}"
        if key not in models:
            raise Refused(f"ResourceNotFound: model {key} in {models_key}")
        return models[key]
    if command == "ml model list":
        return [m for m in models.values() if name is None or m["name"] == name]
    if command == "ml model download":
        key = f"{name}:{version}"
        if key not in models:
            raise Refused(f"ResourceNotFound: model {key} in {models_key}")
        target = Path(one(flags, "--download-path", ".")) / name / "model"
        shutil.copytree(models[key]["files"], target)
        return None
    if command == "ml model create":
        if not registry and not ws:
            raise Refused("az ml model create: a workspace (-g/-w) or --registry-name is required")
        version = version or str(1 + len([m for m in models.values() if m["name"] == name]))
        key = f"{name}:{version}"
        if key in models:
            raise Refused(f"model {key} already exists in {models_key}")
        tags = dict(t.split("=", 1) for t in flags.get("--tags", []))
        path = one(flags, "--path")
        files = path if not path.startswith("azureml://") else d["jobs"][path.split("/")[3]]["model"]
        stored = Path(os.environ["AZ_STATE"]).parent / "store" / models_key.replace(":", "-") / key.replace(":", "-")
        shutil.copytree(files, stored)
        models[key] = {
            "name": name,
            "version": version,
            "tags": tags,
            "files": str(stored),
            "path": path,
            "creation_context": {"created_at": f"2026-01-01T00:00:{len(models):02d}"},
        }
        return models[key]
    if command in ("ml data show", "ml environment show"):
        store = d["data" if "data" in command else "environments"]
        if f"{name}:{version}" not in store:
            raise Refused(f"ResourceNotFound: {name}:{version}")
        return store[f"{name}:{version}"]
    if command == "ml data create":
        d["data"][f"{name}:{version}"] = {
            "name": name,
            "version": version,
            "path": one(flags, "--path"),
            "type": one(flags, "--type"),
        }
        return d["data"][f"{name}:{version}"]
    if command == "ml environment create":
        conda = Path(one(flags, "--conda-file")).read_text()
        d["environments"][f"{name}:{version}"] = {
            "name": name,
            "version": version,
            "conda": conda,
            "image": one(flags, "--image"),
        }
        return d["environments"][f"{name}:{version}"]
    if command == "ml job create":
        spec = json.loads(Path(one(flags, "--file")).read_text())
        for ref in [spec["environment"], *(i["path"] for i in spec["inputs"].values())]:
            if ref.startswith("azureml:") and not ref.startswith("azureml://") and ref.count(":") != 2:
                raise Refused(f"job refers to '{ref}' without a version (name:version or @label)")
        run_name = f"job-{len(d['jobs']) + 1:04d}"
        d["jobs"][run_name] = {"spec": spec, "status": "Completed", "model": os.environ["AZ_STUB_JOB_MODEL"]}
        return {"name": run_name}
    if command in ("ml job stream", "ml job show", "ml job download"):
        if name not in d["jobs"]:
            raise Refused(f"job {name} not found")
        if command == "ml job download":
            target = Path(one(flags, "--download-path")) / "named-outputs" / one(flags, "--output-name")
            target.mkdir(parents=True)
            (target / "evaluation.json").write_text(os.environ["AZ_STUB_EVALUATION"])
            return None
        return {"name": name, "status": d["jobs"][name]["status"]}
    raise Refused(f"az {command}: not simulated")


def query(result, expression: str):
    """The few JMESPath forms the kit uses: a field, `[?name=='x'].name`, and a sort the stub does not need."""
    m = re.fullmatch(r"\[\?name=='([^']*)'\]\.name", expression)
    if m:
        return [r["name"] for r in result if r.get("name") == m[1]]
    if re.fullmatch(r"[A-Za-z_]+", expression):
        return result.get(expression)
    raise Refused(f"--query {expression!r}: not simulated")


def emit(result, fmt: str) -> None:
    if result is None:
        return
    if fmt == "tsv":
        items = result if isinstance(result, list) else [result]
        print("\n".join(str(i) for i in items if i is not None))
    else:
        print(json.dumps(result))


def main(argv: list[str]) -> int:
    log = Path(os.environ["AZ_LOG"])
    entry = {"argv": argv, "cwd": os.getcwd()}
    try:
        command, flags = parse(list(argv))
        entry.update(command=command, flags=flags)
        st = State(Path(os.environ["AZ_STATE"]))
        result = run(command, flags, st)
        if "--query" in flags:
            result = query(result, one(flags, "--query"))
        st.save()
        entry["ok"] = True
        with log.open("a") as f:
            f.write(json.dumps(entry) + "\n")
        emit(result, one(flags, "-o", "json"))
        return 0
    except Refused as e:
        entry.update(ok=False, error=str(e))
        with log.open("a") as f:
            f.write(json.dumps(entry) + "\n")
        print(f"az-stub: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
