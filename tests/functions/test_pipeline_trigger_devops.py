"""AzureDevOpsClient against the fake Azure DevOps HTTP server: resolution, runs, retries, auth."""

from __future__ import annotations

import random
import time

import pytest
from trigger_core.devops import (
    AzureDevOpsClient,
    DevOpsAuthError,
    DevOpsRejected,
    DevOpsUnavailable,
    PipelineNotFound,
    RunLookupInconclusive,
    RunOutcomeUnknown,
)
from trigger_core.retry import RetryPolicy, parse_retry_after
from trigger_core.settings import DEVOPS_SCOPE

from tests.fakes.devops_server import GET_RUN, LIST_PIPELINES, LIST_RUNS, RUN_PIPELINE, FakeDevOpsServer

from .conftest import FOLDER, RELEASE, TRAINING, FakeClock, FakeCredential, SleepRecorder, json_logs, pipeline_id

PARAMS = {"dataPath": "abfss://raw@examplelake.dfs.core.windows.net/landing/a", "eventId": "evt-1"}


def make_client(server: FakeDevOpsServer, *, credential: FakeCredential | None = None, timeout: float = 2.0,
                sleep=None, monotonic=None, clock=None, **retry: float) -> AzureDevOpsClient:
    policy_args = {"max_attempts": 4, "base_seconds": 1.0, "max_delay_seconds": 30.0,
                   "retry_after_cap_seconds": 60.0, "budget_seconds": 600.0, **retry}
    policy = RetryPolicy(sleep=sleep or SleepRecorder(), rng=random.Random(7),
                         **({"monotonic": monotonic} if monotonic else {}), **policy_args)
    return AzureDevOpsClient(org_url=server.org_url, project=server.project,
                             credential=credential or FakeCredential(), timeout_seconds=timeout, retry=policy,
                             **({"clock": clock} if clock else {}))


# ------------------------------------------------------------------------------------ resolution
def test_resolves_by_name_and_folder_and_caches_per_client(devops_server: FakeDevOpsServer) -> None:
    client = make_client(devops_server)
    expected = pipeline_id(devops_server, TRAINING)
    assert client.resolve_pipeline_id(TRAINING, "/example/") == expected  # folder forms normalised
    assert client.resolve_pipeline_id(TRAINING.upper(), FOLDER) == expected  # names are case-insensitive
    assert len(devops_server.requests_for(LIST_PIPELINES)) == 1
    assert client.resolve_pipeline_id(RELEASE, FOLDER) == pipeline_id(devops_server, RELEASE)


def test_follows_continuation_tokens() -> None:
    with FakeDevOpsServer(page_size=2) as server:
        for i in range(6):
            server.add_pipeline(f"p{i}", FOLDER)
        target = server.add_pipeline("zz-last", FOLDER)
        client = make_client(server)
        assert client.resolve_pipeline_id("zz-last", FOLDER) == target
        tokens = [r.query.get("continuationToken") for r in server.requests_for(LIST_PIPELINES)]
        assert tokens == [None, ["2"], ["4"], ["6"]]
        assert all(r.query["api-version"] == ["7.1"] for r in server.requests)


def test_unknown_pipeline_is_a_clear_error_and_not_cached(devops_server: FakeDevOpsServer) -> None:
    client = make_client(devops_server)
    with pytest.raises(PipelineNotFound) as info:
        client.resolve_pipeline_id("example-missing", FOLDER)
    assert "'example-missing' not found in folder '\\\\example'" in str(info.value)
    assert "deploy the team's devops stack" in str(info.value)
    created = devops_server.add_pipeline("example-missing", FOLDER)
    assert client.resolve_pipeline_id("example-missing", FOLDER) == created


def test_recreated_pipeline_with_new_id_is_resolved_again(devops_server: FakeDevOpsServer) -> None:
    client = make_client(devops_server)
    old = client.resolve_pipeline_id(TRAINING, FOLDER)
    devops_server.remove_pipeline(old)
    new = devops_server.add_pipeline(TRAINING, FOLDER)
    assert client.run_named_pipeline(TRAINING, FOLDER, PARAMS) == (new, devops_server.runs[0].run_id)
    assert [r.pipeline_id for r in devops_server.runs] == [new]


