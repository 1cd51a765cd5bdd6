"""The `server` benchmark's use of wrk: the replayed request, the figures read back, and the skip
where wrk is not installed. No wrk is needed here; test_bench_smoke.py runs the real thing."""

from __future__ import annotations

import pytest

from bench import wrk
from bench.plan import QUICK
from bench.report import Report
from bench.workloads import server


class Prepared:
    """What botocore's `before-send` event hands over (AWSPreparedRequest's fields)."""

    method = "POST"
    url = "http://127.0.0.1:4566/v1/describejobs?x=1"
    headers = {
        "Content-Type": "application/json",
        "Authorization": b"AWS4-HMAC-SHA256 Credential=test/...",
        "Content-Length": "12",
        "Host": "127.0.0.1:4566",
    }
    body = b'{"jobs": []}'


def test_a_recorded_request_keeps_what_wrk_does_not_write_itself():
    request = wrk.RecordedRequest.from_prepared(Prepared())
    assert request.method == "POST"
    assert request.path == "/v1/describejobs?x=1"
    assert request.headers == {
        "Content-Type": "application/json",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/...",
    }
    assert request.body == b'{"jobs": []}'


def test_the_lua_script_quotes_bodies_whatever_they_hold():
    body = b'{"command": ["echo", "]]", "]=]"]}'
    script = wrk.lua_script(wrk.RecordedRequest("POST", "/v1/submitjob", {"X-A": "b"}, body))
    assert 'wrk.body = [==[{"command": ["echo", "]]", "]=]"]}]==]' in script
    # `headers[[` would open a long string in Lua: the index is spaced.
    assert "wrk.headers[ [=[X-A]=] ] = [=[b]=]" in script
    assert "function done(summary, latency, requests)" in script
    assert "function response" not in script


def test_a_fill_stops_after_the_answers_it_asked_for():
    script = wrk.lua_script(wrk.RecordedRequest("POST", "/", {}, b""), stop_after=250)
    assert "if answered >= 250 then wrk.thread:stop() end" in script


def test_the_result_line_is_read_among_wrks_own_output():
    output = (
        "Running 3s test @ http://127.0.0.1:1\n  1 threads and 4 connections\n"
        'WRK_RESULT {"requests": 1500, "duration_us": 3000000, "status_errors": 2, "socket_errors": 1, '
        '"p50_us": 2500, "p99_us": 12000, "mean_us": 2700.5}\n'
    )
    result = wrk.parse_result(output)
    assert (result.requests, result.status_errors, result.socket_errors) == (1500, 2, 1)
    assert result.per_second == 500
    assert (result.p50_ms, result.p99_ms, result.mean_ms) == (2.5, 12.0, 2.7005)


def test_output_without_a_result_line_is_an_error_that_shows_it():
    with pytest.raises(RuntimeError, match="wrk printed no result: unable to connect"):
        wrk.parse_result("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_the_workload_is_skipped_with_an_install_hint_where_wrk_is_absent(monkeypatch, capsys):
    monkeypatch.setattr(wrk, "find_wrk", lambda: None)
    started = []
    monkeypatch.setattr(server.servers, "start_emulator", lambda *a, **k: started.append("emulator"))
    report = Report(mode="quick")
    server.run(report, QUICK)
    assert started == []
    message = capsys.readouterr().err
    assert "server workload skipped: wrk is not installed" in message
    assert "apt-get install wrk" in message
    assert [row.note for row in report.rows] == [message.strip()]
    assert "skipped" in report.raw["server"]
