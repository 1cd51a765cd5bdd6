"""What the open pages poll, once a second while something can still change: the job list's rows,
the changing part of a job page, an array's children's statuses, and the lines of a log written
since the last read. Each is one page-sized read: the engine's lock is held for the time it takes
to copy a page of references out of its indexes, never for a scan of the jobs held. The list's rows
and an array's children carry an ETag: a poll that finds nothing changed gets a bodiless 304, and
the server renders nothing."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from flask import Blueprint, Response, jsonify, render_template, request

from emulator.dashboard.errors import not_found
from emulator.dashboard.joblist import build_job_page, parse_filters, status_links
from emulator.dashboard.jobpage import build_job_view, log_sources
from emulator.dashboard.logview import choose_source, read_log
from emulator.dashboard.scope import request_scope
from emulator.engine.records import JobStatus

if TYPE_CHECKING:
    from emulator.dashboard.blueprint import Dashboard

# One character per child in the grid's answer: 10,000 children cost 10 kB, not a JSON list.
STATUS_CODES = {status: str(index) for index, status in enumerate(JobStatus)}


def _is_current(tag: str) -> bool:
    """The page polling already shows this state (it sent the tag of what it shows)."""
    return request.headers.get("If-None-Match") == f'"{tag}"'


def _not_modified(tag: str) -> Response:
    return Response(status=304, headers={"ETag": f'"{tag}"'})


def add_routes(blueprint: Blueprint, dashboard: Dashboard) -> None:
    settings = dashboard.runtime.settings

    @blueprint.get("/jobs/rows")
    def job_rows():
        ctx = request_scope(settings)
        job_page = build_job_page(dashboard.batch, ctx, parse_filters(request.args), with_queue_names=False)
        now_ms = dashboard.batch.now_ms()
        tag = job_page.fingerprint(now_ms)
        if _is_current(tag):
            return _not_modified(tag)
        body = render_template("dashboard/_job_rows.html", jobs=job_page, now_ms=now_ms)
        return body, 200, {"ETag": f'"{tag}"'}

    @blueprint.get("/jobs/<job_id>/live")
    def job_live(job_id: str):
        ctx = request_scope(settings)
        view = build_job_view(dashboard.batch, ctx, job_id, live_part_only=True)
        body = render_template("dashboard/_job_live.html", view=view, status_links=status_links)
        return body, 200, {"X-Job-Status": view.job.status.value}

    @blueprint.get("/jobs/<job_id>/children")
    def job_children(job_id: str):
        ctx = request_scope(settings)
        parent = dashboard.batch.job_record(ctx, job_id)
        if parent is None or not parent.is_array_parent:
            raise not_found(f"Job {job_id} is not an array job of this account and region.")
        # The parent's summary changes with every child's status: while it stands still, so does
        # the grid, and the 10,000 lookups are skipped.
        tag = hashlib.blake2b(
            repr((parent.status, sorted((parent.status_summary or {}).items()))).encode(), digest_size=12
        ).hexdigest()
        if _is_current(tag):
            return _not_modified(tag)
        statuses = dashboard.batch.array_child_statuses(ctx, job_id) or []
        response = jsonify(
            statuses="".join(STATUS_CODES[status] for status in statuses),
            legend=[status.value for status in JobStatus],
            terminal=parent.status.is_terminal,
        )
        response.headers["ETag"] = f'"{tag}"'
        return response

    @blueprint.get("/jobs/<job_id>/log")
    def job_log(job_id: str):
        ctx = request_scope(settings)
        job = dashboard.batch.job_record(ctx, job_id)
        if job is None:
            raise not_found(f"Job {job_id} does not exist in account {ctx.account_id}, region {ctx.region}.")
        source = choose_source(log_sources(job), request.args.get("stream"))
        if source is None:
            return jsonify(
                stream=None, events=[], forward=None, backward=None, terminal=job.status.is_terminal
            )
        page = read_log(dashboard.logs, ctx, source, token=request.args.get("token") or None)
        return jsonify(**page, terminal=job.status.is_terminal)
