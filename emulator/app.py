"""create_app(settings) -> Flask app: the only module that wires every layer together.

protocol -> services -> engine -> executors -> stores. One catch-all view hands every AWS request
to routing; the emulator's own endpoints live in a blueprint under `/_emulator/`, a prefix no AWS
path can reach. In front of the Flask app, emulator/account/ sends the requests for every other
AWS service to moto's server in this process.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from dataclasses import dataclass, field, replace

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request

from emulator.account.front import AccountFront
from emulator.account.job_credentials import job_credentials
from emulator.account.moto_gateway import reset_moto
from emulator.account.references import MotoReferences
from emulator.account.routing import OurServices
from emulator.account.secret_store import resolve_secrets
from emulator.account.wiring import AccountWiring
from emulator.bootstrap import bootstrap
from emulator.config import Settings
from emulator.dashboard import UI_PREFIX, create_dashboard_blueprint
from emulator.engine.clock import Clock, ControllableClock
from emulator.engine.engine import Engine
from emulator.engine.ids import new_request_id
from emulator.engine.service_jobs import ServiceJobEngine
from emulator.engine.training_containers import TrainingRunner
from emulator.executors.faults import FaultInjectingExecutor
from emulator.protocol.auth import SignedRequest, SigV4Verifier, parse_keys
from emulator.protocol.dispatch import Dispatcher, RequestContext, ServiceBinding, request_context
from emulator.protocol.errors import ServiceError, UnknownOperationError
from emulator.protocol.parsing import parse_request
from emulator.protocol.routing import Router
from emulator.protocol.serializing import WireResponse, serialize_error, serialize_result
from emulator.protocol.specs import BATCH, LOGS, load_service_model
from emulator.server_errors import ServerErrors
from emulator.services.batch.event_delivery import EventBusDelivery, EventDelivery, WebhookDelivery
from emulator.services.batch.events import EventBuffer, JobEventPublisher, ServiceJobEventPublisher
from emulator.services.batch.provider import BatchProvider
from emulator.services.batch.restore import republish_topology
from emulator.services.batch.service_jobs import render_event_detail
from emulator.services.logs.provider import LogsProvider
from emulator.serving import AwsFastPath
from emulator.stores.base import LogStore
from emulator.stores.jobs import JobStore
from emulator.stores.memory import MemoryLogStore
from emulator.stores.resources import MemoryResourceStore, ResourceStore
from emulator.stores.sqlite import StateDatabase

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_emulator"
_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


@dataclass
class Runtime:
    """Everything create_app built, kept on the app so tests and controls can reach it."""

    settings: Settings
    clock: Clock
    executor: FaultInjectingExecutor
    engine: Engine
    resources: ResourceStore
    logs: LogStore
    batch: BatchProvider
    # Unexpected exceptions raised while serving, recorded only when a test harness turns recording
    # on (the pytest plugin re-raises them in the test that caused them); bounded.
    server_errors: ServerErrors = field(default_factory=ServerErrors)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Job and service-job events (services/batch/events.py), read by /_emulator/events.
    events: EventBuffer = field(default_factory=EventBuffer)
    publisher: JobEventPublisher | None = None
    service_publisher: ServiceJobEventPublisher | None = None
    # The state directory's SQLite file (--state-dir); None when state lives in memory.
    database: StateDatabase | None = None
    # Where service jobs run training images (a Docker executor of their own); None: simulated.
    training_runner: TrainingRunner | None = None
    # ECS clusters, the event bus and Step Functions' calls back (emulator/account/wiring.py).
    account: AccountWiring | None = None

    def reset(self) -> None:
        """Forget every resource, job and log line; stop whatever is running. moto's resources
        too: they are the process's, shared by every app in it (emulator/account/moto_gateway.py)."""
        with self.lock:
            if self.account is not None:
                self.account.reset()
            reset_moto()
            self.engine.reset()
            self.batch.service_engine.reset()
            self.executor.clear_faults()
            clear_scripts = getattr(self.executor.inner, "clear_scripts", None)
            if clear_scripts is not None:
                clear_scripts()
            self.resources.clear()
            self.logs.clear()
            self.events.clear()
            reset_clock = getattr(self.clock, "reset", None)
            if reset_clock is not None:  # with no jobs left, time may return to the wall clock
                reset_clock()

    def live_attempts(self) -> list[str]:
        """Attempt ids whose container or process still exists, service jobs' training included."""
        training = self.training_runner.live_attempts() if self.training_runner is not None else []
        return [*self.executor.live_attempts(), *training]


def build_executors(
    settings: Settings, clock: Clock, logs: LogStore, resources: ResourceStore | None = None
) -> tuple[FaultInjectingExecutor, TrainingRunner | None]:
    """The job executor and, with Docker, the one service jobs run training images on."""
    from emulator.executors.factory import create_executor, create_training_runner, resolve_executor_kind

    kind = resolve_executor_kind(settings)  # "auto" is decided once, for both
    resolved = replace(settings, executor=kind)
    executor = FaultInjectingExecutor(
        create_executor(resolved, clock=clock, log_store=logs, resources=resources)
    )
    return executor, create_training_runner(resolved, executor_kind=kind, log_store=logs)


