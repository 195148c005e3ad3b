"""/jobs/*: create, list, read, poll, cancel, resume."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from narraforge.api.app_factory import COMMON_ERRORS, error_response
from narraforge.api.deps import CurrentUserDep, GeneratingUserDep, PageDep, ResourceId, generation_admission
from narraforge.api.routing import collection_route
from narraforge.domain.job_state import to_status
from narraforge.enums import JobStatus
from narraforge.schemas.common import Page
from narraforge.schemas.jobs import (
    JobCreateRequest,
    JobEstimateRequest,
    JobEstimateResponse,
    JobResponse,
    JobStatusResponse,
)
from narraforge.services import jobs as job_service

router = APIRouter(prefix="/jobs", tags=["jobs"], responses=COMMON_ERRORS)
NOT_FOUND = {404: error_response("No such job for this user")}
CONFLICT = {409: error_response("Not allowed in the job's current status")}
LIMITS = {403: error_response("Plan limit reached (limit and reset date in details)")}


@collection_route(router, "POST", status_code=201, response_model=JobResponse,
                  responses={**NOT_FOUND, **LIMITS, 503: error_response("The pipeline could not be started")},
                  summary="Create a generation job and start its pipeline")
def create_job(
    body: JobCreateRequest,
    current: GeneratingUserDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=128,
                                                  pattern=r"^[\x21-\x7e]+$")] = None,
) -> JobResponse:
    job, created = job_service.create(current, body, idempotency_key, generation_admission(current, response))
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return job_service.to_response(job)


@router.post("/estimate", response_model=JobEstimateResponse, responses=NOT_FOUND,
             summary="Estimate a brief's cost and time before creating the job")
def estimate_job(body: JobEstimateRequest, current: CurrentUserDep) -> JobEstimateResponse:
    """Nothing is reserved, started or counted against the generation limit: what the brief would take with
    the configured models (the same cost estimate a job reserves), and whether the plan allows it."""
    return job_service.estimate(current, body)


@collection_route(router, "GET", response_model=Page[JobResponse], summary="List jobs, newest first")
def list_jobs(
    current: CurrentUserDep,
    paging: PageDep,
    project_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[JobStatus | None, Query()] = None,
    status_filter: Annotated[JobStatus | None, Query(description="Alias of `status`")] = None,
) -> Page[JobResponse]:
    result = job_service.list_page(current.id, project_id=project_id, status=status or status_filter,
                                   page=paging.page, page_size=paging.page_size, cursor=paging.cursor)
    return result.to_page(job_service.to_response)


@router.get("/{job_id}", response_model=JobResponse, responses=NOT_FOUND)
def get_job(job_id: ResourceId, current: CurrentUserDep) -> JobResponse:
    return job_service.to_response(job_service.get(current.id, job_id), with_stages=True)


@router.get("/{job_id}/status", response_model=JobStatusResponse, responses=NOT_FOUND,
            summary="Lightweight status for polling (one read)")
def get_status(job_id: ResourceId, current: CurrentUserDep) -> JobStatusResponse:
    return to_status(job_service.get(current.id, job_id))


@router.post("/{job_id}/cancel", response_model=JobResponse, responses={**NOT_FOUND, **CONFLICT})
def cancel_job(job_id: ResourceId, current: CurrentUserDep) -> JobResponse:
    return job_service.to_response(job_service.cancel(current.id, job_id))


@router.post("/{job_id}/resume", response_model=JobResponse, responses={**NOT_FOUND, **CONFLICT, **LIMITS})
def resume_job(job_id: ResourceId, current: CurrentUserDep) -> JobResponse:
    return job_service.to_response(job_service.resume(current, job_id))
