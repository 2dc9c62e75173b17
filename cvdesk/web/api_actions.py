"""The API's writes (issue 11): the same operations as the case page's forms and the
dashboard, through the same service methods (``PortalActions``).  Each request body
names its fields; every write carries the case ``version`` it was read at, and a case
that has changed since is answered 409 with the field ``version`` named.  A read-only
API token is refused (403) on every write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from cvdesk.domain.advisory import Justification, ProductStatus
from cvdesk.domain.cs import VENDOR_EVENTS, CSEvent
from cvdesk.domain.model import AttemptOutcome, Channel, Role
from cvdesk.services.portal_actions import EMBARGO_ACTIONS, NOTICES
from cvdesk.services.publication import AdvisoryFormat
from cvdesk.web.api import ERRORS, PROBLEM, PageModel
from cvdesk.web.api_types import (
    EMAIL_OR_EMPTY,
    NON_BLANK,
    Body,
    CaseIdPath,
    DoneModel,
    DraftModel,
    FindingModel,
    LimitQuery,
    OffsetQuery,
    SweepModel,
    When,
    one_of,
    text,
)
from cvdesk.web.auth import Authenticator, client_address
from cvdesk.web.problems import fields

if TYPE_CHECKING:
    from cvdesk.app import Desk

WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS, 409: {"description": "refused by the case's state (a transition its model "
                    "does not allow from there), or the case changed since it was read "
                    "(stale version)", **PROBLEM}}
CaseId = CaseIdPath
Line = text(2000)
Long = text(100_000)
Named = text(2000, blank=False)
#: A write's answer: what it did, and the case's version after it.
DONE: dict[str, Any] = {"response_model": DoneModel, "response_model_exclude_unset": True}


def _when(depends: str, values: Any, field: str, present: dict[str, Any],
          absent: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema: ``field`` is ``present`` when ``depends`` is one of ``values`` and
    ``absent`` otherwise (the checks the domain makes of the two together)."""
    return {"if": {"required": [depends],
                   "properties": {depends: {"enum": sorted(str(v) for v in values)}}},
            "then": {"required": [field], "properties": {field: present}},
            "else": {"properties": {field: absent}}}


_NAMED = {"type": "string", "minLength": 1, "pattern": NON_BLANK}
_NOTHING = {"anyOf": [{"type": "null"}, {"type": "string", "maxLength": 0}]}


def _needed(wanted: bool, value: str | None, why: str) -> None:
    """The pydantic side of ``_when``: required (not blank) when wanted, else empty."""
    if wanted and not (value or "").strip():
        raise ValueError(f"required {why}")
    if value and not wanted:
        raise ValueError(f"given only {why}")


class Write(Body):
    version: int = Field(ge=0, le=2**31, description="The case version the change is "
                         "based on (``version`` of the case as read)")


class EventIn(Write):
    model_config = ConfigDict(json_schema_extra=_when("event", VENDOR_EVENTS, "vendor",
                                                      _NAMED, {"type": "null"}))

    event: CSEvent = Field(description="V F D (per vendor: name the vendor) or P X A "
                           "(case-wide: no vendor)")
    vendor: Named | None = Field(None, description="The vendor participant (p3, or name)",
                                 validate_default=True)
    reason: Long = ""

    @field_validator("vendor")
    @classmethod
    def _vendor(cls, value: str | None, info: ValidationInfo) -> str | None:
        event = info.data.get("event")
        if event is not None:
            _needed(event in VENDOR_EVENTS, value, "for a per-vendor event (V F D)")
        return value


class EmbargoIn(Write):
    action: one_of(EMBARGO_ACTIONS)
    end: When | None = Field(None, description="The (new) end, for propose and extend: "
                             "after now (and after the current end, for extend); propose "
                             "without one takes the policy's")
    reason: Long = ""


class ParticipantIn(Write):
    name: text(500, blank=False)
    role: Role = Role.VENDOR
    email: text(320, pattern=EMAIL_OR_EMPTY) = ""
    organization: text(500) = ""
    reason: Long = ""


class NotifyIn(Write):
    participants: list[Line] | None = Field(None, max_length=10_000,
                                            description="Default: every vendor")
    template: one_of(NOTICES) = NOTICES[0]
    key: text(200) = ""


class AttemptIn(Write):
    participant: Named
    channel: Channel
    outcome: AttemptOutcome
    address: text(500) = ""
    at: When | None = Field(None, description="When it was made (not in the future); "
                            "default: now")
    reason: Long = ""


