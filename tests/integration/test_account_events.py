"""Batch wired into the account's EventBridge: Batch's events go onto the default bus, and a rule's
targets (an SQS queue, an SNS topic, a log group of this emulator's CloudWatch Logs) receive the
events its pattern matches, in the envelope AWS sends (reference §22). Jobs run as processes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from kit import define, eventually, submit

SUCCEEDED_RULE = {
    "source": ["aws.batch"],
    "detail-type": ["Batch Job State Change"],
    "detail": {"status": ["SUCCEEDED"]},
}
EVERY_BATCH_EVENT = {"source": ["aws.batch"]}


@pytest.fixture
def queue(batch_client) -> str:
    batch_client.create_compute_environment(computeEnvironmentName="ce", type="UNMANAGED")
    batch_client.create_job_queue(
        jobQueueName="q", priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "ce"}]
    )
    define(batch_client, "ok", ["true"])
    define(batch_client, "fails", ["false"])
    return "q"


class Inbox:
    """An SQS queue some rule delivers to; `messages` are the parsed bodies received so far."""

    def __init__(self, sqs, name: str) -> None:
        self.sqs = sqs
        self.url = sqs.create_queue(QueueName=name)["QueueUrl"]
        self.arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.messages: list[dict[str, Any]] = []

    def receive(self) -> list[dict[str, Any]]:
        received = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        for message in received.get("Messages", []):
            self.messages.append(json.loads(message["Body"]))
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return self.messages


@pytest.fixture
def inboxes(aws_client) -> Callable[[str, dict[str, Any]], Inbox]:
    """`inboxes(name, pattern)`: a rule on the default bus that sends what it matches to a new queue."""
    events, sqs = aws_client("events"), aws_client("sqs")

    def rule_to_inbox(name: str, pattern: dict[str, Any]) -> Inbox:
        inbox = Inbox(sqs, name)
        events.put_rule(Name=name, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, Targets=[{"Id": name, "Arn": inbox.arn}])
        return inbox

    return rule_to_inbox


def terminal_events_seen(inbox: Inbox, job_ids: list[str]) -> bool:
    finished = {
        event["detail"]["jobId"]
        for event in inbox.receive()
        if event["detail-type"] == "Batch Job State Change"
        and event["detail"]["status"] in ("SUCCEEDED", "FAILED")
    }
    return finished >= set(job_ids)


def test_rule_on_succeeded_jobs_gets_one_message_per_succeeded_job(
    batch_client, batch_emulator, queue, inboxes, wait_for_job
):
    succeeded = inboxes("succeeded", SUCCEEDED_RULE)
    everything = inboxes("everything", EVERY_BATCH_EVENT)
    good = [submit(batch_client, queue, "ok", f"good-{n}") for n in range(3)]
    bad = submit(batch_client, queue, "fails", "bad")
    for job_id in good:
        wait_for_job(job_id)
    wait_for_job(bad, "FAILED")
    # Events are delivered in order by one thread: once the catch-all rule has the last ones, the
    # first rule has everything it will ever get.
    eventually(lambda: terminal_events_seen(everything, [*good, bad]), what="every job's last event")

    messages = succeeded.receive()
    assert sorted(message["detail"]["jobId"] for message in messages) == sorted(good)
    account, region = batch_emulator.settings.account_id, batch_emulator.settings.region
    for message in messages:
        described = batch_client.describe_jobs(jobs=[message["detail"]["jobId"]])["jobs"][0]
        assert message["source"] == "aws.batch"
        assert message["detail-type"] == "Batch Job State Change"
        assert (message["account"], message["region"]) == (account, region)
        assert message["resources"] == [described["jobArn"]]
        assert message["detail"]["status"] == "SUCCEEDED"
        assert message["detail"]["container"]["exitCode"] == 0


def test_every_status_after_submission_reaches_a_catch_all_rule_in_order(
    batch_client, queue, inboxes, wait_for_job
):
    everything = inboxes("everything", EVERY_BATCH_EVENT)
    job_id = submit(batch_client, queue, "ok")
    wait_for_job(job_id)
    eventually(lambda: terminal_events_seen(everything, [job_id]), what="the SUCCEEDED event")

    statuses = [
        event["detail"]["status"] for event in everything.messages if event["detail"]["jobId"] == job_id
    ]
    assert statuses == ["RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]


def test_disabled_rule_receives_nothing(batch_client, aws_client, queue, inboxes, wait_for_job):
    disabled = inboxes("disabled", EVERY_BATCH_EVENT)
    aws_client("events").disable_rule(Name="disabled")
    everything = inboxes("everything", EVERY_BATCH_EVENT)
    job_id = submit(batch_client, queue, "ok")
    wait_for_job(job_id)
    eventually(lambda: terminal_events_seen(everything, [job_id]), what="the SUCCEEDED event")

    assert disabled.receive() == []


def test_sns_topic_target_publishes_to_its_subscribers(
    batch_client, aws_client, queue, inboxes, wait_for_job
):
    sns, events = aws_client("sns"), aws_client("events")
    subscriber = Inbox(aws_client("sqs"), "subscriber")
    topic_arn = sns.create_topic(Name="batch-done")["TopicArn"]
    sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=subscriber.arn, Attributes={"RawMessageDelivery": "true"}
    )
    events.put_rule(Name="to-topic", EventPattern=json.dumps(SUCCEEDED_RULE))
    events.put_targets(Rule="to-topic", Targets=[{"Id": "topic", "Arn": topic_arn}])
    job_id = submit(batch_client, queue, "ok")
    wait_for_job(job_id)

    [published] = eventually(subscriber.receive, what="the topic's message")
    assert (published["detail"]["jobId"], published["detail"]["status"]) == (job_id, "SUCCEEDED")


def test_log_group_target_writes_to_the_emulators_cloudwatch_logs(
    batch_client, aws_client, logs_client, queue, wait_for_job
):
    logs_client.create_log_group(logGroupName="/aws/events/batch")
    group_arn = logs_client.describe_log_groups(logGroupNamePrefix="/aws/events/batch")["logGroups"][0]["arn"]
    events = aws_client("events")
    events.put_rule(Name="to-logs", EventPattern=json.dumps(SUCCEEDED_RULE))
    events.put_targets(Rule="to-logs", Targets=[{"Id": "logs", "Arn": group_arn}])
    job_id = submit(batch_client, queue, "ok")
    wait_for_job(job_id)

    def logged() -> list[dict[str, Any]]:
        found = logs_client.filter_log_events(logGroupName="/aws/events/batch")["events"]
        return [json.loads(event["message"]) for event in found]

    [event] = eventually(logged, what="the log event")
    assert (event["detail"]["jobId"], event["detail"]["status"]) == (job_id, "SUCCEEDED")


def test_input_transformer_shapes_what_the_target_receives(batch_client, aws_client, queue, wait_for_job):
    inbox = Inbox(aws_client("sqs"), "shaped")
    events = aws_client("events")
    events.put_rule(Name="shaped", EventPattern=json.dumps(SUCCEEDED_RULE))
    transformer = {
        "InputPathsMap": {"job": "$.detail.jobId", "status": "$.detail.status"},
        "InputTemplate": '{"job": "<job>", "status": "<status>"}',
    }
    events.put_targets(
        Rule="shaped", Targets=[{"Id": "q", "Arn": inbox.arn, "InputTransformer": transformer}]
    )
    job_id = submit(batch_client, queue, "ok")
    wait_for_job(job_id)

    assert eventually(inbox.receive, what="the shaped message") == [{"job": job_id, "status": "SUCCEEDED"}]