# ------------------------------------------------------------------------------------ runs & auth
def test_run_posts_template_parameters_with_bearer_token(devops_server: FakeDevOpsServer) -> None:
    credential = FakeCredential(devops_tokens=["tok-A"])
    client = make_client(devops_server, credential=credential)
    pid, run_id = client.run_named_pipeline(TRAINING, FOLDER, PARAMS)
    [run] = devops_server.runs
    assert (pid, run_id) == (pipeline_id(devops_server, TRAINING), run.run_id)
    [post] = devops_server.requests_for(RUN_PIPELINE)
    assert post.method == "POST"
    assert post.path == f"/example-org/example project/_apis/pipelines/{pid}/runs"
    assert post.query == {"api-version": ["7.1"]}
    assert post.body == {"templateParameters": PARAMS}
    assert post.header("Authorization") == "Bearer tok-A"
    assert credential.scopes == [DEVOPS_SCOPE]


def test_token_is_cached_until_close_to_expiry(devops_server: FakeDevOpsServer) -> None:
    now = [1_000_000.0]
    credential = FakeCredential(devops_tokens=["t1", "t2"], devops_expires_in=10**9)
    client = make_client(devops_server, credential=credential, clock=lambda: now[0])
    client.run_named_pipeline(TRAINING, FOLDER, PARAMS)
    client.run_named_pipeline(TRAINING, FOLDER, PARAMS)
    assert credential.devops_calls == 1
    now[0] = 10**10  # past expiry - 5 min
    client.run_named_pipeline(TRAINING, FOLDER, PARAMS)
    assert credential.devops_calls == 2
    assert devops_server.requests_for(RUN_PIPELINE)[-1].header("Authorization") == "Bearer t2"


@pytest.mark.parametrize("status", [401, 203])
def test_rejected_token_is_refreshed_once(status: int) -> None:
    with FakeDevOpsServer(accept_tokens={"fresh"}) as server:
        server.add_pipeline(TRAINING, FOLDER)
        credential = FakeCredential(devops_tokens=["stale", "fresh"])
        client = make_client(server, credential=credential)
        pid = client.resolve_pipeline_id(TRAINING, FOLDER)  # 401 on the list, refresh, success
        if status == 203:
            server.fail(203, route=RUN_PIPELINE)
        client.run_pipeline(pid, PARAMS)
        auth = [r.header("Authorization") for r in server.requests]
        assert auth[:2] == ["Bearer stale", "Bearer fresh"]
        assert len(server.runs) == 1
        assert credential.devops_calls == (2 if status == 401 else 3)


def test_token_rejected_twice_fails_without_further_retries(devops_server: FakeDevOpsServer, caplog) -> None:
    sleeps = SleepRecorder()
    client = make_client(devops_server, sleep=sleeps)
    devops_server.fail(401, times=5)
    with pytest.raises(DevOpsAuthError) as info:
        client.resolve_pipeline_id(TRAINING, FOLDER)
    assert "add the identity to the organization" in str(info.value)
    assert len(devops_server.requests) == 2
    assert sleeps.delays == []
    assert json_logs(caplog)[-1]["outcome"] == "auth_error"


def test_credential_failure_is_an_auth_error(devops_server: FakeDevOpsServer) -> None:
    client = make_client(devops_server, credential=FakeCredential(fail_devops=RuntimeError("IMDS unreachable")))
    with pytest.raises(DevOpsAuthError, match="IMDS unreachable"):
        client.resolve_pipeline_id(TRAINING, FOLDER)
    assert devops_server.requests == []


