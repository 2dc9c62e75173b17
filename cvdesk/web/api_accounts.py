"""The API's account operations: the public report form, API tokens, invitations, and
the admin listings of users and the audit log.  Each calls the service its page calls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from cvdesk.domain.accounts import TokenScope
from cvdesk.web.api import ERRORS, PROBLEM, PageModel
from cvdesk.web.api_types import EMAIL_OR_EMPTY, Body, CaseIdPath, LimitQuery, OffsetQuery, text
from cvdesk.web.auth import Authenticator, client_address
from cvdesk.web.problems import fields, problem

if TYPE_CHECKING:
    from cvdesk.app import Desk

#: the report form reader's own limit (cvdesk.intake.decode.MAX_FORM_BYTES)
MAX_REPORT_BYTES = 1024 * 1024

_TEXT = {"type": "string"}
_LIST = {"oneOf": [{"type": "array", "items": {}}, {"type": "string"}, {"type": "object"}]}
REPORT_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["title", "description", "reporter"],
    "description": "The report form (guide appendix C), the same fields as "
                   "examples/report.json; every problem is answered with its field path.",
    "properties": {
        "title": _TEXT, "description": _TEXT, "tlp": _TEXT,
        "reporter": {"oneOf": [_TEXT, {"type": "object", "properties": {
            "name": _TEXT, "organization": _TEXT, "email": _TEXT, "phone": _TEXT,
            "pgp_key": _TEXT}}]},
        "products": _LIST, "vendors": _LIST, "vulnerabilities": _LIST,
        "exploit": _TEXT, "impact": _TEXT, "how_found": _TEXT, "when_found": _TEXT,
        "reported_to": _LIST, "public": {"type": "boolean"}, "public_urls": _LIST,
        "exploited": {"type": "boolean"}, "exploitation_evidence": _TEXT,
        "disclosure_plans": _TEXT, "disclosure_date": _TEXT,
        "share_contact": {"type": "boolean"}, "wants_credit": {"type": "boolean"},
        "credit_as": _TEXT, "tracking_ids": _LIST}}}}}}


class Receipt(BaseModel):
    tracking_id: str
    case_id: str
    title: str
    link: str = Field(description="the reporter's private link (a path on this desk), "
                                  "shown once")
    link_url: str
    account_linked: bool


class TokenIn(Body):
    name: text(200, blank=False)
    scope: TokenScope = TokenScope.READ
    days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(BaseModel):
    id: int
    name: str
    scope: str
    created_at: str | None
    expires_at: str | None
    revoked: bool
    last_used_at: str | None


class NewTokenOut(TokenOut):
    secret: str = Field(description="the token itself: shown once, never again")


class InvitationIn(Body):
    participant: text(200, blank=False,
                      description="the participant's number ('3', 'p3') or name")
    email: text(320, pattern=EMAIL_OR_EMPTY) | None = Field(
        default=None, description="default: the participant's own address")


class InvitationOut(BaseModel):
    case_id: str
    participant: int
    email: str
    user_id: int
    new_account: bool
    template: str
    message_id: str


async def _body(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is longer than ``limit`` (read no further)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def router(desk: Desk, auth: Authenticator) -> APIRouter:
    r = APIRouter(responses=ERRORS)

    # ------------------------------------------------------------ reports
    @r.post("/reports", status_code=201, response_model=Receipt, openapi_extra=REPORT_BODY,
            responses={413: {"description": "larger than 1 MiB", **PROBLEM},
                       429: {"description": "too many reports from this address",
                             **PROBLEM}},
            summary="Submit a vulnerability report (anonymous allowed)")
    async def submit_report(request: Request) -> Any:
        raw = await _body(request, MAX_REPORT_BYTES)
        if raw is None:
            return problem(413, "report: larger than 1 MiB; attach long material separately")
        return await run_in_threadpool(_submit, request, raw)

    def _submit(request: Request, raw: bytes) -> Any:
        # A form with problems is answered with each problem by its field path (web.problems).
        return desk.public_reports().submit_json(auth.principal(request), raw,
                                                 address=client_address(request)).to_json()

    # ------------------------------------------------------------ API tokens
    @r.get("/tokens", response_model=list[TokenOut], summary="The caller's API tokens")
    def tokens(request: Request) -> list[dict[str, Any]]:
        return [t.to_json() for t in desk.accounts().tokens(auth.require(request))]

    @r.post("/tokens", status_code=201, response_model=NewTokenOut,
            summary="Create an API token (its secret is in this answer only)")
    @fields({"expires in days": "days"})
    def create_token(request: Request, body: TokenIn) -> dict[str, Any]:
        me = auth.require(request)
        return desk.accounts().create_token(me, body.name, body.scope,
                                            days=body.days).to_json()

    @r.delete("/tokens/{token_id}", status_code=204, response_class=Response,
              summary="Revoke an API token")
    @fields({"token": "token_id"})
    def revoke_token(request: Request,
                     token_id: Annotated[int, Path(ge=1, le=2**62)]) -> Response:
        desk.accounts().revoke_token(auth.require(request), token_id)
        return Response(status_code=204)

    # ------------------------------------------------------------ invitations
    @r.post("/cases/{case_id}/invitations", status_code=201, response_model=InvitationOut,
            summary="Invite a participant's contact to the case (coordinators)")
    @fields({"e-mail": "email"})
    def invite(request: Request, case_id: CaseIdPath,
               body: InvitationIn) -> dict[str, Any]:
        me = auth.require(request)
        return desk.invitations().invite(me, case_id, body.participant, body.email,
                                         address=client_address(request)).to_json()

    # ------------------------------------------------------------ admin
    @r.get("/admin/users", response_model=PageModel, summary="Users (admins)")
    def users(request: Request, offset: OffsetQuery = 0,
              limit: LimitQuery = 50) -> dict[str, Any]:
        return desk.admin().users(auth.require(request), offset=offset,
                                  limit=limit).to_json()

    @r.get("/admin/audit", response_model=PageModel,
           summary="The audit log, newest first (admins)")
    def audit(request: Request, case_id: Annotated[str, Query(max_length=32)] = "",
              offset: OffsetQuery = 0,
              limit: LimitQuery = 100) -> dict[str, Any]:
        return desk.admin().audit_log(auth.require(request), case_id=case_id,
                                      offset=offset, limit=limit).to_json()

    return r
