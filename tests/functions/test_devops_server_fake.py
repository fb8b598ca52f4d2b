"""The fake Azure DevOps server itself (others reuse it, so its behaviour is pinned here)."""

from __future__ import annotations

import time

import pytest
import requests

from tests.fakes.devops_server import GET_RUN, LIST_PIPELINES, LIST_RUNS, RUN_PIPELINE, UNKNOWN, FakeDevOpsServer

API = {"api-version": "7.1"}


def test_serves_pipelines_and_records_runs() -> None:
    with FakeDevOpsServer(organization="o", project="p q") as ado:
        pid = ado.add_pipeline("train", "\\team")
        base = f"{ado.org_url}/p%20q/_apis/pipelines"
        listing = requests.get(base, params=API, timeout=5).json()
        assert listing == {"count": 1, "value": [{"id": pid, "name": "train", "folder": "\\team", "revision": 1,
                                                  "url": listing["value"][0]["url"]}]}
        run = requests.post(f"{base}/{pid}/runs", params=API, json={"templateParameters": {"a": "1"}},
                            headers={"Authorization": "Bearer t"}, timeout=5).json()
        assert run["templateParameters"] == {"a": "1"} and run["state"] == "inProgress"
        assert requests.get(f"{base}/{pid}/runs/{run['id']}", params=API, timeout=5).json()["id"] == run["id"]
        assert requests.get(f"{base}/{pid}/runs", params=API, timeout=5).json()["count"] == 1
        assert requests.post(f"{base}/999/runs", params=API, json={}, timeout=5).status_code == 404
        assert requests.get(base, params={"api-version": "6.0"}, timeout=5).status_code == 400
        assert requests.get(f"{ado.org_url}/other/_apis/pipelines", params=API, timeout=5).status_code == 404
        assert [r.route for r in ado.requests] == [LIST_PIPELINES, RUN_PIPELINE, GET_RUN, LIST_RUNS, RUN_PIPELINE,
                                                   LIST_PIPELINES, UNKNOWN]
        assert ado.requests[1].header("authorization") == "Bearer t"
        assert ado.requests[1].body == {"templateParameters": {"a": "1"}}
        assert [(r.pipeline_id, r.template_parameters) for r in ado.runs] == [(pid, {"a": "1"})]


def test_faults_are_consumed_in_order_and_by_route() -> None:
    with FakeDevOpsServer() as ado:
        pid = ado.add_pipeline("train")
        base = f"{ado.org_url}/{ado.project}/_apis/pipelines"
        ado.fail(429, route=RUN_PIPELINE, retry_after="3")
        ado.fail(500, times=2)
        first = requests.get(base, params=API, timeout=5)  # the 429 is for runs only: 500 applies here
        assert first.status_code == 500
        throttled = requests.post(f"{base}/{pid}/runs", params=API, json={}, timeout=5)
        assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "3")
        assert requests.post(f"{base}/{pid}/runs", params=API, json={}, timeout=5).status_code == 500
        assert ado.pending_faults == 0
        assert requests.post(f"{base}/{pid}/runs", params=API, json={}, timeout=5).status_code == 200
        assert len(ado.runs) == 1

        ado.drop(route=LIST_PIPELINES)
        with pytest.raises(requests.ConnectionError):
            requests.get(base, params=API, timeout=5)
        ado.slow(0.5)
        with pytest.raises(requests.Timeout):
            requests.get(base, params=API, timeout=0.1)
        with pytest.raises(ValueError):
            ado.fail(500, times=0)


def test_slow_requests_are_still_processed_like_a_real_server() -> None:
    with FakeDevOpsServer() as ado:
        pid = ado.add_pipeline("train")
        ado.slow(0.3, route=RUN_PIPELINE)
        with pytest.raises(requests.Timeout):
            requests.post(f"{ado.org_url}/{ado.project}/_apis/pipelines/{pid}/runs", params=API, json={},
                          timeout=0.05)
        deadline = time.monotonic() + 5
        while not ado.runs and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(ado.runs) == 1


def test_token_check_and_pagination() -> None:
    with FakeDevOpsServer(page_size=1, accept_tokens={"good"}) as ado:
        ado.add_pipeline("a")
        ado.add_pipeline("b")
        base = f"{ado.org_url}/{ado.project}/_apis/pipelines"
        assert requests.get(base, params=API, headers={"Authorization": "Bearer bad"}, timeout=5).status_code == 401
        page = requests.get(base, params=API, headers={"Authorization": "Bearer good"}, timeout=5)
        assert [p["name"] for p in page.json()["value"]] == ["a"]
        token = page.headers["x-ms-continuationtoken"]
        page2 = requests.get(base, params={**API, "continuationToken": token},
                             headers={"Authorization": "Bearer good"}, timeout=5)
        assert [p["name"] for p in page2.json()["value"]] == ["b"]
        assert "x-ms-continuationtoken" not in page2.headers


def test_fixture_gives_a_started_empty_server(fake_devops_server: FakeDevOpsServer) -> None:
    assert fake_devops_server.find_pipeline("x") is None
    pid = fake_devops_server.add_pipeline("x", "\\f")
    assert fake_devops_server.find_pipeline("x", "\\f") == pid
    listing = requests.get(f"{fake_devops_server.org_url}/{fake_devops_server.project}/_apis/pipelines",
                           params=API, timeout=5).json()
    assert [p["id"] for p in listing["value"]] == [pid]


def test_runs_listing_dates_and_parameters_like_the_runs_api() -> None:
    with FakeDevOpsServer() as ado, FakeDevOpsServer(list_parameters=True) as listing_ado:
        for server in (ado, listing_ado):
            pid = server.add_pipeline("train")
            base = f"{server.org_url}/{server.project}/_apis/pipelines/{pid}/runs"
            created = requests.post(base, params=API, json={"templateParameters": {"eventId": "e"}}, timeout=5).json()
            [listed] = requests.get(base, params=API, timeout=5).json()["value"]
            assert listed["createdDate"].endswith("Z") and listed["id"] == created["id"]
            assert ("templateParameters" in listed) is server.list_parameters
            assert requests.get(f"{base}/{created['id']}", params=API, timeout=5).json()["templateParameters"] == {
                "eventId": "e"}


def test_html_pages_faults_after_processing_random_faults_and_refusing() -> None:
    with FakeDevOpsServer() as ado:
        pid = ado.add_pipeline("train")
        runs = f"{ado.org_url}/{ado.project}/_apis/pipelines/{pid}/runs"
        ado.fail(203, route=RUN_PIPELINE, html="<html>Sign in</html>")
        page = requests.post(runs, params=API, json={}, timeout=5)
        assert (page.status_code, page.headers["Content-Type"].split(";")[0], page.text) == (
            203, "text/html", "<html>Sign in</html>")
        assert ado.runs == []
        ado.fail(500, route=RUN_PIPELINE, process=True)
        assert requests.post(runs, params=API, json={}, timeout=5).status_code == 500
        assert len(ado.runs) == 1  # processed, then failed: the run exists
        ado.random_faults([(RUN_PIPELINE, 1.0, {"kind": "status", "status": 503})], seed=1)
        assert requests.post(runs, params=API, json={}, timeout=5).status_code == 503
        assert ado.injected == {"203 html": 1, "500 processed": 1, "503": 1}
        ado.random_faults([])
        port = ado.port
        ado.refuse()
        with pytest.raises(requests.ConnectionError):
            requests.get(runs, params=API, timeout=5)
        ado.start()
        assert ado.port == port and requests.get(runs, params=API, timeout=5).status_code == 200