@pytest.mark.parametrize(("status", "hint"), [(400, "template parameter"), (403, "Queue builds"), (404, "not found")])
def test_client_errors_are_not_retried(devops_server: FakeDevOpsServer, status: int, hint: str) -> None:
    sleeps = SleepRecorder()
    client = make_client(devops_server, sleep=sleeps)
    pid = client.resolve_pipeline_id(TRAINING, FOLDER)
    devops_server.fail(status, route=RUN_PIPELINE, times=3, message="Unexpected parameter 'dataPath'")
    with pytest.raises(DevOpsRejected) as info:
        client.run_pipeline(pid, PARAMS)
    assert info.value.status == status
    assert hint in str(info.value) and "Unexpected parameter 'dataPath'" in str(info.value)
    assert len(devops_server.requests_for(RUN_PIPELINE)) == 1
    assert sleeps.delays == []


# ------------------------------------------------------------------------------------ retries
def test_429_honours_retry_after(devops_server: FakeDevOpsServer, caplog) -> None:
    sleeps = SleepRecorder()
    client = make_client(devops_server, sleep=sleeps)
    devops_server.fail(429, route=RUN_PIPELINE, retry_after="7")
    devops_server.fail(429, route=RUN_PIPELINE, retry_after="600")  # capped to retry_after_cap_seconds
    client.run_named_pipeline(TRAINING, FOLDER, PARAMS)
    assert sleeps.delays == [7.0, 60.0]
    assert len(devops_server.requests_for(RUN_PIPELINE)) == 3
    assert len(devops_server.runs) == 1
    retries = [r for r in json_logs(caplog) if r["msg"] == "devops_retry"]
    assert [(r["status"], r["attempt"], r["delay_s"]) for r in retries] == [(429, 1, 7.0), (429, 2, 60.0)]


def test_500_then_success_backs_off_with_jitter(devops_server: FakeDevOpsServer) -> None:
    sleeps = SleepRecorder()
    client = make_client(devops_server, sleep=sleeps, base_seconds=2.0)
    devops_server.fail(500, route=RUN_PIPELINE)
    devops_server.fail(503, route=RUN_PIPELINE)
    client.run_named_pipeline(TRAINING, FOLDER, PARAMS)
    assert len(sleeps.delays) == 2
    assert 1.0 <= sleeps.delays[0] <= 2.0  # equal jitter around base * 2^0
    assert 2.0 <= sleeps.delays[1] <= 4.0  # ... and base * 2^1
    assert len(devops_server.runs) == 1


def test_timeout_then_success(devops_server: FakeDevOpsServer) -> None:
    sleeps = SleepRecorder()
    client = make_client(devops_server, sleep=sleeps, timeout=0.2)
    devops_server.slow(1.0, route=LIST_PIPELINES)
    assert client.resolve_pipeline_id(TRAINING, FOLDER) == pipeline_id(devops_server, TRAINING)
    assert len(devops_server.requests_for(LIST_PIPELINES)) == 2
    assert len(sleeps.delays) == 1


def test_connection_drop_on_a_read_is_retried(devops_server: FakeDevOpsServer) -> None:
    sleeps = SleepRecorder()
    client = make_client(devops_server, sleep=sleeps)
    devops_server.drop(route=LIST_PIPELINES)
    assert client.resolve_pipeline_id(TRAINING, FOLDER) == pipeline_id(devops_server, TRAINING)
    assert len(devops_server.requests_for(LIST_PIPELINES)) == 2
    assert len(sleeps.delays) == 1


