"""The REST API, version 1.  Answers are the services' views in their one JSON form;
errors are RFC 9457 problem details (cvdesk.web.problems); lists are paginated with
``offset`` and ``limit`` and say their ``total``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from cvdesk.domain.em import EM
from cvdesk.domain.model import CaseStatus
from cvdesk.services.portal import case_orders
from cvdesk.web.api_types import CaseIdPath, LimitQuery, OffsetQuery, one_of
from cvdesk.web.auth import Authenticator, client_address

if TYPE_CHECKING:
    from cvdesk.app import Desk

PROBLEM = {"content": {"application/problem+json": {"schema": {
    "type": "object", "required": ["title", "status"],
    "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                   "status": {"type": "integer"}, "detail": {"type": "string"},
                   "errors": {"type": "array", "items": {"type": "object"}}}}}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body cannot be read (not UTF-8 JSON)", **PROBLEM},
    401: {"description": "not signed in", **PROBLEM},
    403: {"description": "not allowed", **PROBLEM},
    404: {"description": "not found", **PROBLEM},
    422: {"description": "invalid input", **PROBLEM},
}


#: What the case list's filters take: the domain's case statuses and embargo states (or
#: nothing: any), and the orders the case list knows.
CaseStatusQuery = one_of(["", *CaseStatus])
EmbargoQuery = one_of(["", *EM])
OrderQuery = one_of(case_orders())
#: A message thread as the portal reads it: all, case, or a participant (p3).
THREAD = r"^(|all|case|[pP]?[0-9]{1,9})$"


class PageModel(BaseModel):
    items: list[dict[str, Any]]
    total: int
    offset: int
    limit: int


class MessagesModel(BaseModel):
    case_id: str
    thread: str
    threads: PageModel
    messages: PageModel


class Me(BaseModel):
    user_id: int | None
    name: str
    site_role: str
    scope: str


def router(desk: Desk, auth: Authenticator) -> APIRouter:
    r = APIRouter(responses=ERRORS)

    @r.get("/me", response_model=Me, summary="The principal the request is made as")
    def me(request: Request) -> dict[str, Any]:
        p = auth.require(request)
        return {"user_id": p.user_id, "name": p.name, "site_role": p.site_role.value,
                "scope": p.scope.value}

    @r.get("/cases", response_model=PageModel, summary="The cases the caller may see")
    def cases(request: Request, status: Annotated[CaseStatusQuery, Query(
                  description="Empty: every status")] = "open",
              q: Annotated[str, Query(max_length=200)] = "",
              embargo: Annotated[EmbargoQuery, Query(
                  description="Embargo state; empty: any")] = "",
              order: Annotated[OrderQuery, Query()] = "activity",
              offset: OffsetQuery = 0,
              limit: LimitQuery = 50) -> dict[str, Any]:
        p = auth.require(request)
        return desk.portal().case_list(p, status=status or None, search=q,
                                       embargo=embargo or None, order=order, offset=offset,
                                       limit=limit).to_json()

    @r.get("/cases/{case_id}", response_model=dict[str, Any],
           summary="One case as the caller may see it, with a page of its participants")
    def case(request: Request, case_id: CaseIdPath,
             offset: OffsetQuery = 0,
             limit: LimitQuery = 50) -> dict[str, Any]:
        p = auth.require(request)
        return desk.portal().case_page(p, case_id, offset=offset, limit=limit,
                                       address=client_address(request)).to_json()

    @r.get("/cases/{case_id}/timeline", response_model=PageModel,
           summary="The case log as the caller may see it, a page of entries")
    def case_timeline(request: Request, case_id: CaseIdPath,
                      offset: OffsetQuery = 0,
                      limit: LimitQuery = 50,
                      newest_first: bool = False) -> dict[str, Any]:
        p = auth.require(request)
        return desk.portal().timeline(p, case_id, offset=offset, limit=limit,
                                      newest_first=newest_first,
                                      address=client_address(request)).to_json()

    @r.get("/cases/{case_id}/findings", response_model=PageModel,
           summary="The case's troubleshooting findings the caller may see")
    def case_findings(request: Request, case_id: CaseIdPath,
                      offset: OffsetQuery = 0,
                      limit: LimitQuery = 50) -> dict[str, Any]:
        p = auth.require(request)
        return desk.portal().findings(p, case_id, offset=offset, limit=limit,
                                      address=client_address(request)).to_json()

    @r.get("/cases/{case_id}/messages", response_model=MessagesModel,
           summary="The message threads the caller may see, and a page of messages")
    def case_messages(request: Request, case_id: CaseIdPath,
                      thread: Annotated[str, Query(max_length=12, pattern=THREAD, description=(
                          "all, case (the case-wide one) or a participant's, e.g. p3"))
                          ] = "all",
                      offset: OffsetQuery = 0,
                      limit: LimitQuery = 50) -> dict[str, Any]:
        p = auth.require(request)
        return desk.portal().messages(p, case_id, thread=thread, offset=offset, limit=limit,
                                      address=client_address(request)).to_json()

    return r
