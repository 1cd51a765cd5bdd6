"""Emulator: one in-process server (app + ServerThread) and the handles tests need.

Its clients (boto3 and the test controls) sign with the first key of `auth_keys` when the server
was started with --auth, and with dummy credentials otherwise, so the same tests run either way.
It records the errors the server raises while serving (bounded; see emulator.server_errors) for
the test harness to re-raise in the test that caused them.
"""

from __future__ import annotations

import time
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from emulator.app import Runtime, close_app, create_app, runtime_of
from emulator.config import Settings
from emulator.dashboard import UI_PREFIX
from emulator.protocol.auth import parse_keys
from emulator.serving import start_callback_listener
from emulator.testing.client import ControlClient
from emulator.testing.server import ServerThread

DUMMY_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


@dataclass
class Emulator:
    server: ServerThread
    settings: Settings
    callback_listener: ServerThread | None = None

    @classmethod
    def start(cls, **overrides: Any) -> Emulator:
        settings = Settings.from_environment().with_overrides(**{"host": "127.0.0.1", "port": 0, **overrides})
        server = ServerThread.bind(settings.host, settings.port)
        settings = settings.with_overrides(port=server.port, public_url=settings.public_url or server.url)
        app = create_app(settings)
        runtime_of(app).server_errors.recording = True
        server.mount(app)
        server.start()
        executor_name = type(runtime_of(app).executor.inner).__name__
        emulator = cls(server, settings, start_callback_listener(app, settings, executor_name))
        emulator.wait_until_healthy()
        return emulator

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def dashboard_url(self) -> str:
        """The web dashboard: queues, jobs, attempts and logs (HTTP Basic with the key under --auth)."""
        return f"{self.url}{UI_PREFIX}/"

    @property
    def runtime(self) -> Runtime:
        return runtime_of(self.server.app)

    def wait_until_healthy(self, timeout_seconds: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_emulator/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.01)

    @property
    def credentials(self) -> dict[str, str]:
        """boto3's credential arguments: the first --auth key pair, else dummy ones."""
        keys = parse_keys(self.settings.auth_keys)
        if not keys:
            return dict(DUMMY_CREDENTIALS)
        access_key_id, secret = next(iter(keys.items()))
        return {"aws_access_key_id": access_key_id, "aws_secret_access_key": secret}

    @property
    def controls(self) -> ControlClient:
        return ControlClient(self.url, region_name=self.settings.region, **self.credentials)

    def client(self, service: str, region: str | None = None, **kwargs: Any):
        """A boto3 client for any AWS service, bound to this emulator, with its credentials and
        retries off (Batch and Logs are the emulator's own; every other service is moto's)."""
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region or self.settings.region,
            config=Config(retries={"max_attempts": 1}),
            **{**self.credentials, **kwargs},
        )

    def environment(self) -> dict[str, str]:
        """Variables that make code under test build clients pointed at this emulator."""
        return {
            # Every service: the same endpoint serves them all (emulator/account/).
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ENDPOINT_URL_BATCH": self.url,
            "AWS_ENDPOINT_URL_LOGS": self.url,
            # botocore derives the per-service variable from the service id "CloudWatch Logs".
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": self.url,
            "AWS_ACCESS_KEY_ID": self.credentials["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": self.credentials["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": self.settings.region,
            "AWS_REGION": self.settings.region,
        }

    def reset(self) -> None:
        self.runtime.reset()

    def stop(self) -> None:
        if self.callback_listener is not None:
            self.callback_listener.stop()
        self.server.stop()
        close_app(self.server.app)