def _wait_for_runs(server: FakeDevOpsServer, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(server.runs) < count and time.monotonic() < deadline:
        time.sleep(0.02)


# ------------------------------------------------------------------------------------ one event, one run
def test_a_run_request_without_answer_is_not_resent(devops_server: FakeDevOpsServer, caplog) -> None:
    """The slow server queues the run after the client gave up (issue 14: 15 runs for 3 deliveries)."""
    client = make_client(devops_server, timeout=0.2)
    pid = client.resolve_pipeline_id(TRAINING, FOLDER)
    devops_server.slow(0.6, route=RUN_PIPELINE, times=5)
    with pytest.raises(RunOutcomeUnknown) as info:
        client.run_pipeline(pid, PARAMS, event_id="evt-1")
    assert info.value.settle is True and "no answer to the run request" in str(info.value)
    _wait_for_runs(devops_server, 1)
    assert len(devops_server.requests_for(RUN_PIPELINE)) == 1
    assert len(devops_server.runs) == 1
    assert json_logs(caplog)[-1]["outcome"] == "unknown"


@pytest.mark.parametrize("kind", ["drop", "502", "504"])
def test_dropped_connections_and_gateway_errors_leave_the_outcome_unknown(devops_server: FakeDevOpsServer,
                                                                          kind: str) -> None:
    client = make_client(devops_server)
    pid = client.resolve_pipeline_id(TRAINING, FOLDER)
    if kind == "drop":
        devops_server.drop(route=RUN_PIPELINE, times=3)
    else:
        devops_server.fail(int(kind), route=RUN_PIPELINE, times=3)
    with pytest.raises(RunOutcomeUnknown):
        client.run_pipeline(pid, PARAMS, event_id="evt-1")
    assert len(devops_server.requests_for(RUN_PIPELINE)) == 1


@pytest.mark.parametrize("status", [200, 201])
def test_a_2xx_without_a_run_id_is_a_failure_not_a_start(devops_server: FakeDevOpsServer, status: int) -> None:
    client = make_client(devops_server)
    pid = client.resolve_pipeline_id(TRAINING, FOLDER)
    devops_server.fail(status, route=RUN_PIPELINE, html="<html><body>Azure DevOps Services | Sign In</body></html>")
    with pytest.raises(RunOutcomeUnknown, match=f"HTTP {status} without a run id \\(text/html"):
        client.run_pipeline(pid, PARAMS, event_id="evt-1")
    assert devops_server.runs == []


def test_a_203_sign_in_page_twice_is_an_auth_error_not_a_start(devops_server: FakeDevOpsServer) -> None:
    client = make_client(devops_server)
    pid = client.resolve_pipeline_id(TRAINING, FOLDER)
    devops_server.fail(203, route=RUN_PIPELINE, times=2, html="<html>Sign in to your account</html>")
    with pytest.raises(DevOpsAuthError):
        client.run_pipeline(pid, PARAMS, event_id="evt-1")
    assert devops_server.runs == []


def test_an_answered_500_that_queued_the_run_is_found_instead_of_resent(devops_server: FakeDevOpsServer,
                                                                        caplog) -> None:
    client = make_client(devops_server)
    pid = client.resolve_pipeline_id(TRAINING, FOLDER)
    devops_server.fail(500, route=RUN_PIPELINE, process=True)
    run_id = client.run_pipeline(pid, PARAMS, event_id="evt-1")
    [run] = devops_server.runs
    assert run_id == run.run_id
    assert len(devops_server.requests_for(RUN_PIPELINE)) == 1
    assert len(devops_server.requests_for(LIST_RUNS)) == 1
    assert [r.path.rsplit("/", 1)[1] for r in devops_server.requests_for(GET_RUN)] == [str(run.run_id)]
    assert any(r["msg"] == "run_found" for r in json_logs(caplog))


def test_an_answered_503_without_a_run_is_resent_after_a_search(devops_server: FakeDevOpsServer) -> None:
    client = make_client(devops_server)
    pid = client.resolve_pipeline_id(TRAINING, FOLDER)
    devops_server.fail(503, route=RUN_PIPELINE, retry_after="2")
    assert client.run_pipeline(pid, PARAMS, event_id="evt-1") == devops_server.runs[0].run_id
    assert len(devops_server.runs) == 1
    assert len(devops_server.requests_for(RUN_PIPELINE)) == 2
    assert len(devops_server.requests_for(LIST_RUNS)) == 1


def test_connection_refused_is_resent_because_nothing_reached_the_server(devops_server: FakeDevOpsServer) -> None:
    client = make_client(devops_server, sleep=lambda _s: devops_server.start())
    pid = client.resolve_pipeline_id(TRAINING, FOLDER)
    devops_server.refuse()
    assert client.run_pipeline(pid, PARAMS, event_id="evt-1") == devops_server.runs[0].run_id
    assert len(devops_server.runs) == 1


def test_find_run_matches_the_event_id_reading_runs_one_by_one_when_the_list_lacks_parameters(
        devops_server: FakeDevOpsServer) -> None:
    client = make_client(devops_server)
    pid = client.resolve_pipeline_id(TRAINING, FOLDER)
    for event_id in ("evt-a", "evt-b", "evt-c"):
        client.run_pipeline(pid, {**PARAMS, "eventId": event_id}, event_id=event_id)
    wanted = devops_server.runs[1].run_id
    assert client.find_run(pid, "evt-b", created_after=time.time() - 60) == wanted
    assert len(devops_server.requests_for(GET_RUN)) == 2  # newest first: evt-c, then evt-b
    assert client.find_run(pid, "evt-zzz", created_after=time.time() - 60) is None
    assert client.find_run(pid, "evt-b", created_after=time.time() + 60) is None  # created before the window


def test_find_run_gives_up_rather_than_guess_when_too_many_runs_are_candidates(devops_server) -> None:
    client = make_client(devops_server)
    client._lookup_max_runs = 2
    pid = client.resolve_pipeline_id(TRAINING, FOLDER)
    for i in range(4):
        client.run_pipeline(pid, {**PARAMS, "eventId": f"evt-{i}"}, event_id=f"evt-{i}")
    with pytest.raises(RunLookupInconclusive, match="RUN_LOOKUP_MAX_RUNS=2"):
        client.find_run(pid, "evt-0", created_after=time.time() - 60)


def test_find_run_uses_listed_parameters_without_extra_requests() -> None:
    with FakeDevOpsServer(list_parameters=True) as server:
        server.add_pipeline(TRAINING, FOLDER)
        client = make_client(server)
        pid = client.resolve_pipeline_id(TRAINING, FOLDER)
        run_id = client.run_pipeline(pid, PARAMS, event_id="evt-1")
        assert client.find_run(pid, "evt-1", created_after=time.time() - 60) == run_id
        assert server.requests_for(GET_RUN) == []


def test_gives_up_after_max_attempts(devops_server: FakeDevOpsServer, caplog) -> None:
    sleeps = SleepRecorder()
    client = make_client(devops_server, sleep=sleeps, max_attempts=3)
    devops_server.fail(502, times=10)
    with pytest.raises(DevOpsUnavailable, match="gave up after 3 attempts; last error HTTP 502"):
        client.resolve_pipeline_id(TRAINING, FOLDER)
    assert len(devops_server.requests) == 3
    assert len(sleeps.delays) == 2
    assert json_logs(caplog)[-1]["outcome"] == "unavailable"


def test_gives_up_when_the_time_budget_is_spent(devops_server: FakeDevOpsServer) -> None:
    clock = FakeClock()
    client = make_client(devops_server, sleep=clock.sleep, monotonic=clock.monotonic, max_attempts=10,
                         budget_seconds=100.0)
    devops_server.fail(429, retry_after="45", times=10)
    with pytest.raises(DevOpsUnavailable, match="retry budget of 100s exhausted after 3 attempts"):
        client.resolve_pipeline_id(TRAINING, FOLDER)
    assert clock.delays == [45.0, 45.0]
    assert len(devops_server.requests) == 3


def test_the_time_budget_spans_the_lookup_and_the_run_of_one_invocation(devops_server: FakeDevOpsServer) -> None:
    clock = FakeClock()
    client = make_client(devops_server, sleep=clock.sleep, monotonic=clock.monotonic, max_attempts=3,
                         budget_seconds=80.0)
    devops_server.fail(429, route=LIST_PIPELINES, retry_after="45")
    devops_server.fail(429, route=RUN_PIPELINE, retry_after="45")
    with pytest.raises(DevOpsUnavailable, match="retry budget of 80s exhausted after 1 attempts"):
        client.run_named_pipeline(TRAINING, FOLDER, PARAMS)
    assert clock.delays == [45.0]
    assert devops_server.runs == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("", None), ("12", 12.0), (" 1.5 ", 1.5), ("-3", 0.0), ("soon", None),
     ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0)],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, now=lambda: 1445412480.0) == expected