def open_stores(
    settings: Settings, clock: Clock
) -> tuple[ResourceStore, LogStore, JobStore | None, StateDatabase | None]:
    """Memory stores, or with a state directory (--state-dir) the SQLite stores on its one file."""
    if not settings.state_dir:
        return MemoryResourceStore(), MemoryLogStore(now_ms=clock.now_ms), None, None
    from emulator.stores.sqlite import SqliteJobStore, SqliteLogStore, SqliteResourceStore

    database = StateDatabase(settings.state_dir, synchronous=settings.state_sync)
    resources = SqliteResourceStore(database)
    return resources, SqliteLogStore(database, now_ms=clock.now_ms), SqliteJobStore(database), database


def restore_state(batch: BatchProvider, engine: Engine, executor: FaultInjectingExecutor) -> bool:
    """A start on a state directory: push the stored topology to the engine, reload the jobs
    (adopting the attempts whose containers still run), then let the executor remove what dead
    emulators left behind, which must come after adoption. True when resources were found."""
    found = republish_topology(batch)
    adopted = engine.restore()
    remove_leftovers = getattr(executor, "remove_leftovers", None)
    if callable(remove_leftovers):
        remove_leftovers()
    log.info("state restored: %d jobs, %d running attempts adopted", len(engine.list_jobs()), len(adopted))
    return found


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Flask:
    settings = settings or Settings()
    # Wall time that the test controls can pause and move forward (simulated runs, timeouts).
    clock = clock or ControllableClock()
    resources, logs, job_store, database = open_stores(settings, clock)
    executor, training_runner = build_executors(settings, clock, logs, resources)
    engine = Engine(
        clock=clock,
        executor=executor,
        max_running=settings.max_running,
        job_store=job_store,
        endpoint_url=settings.public_url or f"http://{settings.host}:{settings.port}",
        gpus=settings.resolved_gpus(),
        mnp_stop_grace_seconds=settings.mnp_stop_grace_seconds,
        # Jobs call the emulator back in their own account and read their secrets from it.
        job_credentials=job_credentials(default_account_id=settings.account_id, auth_keys=settings.auth_keys),
        resolve_secrets=resolve_secrets,
    )
    read_jobs_from = getattr(executor.inner, "read_jobs_from", None)
    if callable(read_jobs_from):  # a Kubernetes executor reads each job's pod properties and timeout
        read_jobs_from(engine.get_job)
    # Service jobs (SageMaker Training) run on their own engine, on the same clock.
    service_engine = ServiceJobEngine(clock=clock, runner=training_runner)
    account = AccountWiring(logs=logs)
    batch = BatchProvider(
        store=resources,
        engine=engine,
        settings=settings,
        clock=clock,
        service_engine=service_engine,
        references=MotoReferences() if settings.validate_references else None,
        clusters=account.clusters,
    )
    runtime = Runtime(
        settings,
        clock,
        executor,
        engine,
        resources,
        logs,
        batch,
        database=database,
        training_runner=training_runner,
        account=account,
    )
    deliveries: list[EventDelivery] = [EventBusDelivery(account.event_bus)]
    if settings.event_webhook_url:
        deliveries.append(WebhookDelivery(settings.event_webhook_url))
    for delivery in deliveries:
        delivery.start()
    runtime.publisher = JobEventPublisher(
        render_detail=batch.render_job_detail, buffer=runtime.events, deliveries=deliveries
    )
    engine.add_listener(runtime.publisher.on_status)
    engine.add_blocked_listener(runtime.publisher.on_blocked)
    # Service-job events go to the same buffer, bus and webhook.
    runtime.service_publisher = ServiceJobEventPublisher(
        render_detail=render_event_detail, buffer=runtime.events, deliveries=deliveries
    )
    service_engine.add_listener(runtime.service_publisher.on_status)
    service_engine.add_blocked_listener(runtime.service_publisher.on_blocked)
    restored = database is not None and restore_state(batch, engine, executor)
    # `default` compute environment, queue and definition (emulator/bootstrap.py), unless restored
    if settings.bootstrap and not restored:
        bootstrap(batch, settings)

    batch_model = load_service_model(BATCH)
    logs_model = load_service_model(LOGS)
    router = Router([batch_model, logs_model])
    dispatcher = Dispatcher(
        [
            ServiceBinding(batch_model, batch, "ClientException", True, "ServerException"),
            ServiceBinding(
                logs_model,
                LogsProvider(store=logs, clock=clock),
                "InvalidParameterException",
                False,
                "ServiceUnavailableException",
            ),
        ]
    )

    verifier = SigV4Verifier(parse_keys(settings.auth_keys)) if settings.auth_keys else None

    app = Flask("batch-emulator")
    app.config["RUNTIME"] = runtime

    if settings.test_controls:
        from emulator.testing.controls import create_controls_blueprint

        check_signature = functools.partial(_refusal_of_unsigned, verifier) if verifier is not None else None
        app.register_blueprint(
            create_controls_blueprint(runtime, check_signature=check_signature), url_prefix=CONTROL_PREFIX
        )

    app.register_blueprint(create_dashboard_blueprint(runtime), url_prefix=UI_PREFIX)  # /_emulator/ui/

    def handle_aws(path: str = "") -> Response:
        return serve_aws(request._get_current_object())  # type: ignore[attr-defined]

    def serve_aws(request: Request) -> Response:
        """Every AWS operation, from routing to the wire; a Flask view (handle_aws) or, on the
        fast path (emulator/serving.py), straight from WSGI."""
        request_id = new_request_id()
        service = None
        try:
            if verifier is not None:
                verifier.verify(_signed_request(request))
            route = router.route(request.method, request.path, request.headers.get("X-Amz-Target"))
            service = route.service
            params = parse_request(
                route.operation,
                body=request.get_data(cache=True),
                path_labels=route.path_labels,
                query=request.args.to_dict(flat=False),
                headers=request.headers,
            )
            context = request_context(
                request.headers.get("Authorization"),
                request.args.get("X-Amz-Credential"),
                default_account_id=settings.account_id,
                default_region=settings.region,
                request_id=request_id,
            )
            result = dispatcher.dispatch(route, params, context)
            wire = serialize_result(route.service, route.operation, result, request_id)
        except ServiceError as error:
            wire = serialize_error(service, error, request_id)
        except HTTPException as error:  # e.g. the client sent less body than Content-Length said
            wire = serialize_error(service, protocol_error(error, request), request_id)
        except Exception as exc:  # one place turns the unexpected into one 500, logged once
            log.exception("internal error serving %s %s", request.method, request.path)
            runtime.server_errors.record(exc)
            code = dispatcher.binding(service).server_error_code if service is not None else "ServerException"
            wire = serialize_error(
                service, ServiceError(code, "An internal error occurred.", status=500), request_id
            )
        return _to_flask(wire)

    @app.errorhandler(HTTPException)
    def aws_shaped_http_error(error: HTTPException) -> Response:
        """What Flask itself refuses (a path no rule matches, a method outside the list) still
        gets an AWS-shaped error, never an HTML page."""
        return _to_flask(serialize_error(None, protocol_error(error), str(uuid.uuid4())))

    app.add_url_rule("/", "aws_root", handle_aws, methods=_METHODS)
    app.add_url_rule("/<path:path>", "aws", handle_aws, methods=_METHODS)
    # AWS requests skip Flask's per-request machinery (emulator/serving.py); built first, since it
    # keeps the Flask WSGI app it falls back to.
    app.wsgi_app = AwsFastPath(app, ("aws_root", "aws"), serve_aws)  # type: ignore[method-assign]
    # Every request passes the account's front door first: other AWS services go to moto.
    app.wsgi_app = AccountFront(  # type: ignore[method-assign]
        app.wsgi_app,
        our_services=OurServices.of([batch_model, logs_model]),
        settings=settings,
        verifier=verifier,
        reset_everything=runtime.reset,
        on_error=runtime.server_errors.record,
        before_moto=account.before_moto,
        # CloudFormation's AWS::Batch::* resources are created in this Batch (account/stack_resources.py).
        batch_for_stacks=lambda operation, params, account_id, region: dispatcher.call(
            batch_model, operation, params, RequestContext(account_id, region, str(uuid.uuid4()))
        ),
    )
    engine.start()
    service_engine.start()
    return app


