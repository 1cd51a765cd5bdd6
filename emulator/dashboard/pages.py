"""The dashboard's pages: overview, job list, job, events and (with test controls on) controls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, render_template, request

from emulator.dashboard.errors import bad_request, not_found
from emulator.dashboard.joblist import build_job_page, parse_filters, status_links
from emulator.dashboard.jobpage import build_job_view, default_log_source
from emulator.dashboard.overview import build_overview
from emulator.dashboard.scope import request_scope
from emulator.services.batch import arns
from emulator.services.batch.events import DETAIL_TYPES

if TYPE_CHECKING:
    from emulator.dashboard.blueprint import Dashboard

EVENTS_PER_PAGE = 100
MAX_EVENTS_SKIPPED = 10_000


def add_routes(blueprint: Blueprint, dashboard: Dashboard) -> None:
    settings = dashboard.runtime.settings

    @blueprint.get("/")
    def overview():
        ctx = request_scope(settings)
        return render_template(
            "dashboard/overview.html",
            page="overview",
            ctx=ctx,
            overview=build_overview(dashboard.batch, ctx),
            status_links=status_links,
        )

    @blueprint.get("/jobs")
    def jobs():
        ctx = request_scope(settings)
        job_page = build_job_page(dashboard.batch, ctx, parse_filters(request.args))
        return render_template(
            "dashboard/jobs.html", page="jobs", ctx=ctx, jobs=job_page, now_ms=dashboard.batch.now_ms()
        )

    @blueprint.get("/jobs/<job_id>")
    def job(job_id: str):
        ctx = request_scope(settings)
        view = build_job_view(dashboard.batch, ctx, job_id)
        return render_template(
            "dashboard/job.html",
            page="jobs",
            ctx=ctx,
            view=view,
            log_source=default_log_source(view.log_sources),
            status_links=status_links,
        )

    @blueprint.get("/events")
    def events():
        ctx = request_scope(settings)
        job_id = request.args.get("jobId") or None
        detail_type = request.args.get("detailType") or None
        if detail_type is not None and detail_type not in DETAIL_TYPES:
            raise bad_request(f"Unknown detail type {detail_type!r}; use one of {', '.join(DETAIL_TYPES)}.")
        skip = _skip(request.args.get("skip"))
        found, has_older = dashboard.runtime.events.newest(
            job_id=job_id,
            detail_type=detail_type,
            arn_prefix=arns.tenant_prefix(ctx),
            skip=skip,
            limit=EVENTS_PER_PAGE,
        )
        return render_template(
            "dashboard/events.html",
            page="events",
            ctx=ctx,
            events=found,
            has_older=has_older,
            skip=skip,
            per_page=EVENTS_PER_PAGE,
            job_id=job_id or "",
            detail_type=detail_type or "",
            detail_types=DETAIL_TYPES,
        )

    @blueprint.get("/controls")
    def controls():
        ctx = request_scope(settings)
        if not settings.test_controls:
            raise not_found("Test controls are off (EMULATOR_TEST_CONTROLS=false).")
        clock = dashboard.runtime.clock
        return render_template(
            "dashboard/controls.html",
            page="controls",
            ctx=ctx,
            now_ms=clock.now_ms(),
            paused=getattr(clock, "is_paused", False),
        )


def _skip(given: str | None) -> int:
    if not given:
        return 0
    if not given.isdigit() or int(given) > MAX_EVENTS_SKIPPED:
        raise bad_request(f"skip must be a whole number from 0 to {MAX_EVENTS_SKIPPED}, got {given!r}.")
    return int(given)