class NoteIn(Write):
    text: text(100_000, blank=False)


class StatementIn(Write):
    model_config = ConfigDict(json_schema_extra={"allOf": [
        _when("status", [ProductStatus.NOT_AFFECTED], "justification",
              {"enum": [j.value for j in Justification]}, {"type": "null"}),
        _when("status", [ProductStatus.FIXED], "fixed_version", _NAMED, _NOTHING)]})

    vulnerability: text(64, blank=False, description="Its CVE id or V1, V2")
    product: Named
    status: ProductStatus
    justification: Justification | None = Field(
        None, validate_default=True,
        description="Why the product is not affected: for 'not_affected' only, and needed")
    fixed_version: text(2000, validate_default=True,
                        description="The first fixed version: for 'fixed' only, and "
                        "needed") = ""
    statement: Long = ""
    vendor: Line | None = Field(None, description="For a coordinator: the vendor it is "
                                "entered for; a vendor with one participant leaves it out")
    reason: Long = ""

    @field_validator("justification")
    @classmethod
    def _justification(cls, value: Justification | None,
                       info: ValidationInfo) -> Justification | None:
        if info.data.get("status") is not None:
            _needed(info.data["status"] is ProductStatus.NOT_AFFECTED,
                    value.value if value else None, "for the status 'not_affected'")
        return value

    @field_validator("fixed_version")
    @classmethod
    def _fixed(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("status") is not None:
            _needed(info.data["status"] is ProductStatus.FIXED, value,
                    "for the status 'fixed'")
        return value


class ConfirmIn(Write):
    vulnerability: text(64, blank=False)
    product: Named
    vendor: Line | None = None


class MessageIn(Write):
    body: text(100_000, blank=False)
    subject: text(300) = ""
    participant: Line | None = Field(None, description="A vendor or reporter writes in "
                                     "its own thread; a coordinator names the participant "
                                     "(none: the whole case)")


class PublishIn(Write):
    formats: list[AdvisoryFormat] = Field(default_factory=list, max_length=10,
                                          description="Default: CSAF and Markdown")
    summary: Long = ""
    early: bool = False
    reason: Long = ""


class FindingIn(Body):
    reason: text(2000, blank=False)


class SnoozeIn(FindingIn):
    until: When = Field(description="In the future")


def router(desk: Desk, auth: Authenticator) -> APIRouter:
    r = APIRouter(responses=WRITE_ERRORS)

    def actions() -> Any:
        return desk.portal_actions()

    @r.post("/cases/{case_id}/events", **DONE, summary="Record a case-state event")
    @fields(refused="event")
    def event(request: Request, case_id: CaseId, body: EventIn) -> dict[str, Any]:
        return actions().record_event(
            auth.require(request), case_id, body.version, body.event, vendor=body.vendor,
            reason=body.reason, address=client_address(request)).to_json()

    @r.post("/cases/{case_id}/embargo", **DONE, summary="Propose, accept, extend, reject or "
            "end the embargo")
    @fields(refused="action")
    def embargo(request: Request, case_id: CaseId, body: EmbargoIn) -> dict[str, Any]:
        return actions().embargo(
            auth.require(request), case_id, body.version, body.action, end=body.end,
            reason=body.reason, address=client_address(request)).to_json()

    @r.post("/cases/{case_id}/participants", **DONE, summary="Add a participant")
    @fields({"e-mail": "email"})
    def participant(request: Request, case_id: CaseId, body: ParticipantIn,
                    ) -> dict[str, Any]:
        return actions().add_participant(
            auth.require(request), case_id, body.version, body.name, role=body.role,
            email=body.email, organization=body.organization, reason=body.reason,
            address=client_address(request)).to_json()

    @r.post("/cases/{case_id}/notify", **DONE, summary="Queue a notice to vendors")
    def notify(request: Request, case_id: CaseId, body: NotifyIn) -> dict[str, Any]:
        return actions().notify(
            auth.require(request), case_id, body.version, body.participants,
            template=body.template, key=body.key,
            address=client_address(request)).to_json()

    @r.post("/cases/{case_id}/attempts", **DONE, summary="Log a contact attempt")
    def attempt(request: Request, case_id: CaseId, body: AttemptIn) -> dict[str, Any]:
        return actions().contact_attempt(
            auth.require(request), case_id, body.version, body.participant, body.channel,
            body.outcome, address_used=body.address, at=body.at, reason=body.reason,
            address=client_address(request)).to_json()

    @r.post("/cases/{case_id}/notes", **DONE, summary="Add a note to the case log")
    @fields({"note": "text"})
    def note(request: Request, case_id: CaseId, body: NoteIn) -> dict[str, Any]:
        return actions().note(auth.require(request), case_id, body.version, body.text,
                              address=client_address(request)).to_json()

    @r.post("/cases/{case_id}/statements", **DONE, summary="Give or update a vendor "
            "statement")
    @fields({"fixed version": "fixed_version"})
    def statement(request: Request, case_id: CaseId, body: StatementIn) -> dict[str, Any]:
        return actions().statement(
            auth.require(request), case_id, body.version, body.vulnerability, body.product,
            body.status, justification=body.justification, fixed_version=body.fixed_version,
            statement=body.statement, vendor=body.vendor, reason=body.reason,
            address=client_address(request)).to_json()

    @r.post("/cases/{case_id}/statements/confirm", **DONE,
            summary="Confirm a statement entered on the vendor's behalf")
    def confirm(request: Request, case_id: CaseId, body: ConfirmIn) -> dict[str, Any]:
        return actions().confirm_statement(
            auth.require(request), case_id, body.version, body.vulnerability, body.product,
            vendor=body.vendor, address=client_address(request)).to_json()

    @r.post("/cases/{case_id}/messages", **DONE, summary="Write in a participant's thread")
    @fields({"message": "body"})
    def message(request: Request, case_id: CaseId, body: MessageIn) -> dict[str, Any]:
        return actions().message(
            auth.require(request), case_id, body.version, body.body, subject=body.subject,
            participant=body.participant, address=client_address(request)).to_json()

    @r.get("/cases/{case_id}/advisory/preview", response_model=DraftModel,
           summary="The advisory as it would be published now, in each format")
    def preview(request: Request, case_id: CaseId,
                format: Annotated[list[AdvisoryFormat] | None,
                                  Query(max_length=10)] = None,
                ) -> dict[str, Any]:
        draft = actions().preview_advisory(auth.require(request), case_id, format or [],
                                           address=client_address(request))
        return {**draft.to_json(), "documents": [
            {**d.to_json(), "content": d.content.decode("utf-8", errors="replace")}
            for d in draft.documents]}

    @r.post("/cases/{case_id}/publish", **DONE, summary="Publish the next version of the "
            "advisory")
    @fields({"format": "formats"})
    def publish(request: Request, case_id: CaseId, body: PublishIn) -> dict[str, Any]:
        return actions().publish(
            auth.require(request), case_id, body.version, body.formats,
            summary=body.summary, early=body.early, reason=body.reason,
            address=client_address(request)).to_json()

    # ------------------------------------------------------------ findings
    @r.get("/findings", response_model=PageModel, summary="The troubleshooting findings "
           "across the caller's cases, most urgent first")
    def findings(request: Request, offset: OffsetQuery = 0,
                 limit: LimitQuery = 50) -> dict[str, Any]:
        return actions().findings(auth.require(request), offset=offset, limit=limit,
                                  address=client_address(request)).to_json()

    @r.post("/findings/{finding_id}/acknowledge", response_model=FindingModel,
            summary="Acknowledge a finding")
    def acknowledge(request: Request, finding_id: Annotated[int, Path(ge=1, le=2**62)],
                    body: FindingIn) -> dict[str, Any]:
        return actions().handle_finding(auth.require(request), finding_id, "acknowledge",
                                        reason=body.reason,
                                        address=client_address(request)).to_json()

    @r.post("/findings/{finding_id}/snooze", response_model=FindingModel,
            summary="Snooze a finding until a time")
    def snooze(request: Request, finding_id: Annotated[int, Path(ge=1, le=2**62)],
               body: SnoozeIn) -> dict[str, Any]:
        return actions().handle_finding(auth.require(request), finding_id, "snooze",
                                        reason=body.reason, until=body.until,
                                        address=client_address(request)).to_json()

    @r.post("/findings/sweep", response_model=SweepModel,
            summary="Re-check the open cases that are due")
    def sweep(request: Request) -> dict[str, Any]:
        return {"swept": actions().sweep(auth.require(request),
                                         address=client_address(request))}

    return r
