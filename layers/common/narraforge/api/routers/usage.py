"""/usage: this month's generations and cost against the plan, and the usage log."""

from __future__ import annotations

from fastapi import APIRouter

from narraforge.api.app_factory import COMMON_ERRORS
from narraforge.api.deps import CurrentUserDep, PageDep
from narraforge.api.routing import collection_route
from narraforge.schemas.usage import UsageResponse
from narraforge.services import usage as usage_service

router = APIRouter(prefix="/usage", tags=["usage"], responses=COMMON_ERRORS)


@collection_route(router, "GET", response_model=UsageResponse, summary="This month's usage and its log")
def get_usage(current: CurrentUserDep, paging: PageDep) -> UsageResponse:
    return usage_service.report(current, page=paging.page, page_size=paging.page_size, cursor=paging.cursor)