def _refusal_of_unsigned(verifier: SigV4Verifier) -> Response | None:
    """The answer to a test control call not signed by a configured key, as handle_aws gives an
    AWS operation (403 MissingAuthenticationTokenException, InvalidSignatureException, ...); None
    when the signature is good. Reset, fault injection and the job history are as much the
    server's as CreateComputeEnvironment is."""
    try:
        verifier.verify(_signed_request())
    except ServiceError as error:
        return _to_flask(serialize_error(None, error, str(uuid.uuid4())))
    return None


def _signed_request(request: Request = request) -> SignedRequest:  # type: ignore[assignment]
    return SignedRequest.of_environ(request.environ, dict(request.headers), request.get_data(cache=True))


def protocol_error(error: HTTPException, request: Request = request) -> ServiceError:  # type: ignore[assignment]
    status = error.code or 400
    if status in (404, 405):
        return UnknownOperationError(
            f"No operation matches {request.method} {request.path!r}.", status=status
        )
    return ServiceError("SerializationException", error.description or error.name, status=min(status, 499))


def _to_flask(wire: WireResponse) -> Response:
    return Response(wire.body, status=wire.status, headers=wire.headers)


def runtime_of(app: Flask) -> Runtime:
    return app.config["RUNTIME"]


def close_app(app: Flask) -> None:
    runtime = runtime_of(app)
    runtime.engine.close()
    runtime.batch.service_engine.close()
    if runtime.training_runner is not None:
        runtime.training_runner.close()
    runtime.executor.close()
    if runtime.publisher is not None:
        runtime.publisher.close()  # the service publisher shares its deliveries
    if runtime.account is not None:
        runtime.account.close()
    if runtime.database is not None:
        runtime.database.close()
