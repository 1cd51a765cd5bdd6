"""Crash safety of --state-dir: kill -9 the server in the middle of a load of submits, cancels and
terminates, restart it on the same directory, and again, ROUNDS times; then check that no job the
API acknowledged was lost, that every job ends, that no attempt ran twice, and that the SQLite file
is intact after every kill.

Jobs really run (process executor): each attempt appends "<job id> <attempt number>" to a markers
file before it sleeps a little, so an attempt started twice would show as a repeated line. Jobs
running when the server dies are orphaned; the restart kills them and retries their attempt as a
new one (Host EC2 ... terminated.), as AWS does when an instance goes away.

The rounds, the load and the kill timings are printed (run with -s to see them); nothing about
time is asserted.
"""

from __future__ import annotations

import collections
import random
import signal
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config
from kit import start_server_process

ROUNDS = 5
SUBMITTERS = 4
LOAD_SECONDS = (0.6, 1.6)  # the kill comes at a random moment in this window after the load starts
TERMINAL = ("SUCCEEDED", "FAILED")
SCRIPT = 'echo "$AWS_BATCH_JOB_ID $AWS_BATCH_JOB_ATTEMPT" >> "$MARKERS"; sleep "$SLEEP"'


def start_server(state_dir: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    process, url = start_server_process(
        ["--executor", "process", "--max-running", "8", "--state-dir", str(state_dir)], log_path
    )
    threading.Thread(target=process.stdout.read, daemon=True).start()  # keep the pipe drained
    return process, url


def client(url: str):
    return boto3.client(
        "batch",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10),
    )


@dataclass
class Load:
    """What the API acknowledged, shared by the submitter threads of every round."""

    acknowledged: list[str] = field(default_factory=list)
    arrays: list[str] = field(default_factory=list)
    retries: dict[str, int] = field(default_factory=dict)
    cancels: int = 0
    terminates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def submitter(url: str, markers: Path, load: Load, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    batch = client(url)
    count = 0
    while not stop.is_set():
        count += 1
        try:
            if count % 6 == 0 and load.acknowledged:
                with load.lock:
                    victim = rng.choice(load.acknowledged)
                if rng.random() < 0.5:
                    batch.cancel_job(jobId=victim, reason="load: cancel")
                    with load.lock:
                        load.cancels += 1
                else:
                    batch.terminate_job(jobId=victim, reason="load: terminate")
                    with load.lock:
                        load.terminates += 1
                continue
            attempts = rng.choice((1, 3))
            options = {"arrayProperties": {"size": 3}} if count % 10 == 0 else {}
            job_id = batch.submit_job(
                jobName=f"load-{seed}-{count}",
                jobQueue="q",
                jobDefinition="jd",
                retryStrategy={"attempts": attempts},
                containerOverrides={
                    "environment": [
                        {"name": "MARKERS", "value": str(markers)},
                        {"name": "SLEEP", "value": f"0.{rng.randint(0, 20):02d}"},
                    ]
                },
                **options,
            )["jobId"]
            with load.lock:
                load.acknowledged.append(job_id)
                load.retries[job_id] = attempts
                if options:
                    load.arrays.append(job_id)
        except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError):
            return  # the server is gone: this round's load is over
        except botocore.exceptions.ReadTimeoutError:
            return
        except botocore.exceptions.ClientError:
            continue  # e.g. terminating a job that is already being stopped


def integrity(database: Path) -> str:
    connection = sqlite3.connect(database)
    try:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        connection.close()


def describe(batch, job_ids: list[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for start in range(0, len(job_ids), 100):
        for job in batch.describe_jobs(jobs=job_ids[start : start + 100])["jobs"]:
            found[job["jobId"]] = job
    return found


@pytest.mark.timeout(600)
def test_kill_9_under_load_loses_no_acknowledged_job_and_runs_no_attempt_twice(tmp_path: Path) -> None:
    state, markers, log_path = tmp_path / "state", tmp_path / "markers", tmp_path / "server.log"
    markers.touch()
    load = Load()
    process, url = start_server(state, log_path)
    try:
        batch = client(url)
        batch.create_compute_environment(computeEnvironmentName="ce", type="UNMANAGED")
        batch.create_job_queue(
            jobQueueName="q", priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "ce"}]
        )
        batch.register_job_definition(
            jobDefinitionName="jd",
            type="container",
            containerProperties={
                "image": "busybox",
                "command": ["sh", "-c", SCRIPT],
                "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "64"}],
            },
        )
        rounds = []
        for round_number in range(1, ROUNDS + 1):
            before = len(load.acknowledged)
            stop = threading.Event()
            threads = [
                threading.Thread(target=submitter, args=(url, markers, load, stop, round_number * 100 + n))
                for n in range(SUBMITTERS)
            ]
            for thread in threads:
                thread.start()
            kill_after = random.uniform(*LOAD_SECONDS)
            time.sleep(kill_after)
            process.send_signal(signal.SIGKILL)
            process.wait()
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            checked = integrity(state / "emulator.sqlite3")
            rounds.append((round_number, len(load.acknowledged) - before, kill_after, checked))
            assert checked == "ok", f"round {round_number}: {checked}"
            process, url = start_server(state, log_path)

        batch = client(url)
        deadline = time.monotonic() + 240
        while True:
            jobs = describe(batch, load.acknowledged)
            unfinished = [j for j in jobs.values() if j["status"] not in TERMINAL]
            if not unfinished or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        children = {
            f"{parent}:{index}": jobs[parent]
            for parent in load.arrays
            if parent in jobs
            for index in range(3)
        }
        child_jobs = describe(batch, list(children))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    final_check = integrity(state / "emulator.sqlite3")

    lost = [job_id for job_id in load.acknowledged if job_id not in jobs]
    every_job = {**jobs, **child_jobs}
    ran = collections.Counter(
        tuple(line.split()) for line in markers.read_text().splitlines() if line.strip()
    )
    twice = {marker: count for marker, count in ran.items() if count > 1}
    unrecorded = [
        (job_id, attempt)
        for job_id, attempt in ran
        if job_id in every_job and int(attempt) > len(every_job[job_id].get("attempts", []))
    ]
    host_lost = sum(
        1
        for job in every_job.values()
        for attempt in job.get("attempts", [])
        if attempt.get("statusReason", "").startswith("Host EC2")
    )
    print(
        f"\nkill -9 crash test: {ROUNDS} rounds, {SUBMITTERS} submitter threads (1 in 6 calls a cancel/terminate)"
    )
    for round_number, submitted, kill_after, checked in rounds:
        print(f"  round {round_number}: {submitted} jobs acknowledged, killed {kill_after:.2f} s into the load, "
              f"integrity_check {checked}")  # fmt: skip
    print(
        f"  total: {len(load.acknowledged)} acknowledged jobs ({len(load.arrays)} arrays of 3), "
        f"{load.cancels} cancels, {load.terminates} terminates; {sum(ran.values())} attempts ran, "
        f"{host_lost} attempts lost with the killed server and retried or failed; "
        f"acknowledged-but-lost: {len(lost)}; attempts run twice: {len(twice)}; final integrity_check {final_check}"
    )
    assert lost == []
    assert [j["jobId"] for j in every_job.values() if j["status"] not in TERMINAL] == []
    assert twice == {}
    assert unrecorded == []
    for job_id, job in jobs.items():
        if job_id not in load.arrays:
            assert len(job.get("attempts", [])) <= load.retries[job_id], job_id
    assert final_check == "ok"
