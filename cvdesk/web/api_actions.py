"""The API's writes (issue 11): the same operations as the case page's forms and the
dashboard, through the same service methods (``PortalActions``).  Each request body
names its fields; every write carries the case ``version`` it was read at, and a case
that has changed since is answered 409 with the field ``version`` named.  A read-only
API token is refused (403) on every write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from cvdesk.web.api import ERRORS, PROBLEM
from cvdesk.web.auth import Authenticator, client_address

if TYPE_CHECKING:
    from cvdesk.app import Desk

WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS, 409: {"description": "refused by the case's state, or the case changed "
                    "since it was read (stale version)", **PROBLEM}}
CaseId = Annotated[str, Path(max_length=32)]
Line = Annotated[str, Field(max_length=2000)]
Long = Annotated[str, Field(max_length=100_000)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Write(Body):
    version: int = Field(ge=0, le=2**31, description="The case version the change is "
                         "based on (``version`` of the case as read)")


class EventIn(Write):
    event: Annotated[str, Field(max_length=1, description="V F D (per vendor) or P X A")]
    vendor: Line | None = Field(None, description="The vendor participant (p3, or name)")
    reason: Long = ""


class EmbargoIn(Write):
    action: Annotated[str, Field(max_length=16,
                                 description="propose, accept, extend, reject or end")]
    end: AwareDatetime | None = Field(None, description="The (new) end, for propose and "
                                      "extend; propose without one takes the policy's")
    reason: Long = ""


class ParticipantIn(Write):
    name: Annotated[str, Field(min_length=1, max_length=500)]
    role: Annotated[str, Field(max_length=32)] = "vendor"
    email: Annotated[str, Field(max_length=320)] = ""
    organization: Annotated[str, Field(max_length=500)] = ""
    reason: Long = ""


class NotifyIn(Write):
    participants: list[Line] | None = Field(None, max_length=10_000,
                                            description="Default: every vendor")
    template: Annotated[str, Field(max_length=64)] = "new-case"
    key: Annotated[str, Field(max_length=200)] = ""


class AttemptIn(Write):
    participant: Line
    channel: Annotated[str, Field(max_length=32)]
    outcome: Annotated[str, Field(max_length=32)]
    address: Annotated[str, Field(max_length=500)] = ""
    at: AwareDatetime | None = None
    reason: Long = ""


class NoteIn(Write):
    text: Long


class StatementIn(Write):
    vulnerability: Annotated[str, Field(max_length=64, description="Its CVE id or V1, V2")]
    product: Line
    status: Annotated[str, Field(max_length=32, description="affected, not_affected, "
                                 "fixed or under_investigation")]
    justification: Annotated[str, Field(max_length=64)] | None = None
    fixed_version: Line = ""
    statement: Long = ""
    vendor: Line | None = Field(None, description="For a coordinator: the vendor it is "
                                "entered for; a vendor with one participant leaves it out")
    reason: Long = ""


class ConfirmIn(Write):
    vulnerability: Annotated[str, Field(max_length=64)]
    product: Line
    vendor: Line | None = None


class MessageIn(Write):
    body: Long
    subject: Annotated[str, Field(max_length=300)] = ""
    participant: Line | None = Field(None, description="A vendor or reporter writes in "
                                     "its own thread; a coordinator names the participant "
                                     "(none: the whole case)")


class PublishIn(Write):
    formats: list[Annotated[str, Field(max_length=16)]] = Field(default_factory=list,
                                                                max_length=10)
    summary: Long = ""
    early: bool = False
    reason: Long = ""


class FindingIn(Body):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class SnoozeIn(FindingIn):
    until: AwareDatetime


def router(desk: Desk, auth: Authenticator) -> APIRouter:
    r = APIRouter(responses=WRITE_ERRORS)

    def actions() -> Any:
        return desk.portal_actions()

    @r.post("/cases/{case_id}/events", summary="Record a case-state event")
    def event(request: Request, case_id: CaseId, body: EventIn) -> dict[str, Any]:
        return actions().record_event(
            auth.require(request), case_id, body.version, body.event, vendor=body.vendor,
            reason=body.reason, address=client_address(request)).to_json()

    @r.post("/cases/{case_id}/embargo", summary="Propose, accept, extend, reject or end "
            "the embargo")
    def embargo(request: Request, case_id: CaseId, body: EmbargoIn) -> dict[str, Any]:
        return actions().embargo(
            auth.require(request), case_id, body.version, body.action, end=body.end,
            reason=body.reason, address=client_address(request)).to_json()

    @r.post("/cases/{case_id}/participants", summary="Add a participant")
    def participant(request: Request, case_id: CaseId, body: ParticipantIn,
                    ) -> dict[str, Any]:
        return actions().add_participant(
            auth.require(request), case_id, body.version, body.name, role=body.role,
            email=body.email, organization=body.organization, reason=body.reason,
            address=client_address(request)).to_json()

    @r.post("/cases/{case_id}/notify", summary="Queue a notice to vendors")
    def notify(request: Request, case_id: CaseId, body: NotifyIn) -> dict[str, Any]:
        return actions().notify(
            auth.require(request), case_id, body.version, body.participants,
            template=body.template, key=body.key,
            address=client_address(request)).to_json()

    @r.post("/cases/{case_id}/attempts", summary="Log a contact attempt")
    def attempt(request: Request, case_id: CaseId, body: AttemptIn) -> dict[str, Any]:
        return actions().contact_attempt(
            auth.require(request), case_id, body.version, body.participant, body.channel,
            body.outcome, address_used=body.address, at=body.at, reason=body.reason,
            address=client_address(request)).to_json()

    @r.post("/cases/{case_id}/notes", summary="Add a note to the case log")
    def note(request: Request, case_id: CaseId, body: NoteIn) -> dict[str, Any]:
        return actions().note(auth.require(request), case_id, body.version, body.text,
                              address=client_address(request)).to_json()

    @r.post("/cases/{case_id}/statements", summary="Give or update a vendor statement")
    def statement(request: Request, case_id: CaseId, body: StatementIn) -> dict[str, Any]:
        return actions().statement(
            auth.require(request), case_id, body.version, body.vulnerability, body.product,
            body.status, justification=body.justification, fixed_version=body.fixed_version,
            statement=body.statement, vendor=body.vendor, reason=body.reason,
            address=client_address(request)).to_json()

    @r.post("/cases/{case_id}/statements/confirm",
            summary="Confirm a statement entered on the vendor's behalf")
    def confirm(request: Request, case_id: CaseId, body: ConfirmIn) -> dict[str, Any]:
        return actions().confirm_statement(
            auth.require(request), case_id, body.version, body.vulnerability, body.product,
            vendor=body.vendor, address=client_address(request)).to_json()

    @r.post("/cases/{case_id}/messages", summary="Write in a participant's thread")
    def message(request: Request, case_id: CaseId, body: MessageIn) -> dict[str, Any]:
        return actions().message(
            auth.require(request), case_id, body.version, body.body, subject=body.subject,
            participant=body.participant, address=client_address(request)).to_json()

    @r.get("/cases/{case_id}/advisory/preview",
           summary="The advisory as it would be published now, in each format")
    def preview(request: Request, case_id: CaseId,
                format: Annotated[list[str] | None, Query(max_length=10)] = None,
                ) -> dict[str, Any]:
        draft = actions().preview_advisory(auth.require(request), case_id, format or [],
                                           address=client_address(request))
        return {**draft.to_json(), "documents": [
            {**d.to_json(), "content": d.content.decode("utf-8", errors="replace")}
            for d in draft.documents]}

    @r.post("/cases/{case_id}/publish", summary="Publish the next version of the advisory")
    def publish(request: Request, case_id: CaseId, body: PublishIn) -> dict[str, Any]:
        return actions().publish(
            auth.require(request), case_id, body.version, body.formats,
            summary=body.summary, early=body.early, reason=body.reason,
            address=client_address(request)).to_json()

    # ------------------------------------------------------------ findings
    @r.get("/findings", summary="The troubleshooting findings across the caller's cases, "
           "most urgent first")
    def findings(request: Request, offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
        return actions().findings(auth.require(request), offset=offset,
                                  limit=limit).to_json()

    @r.post("/findings/{finding_id}/acknowledge", summary="Acknowledge a finding")
    def acknowledge(request: Request, finding_id: Annotated[int, Path(ge=1, le=2**62)],
                    body: FindingIn) -> dict[str, Any]:
        return actions().handle_finding(auth.require(request), finding_id, "acknowledge",
                                        reason=body.reason,
                                        address=client_address(request)).to_json()

    @r.post("/findings/{finding_id}/snooze", summary="Snooze a finding until a time")
    def snooze(request: Request, finding_id: Annotated[int, Path(ge=1, le=2**62)],
               body: SnoozeIn) -> dict[str, Any]:
        return actions().handle_finding(auth.require(request), finding_id, "snooze",
                                        reason=body.reason, until=body.until,
                                        address=client_address(request)).to_json()

    @r.post("/findings/sweep", summary="Re-check the open cases that are due")
    def sweep(request: Request) -> dict[str, Any]:
        return {"swept": actions().sweep(auth.require(request),
                                         address=client_address(request))}

    return r
