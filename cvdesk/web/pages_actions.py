"""The forms of the web desk (issue 11): the dashboard at ``/``, the case actions of each
role and the advisory preview before publishing.  Every handler asks the principal,
calls one method of ``PortalActions`` (the API calls the same ones) and answers a
redirect (303) back to where the form was, with a short code saying what was done.

A form the desk refuses (bad input, a refused transition, a case that changed since
the form was read) is shown again with the refusal naming the field, at the refusal's
own status (422, 409); a refusal to the one acting (403, 404) is the error page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cvdesk.domain.errors import BadInput, Conflict, DomainError, IllegalTransition, InvalidInput
from cvdesk.domain.errors import codes as error_codes
from cvdesk.services.portal_vulnerabilities import VulnerabilityActions
from cvdesk.web.auth import Authenticator, client_address

if TYPE_CHECKING:
    from cvdesk.app import Desk
    from cvdesk.domain.accounts import Principal
    from cvdesk.web.render import Renderer

#: Refusals a person can fix in the form: shown again with the form.
FIXABLE = (BadInput, Conflict, IllegalTransition)
Text = Annotated[str, Form(max_length=100_000)]
Short = Annotated[str, Form(max_length=2000)]
Version = Annotated[int | None, Form(ge=0, le=2**31)]


def local_time(text: str, zone: str, field: str) -> datetime | None:
    """A time typed in a form: ISO 8601, in the viewer's time zone unless it names one."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, f"'{text}' is not a date and time "
                           "(e.g. 2027-01-15T16:00)") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=_tz(zone))


def local_day(text: str, zone: str, field: str) -> datetime | None:
    """A date typed in a form (YYYY-MM-DD): its start in the viewer's time zone."""
    text = (text or "").strip()
    if not text:
        return None
    if "T" in text:
        return local_time(text, zone, field)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, f"'{text}' is not a date (e.g. 2027-01-15)") from None
    return datetime.combine(day, time(0, 0), tzinfo=_tz(zone))


def _tz(zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(zone)
    except (KeyError, ValueError, OSError):  # OSError: a name too long for a file
        return ZoneInfo("UTC")


def router(desk: Desk, auth: Authenticator, renderer: Renderer) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def zone_of(me: Principal) -> str:
        if me.user_id is None:
            return desk.settings.display_timezone
        return desk.accounts().user(me.user_id).time_zone

    # ------------------------------------------------------------ dashboard
    def dashboard(request: Request, me: Principal, *, offset: int = 0, limit: int = 50,
                  error: DomainError | None = None, status: int = 200) -> HTMLResponse:
        found = desk.portal_actions().findings(me, offset=offset, limit=limit,
                                               address=client_address(request))
        return renderer.page(request, "dashboard.html", me, http_status=status,
                             zone=zone_of(me), page=found, error=_error(error),
                             done=request.query_params.get("done", ""))

    @r.get("/")
    def home(request: Request, offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
             limit: Annotated[int, Query(ge=1, le=200)] = 50) -> HTMLResponse:
        return dashboard(request, auth.require(request), offset=offset, limit=limit)

    def handle(request: Request, finding_id: int, action: str, reason: str,
               until: str) -> Response:
        me = auth.require(request)
        try:
            desk.portal_actions().handle_finding(
                me, finding_id, action, reason=reason,
                until=local_day(until, zone_of(me), "until") if action == "snooze" else None,
                address=client_address(request))
        except FIXABLE as exc:
            return dashboard(request, me, error=exc, status=_status(exc))
        return RedirectResponse(f"/?done={action}", status_code=303)

    @r.post("/findings/{finding_id}/acknowledge")
    def acknowledge(request: Request, finding_id: int, reason: Short = "") -> Response:
        return handle(request, finding_id, "acknowledge", reason, "")

    @r.post("/findings/{finding_id}/snooze")
    def snooze(request: Request, finding_id: int, reason: Short = "",
               until: Annotated[str, Form(max_length=40)] = "") -> Response:
        return handle(request, finding_id, "snooze", reason, until)

    @r.post("/findings/sweep")
    def sweep(request: Request) -> Response:
        me = auth.require(request)
        desk.portal_actions().sweep(me, address=client_address(request))
        return RedirectResponse("/?done=sweep", status_code=303)

    # ------------------------------------------------------------ case actions
    def act_page(request: Request, me: Principal, case_id: str, *,
                 error: DomainError | None = None, status: int = 200) -> HTMLResponse:
        view = desk.portal().case_page(me, case_id, limit=1,
                                       address=client_address(request))
        return renderer.page(request, "case_act.html", me, http_status=status,
                             zone=zone_of(me), view=view, error=_error(error))

    @r.get("/cases/{case_id}/act")
    def act(request: Request, case_id: str) -> HTMLResponse:
        return act_page(request, auth.require(request), case_id)

    def run(request: Request, case_id: str, done: str,
            call: Callable[[Any, Principal, str], object]) -> Response:
        """Run one action; back to the case page, or the form again when refused."""
        me = auth.require(request)
        try:
            call(desk.portal_actions(), me, zone_of(me))
        except FIXABLE as exc:
            return act_page(request, me, case_id, error=exc, status=_status(exc))
        return RedirectResponse(f"/cases/{quote(case_id.upper())}?done={done}#actions",
                                status_code=303)

    def address(request: Request) -> str:
        return client_address(request)

    @r.post("/cases/{case_id}/events")
    def event(request: Request, case_id: str, version: Version = None, event: Short = "",
              vendor: Short = "", reason: Text = "") -> Response:
        return run(request, case_id, "event", lambda a, me, z: a.record_event(
            me, case_id, version, event, vendor=vendor.strip() or None, reason=reason,
            address=address(request)))

    @r.post("/cases/{case_id}/embargo")
    def embargo(request: Request, case_id: str, version: Version = None, action: Short = "",
                end: Short = "", reason: Text = "") -> Response:
        return run(request, case_id, "embargo", lambda a, me, z: a.embargo(
            me, case_id, version, action, end=local_time(end, z, "end"), reason=reason,
            address=address(request)))

    @r.post("/cases/{case_id}/participants")
    def participant(request: Request, case_id: str, version: Version = None,
                    name: Short = "", role: Short = "vendor", email: Short = "",
                    organization: Short = "", reason: Text = "") -> Response:
        return run(request, case_id, "participant", lambda a, me, z: a.add_participant(
            me, case_id, version, name, role=role, email=email, organization=organization,
            reason=reason, address=address(request)))

    @r.post("/cases/{case_id}/notify")
    def notify(request: Request, case_id: str, version: Version = None,
               participants: Text = "", template: Short = "new-case",
               key: Short = "") -> Response:
        people = [p for p in participants.replace(",", "\n").splitlines() if p.strip()]
        return run(request, case_id, "notify", lambda a, me, z: a.notify(
            me, case_id, version, people or None, template=template, key=key,
            address=address(request)))

    @r.post("/cases/{case_id}/attempts")
    def attempt(request: Request, case_id: str, version: Version = None,
                participant: Short = "", channel: Short = "email", outcome: Short = "sent",
                address_used: Short = "", at: Short = "", reason: Text = "") -> Response:
        return run(request, case_id, "attempt", lambda a, me, z: a.contact_attempt(
            me, case_id, version, participant, channel, outcome, address_used=address_used,
            at=local_time(at, z, "at"), reason=reason, address=address(request)))

    @r.post("/cases/{case_id}/notes")
    def note(request: Request, case_id: str, version: Version = None,
             text: Text = "") -> Response:
        return run(request, case_id, "note", lambda a, me, z: a.note(
            me, case_id, version, text, address=address(request)))

    @r.post("/cases/{case_id}/statements")
    def statement(request: Request, case_id: str, version: Version = None,
                  vulnerability: Short = "", product: Short = "", status: Short = "",
                  justification: Short = "", fixed_version: Short = "",
                  statement: Text = "", vendor: Short = "", reason: Text = "") -> Response:
        return run(request, case_id, "statement", lambda a, me, z: a.statement(
            me, case_id, version, vulnerability, product, status,
            justification=justification or None, fixed_version=fixed_version,
            statement=statement, vendor=vendor or None, reason=reason,
            address=address(request)))

    @r.post("/cases/{case_id}/statements/confirm")
    def confirm(request: Request, case_id: str, version: Version = None,
                vulnerability: Short = "", product: Short = "",
                vendor: Short = "") -> Response:
        return run(request, case_id, "confirm", lambda a, me, z: a.confirm_statement(
            me, case_id, version, vulnerability, product, vendor=vendor or None,
            address=address(request)))

    @r.post("/cases/{case_id}/messages")
    def message(request: Request, case_id: str, version: Version = None,
                subject: Short = "", body: Text = "", participant: Short = "") -> Response:
        return run(request, case_id, "message", lambda a, me, z: a.message(
            me, case_id, version, body, subject=subject, participant=participant or None,
            address=address(request)))

    # ------------------------------------------------------------ vulnerabilities and
    # invitations (the forms of case_vulnerability_forms.html)
    @r.post("/cases/{case_id}/vulnerabilities")
    def vulnerability(request: Request, case_id: str, version: Version = None,
                      title: Short = "", cve: Short = "", cwes: Short = "",
                      description: Text = "", product: Short = "", vendor: Short = "",
                      introduced: Short = "", fixed: Short = "", last_affected: Short = "",
                      version_text: Short = "", reason: Text = "") -> Response:
        return run(request, case_id, "vulnerability", lambda a, me, z: VulnerabilityActions(
            a.cases, a.accounts).add_vulnerability(
            me, case_id, version, title, cve=cve, cwes=cwes, description=description,
            product=product, vendor=vendor,
            introduced=introduced, fixed=fixed, last_affected=last_affected,
            version_text=version_text, reason=reason, address=address(request)))

    @r.post("/cases/{case_id}/vulnerabilities/versions")
    def versions(request: Request, case_id: str, version: Version = None,
                 vulnerability: Short = "", title: Short = "", product: Short = "",
                 vendor: Short = "", introduced: Short = "", fixed: Short = "",
                 last_affected: Short = "", version_text: Short = "",
                 reason: Text = "") -> Response:
        return run(request, case_id, "versions", lambda a, me, z: VulnerabilityActions(
            a.cases, a.accounts).product_versions(
            me, case_id, version, vulnerability, product, vendor=vendor,
            introduced=introduced, fixed=fixed, last_affected=last_affected,
            version_text=version_text, title=title, reason=reason,
            address=address(request)))

    @r.post("/cases/{case_id}/invitations")
    def invitation(request: Request, case_id: str, participant: Short = "",
                   email: Short = "") -> Response:
        """The API's invitation (POST /api/v1/cases/{id}/invitations) as a form; it
        writes no case event, so the version is not compared."""
        return run(request, case_id, "invite", lambda a, me, z: desk.invitations().invite(
            me, case_id, participant, email.strip() or None, address=address(request)))

    # ------------------------------------------------------------ publication
    @r.get("/cases/{case_id}/advisory/preview")
    def preview(request: Request, case_id: str,
                format: Annotated[list[str] | None, Query(max_length=10)] = None,
                ) -> HTMLResponse:
        me = auth.require(request)
        formats = [f for f in format or [] if f]
        draft = desk.portal_actions().preview_advisory(me, case_id, formats,
                                                       address=client_address(request))
        view = desk.portal().case_page(me, case_id, limit=1)
        return renderer.page(request, "advisory_preview.html", me, zone=zone_of(me),
                             view=view, draft=draft, formats=formats, error="",
                             texts=[_as_text(d.content) for d in draft.documents])

    @r.post("/cases/{case_id}/publish")
    def publish(request: Request, case_id: str, version: Version = None,
                formats: Annotated[list[str] | None, Form(max_length=10)] = None,
                summary: Text = "", early: Annotated[bool, Form()] = False,
                reason: Text = "") -> Response:
        return run(request, case_id, "publish", lambda a, me, z: a.publish(
            me, case_id, version, [f for f in formats or [] if f], summary=summary,
            early=early, reason=reason, address=address(request)))

    return r


def _as_text(content: bytes) -> str:
    return content.decode("utf-8", errors="replace")


def _status(exc: DomainError) -> int:
    found = error_codes(exc)
    return found[1] if found else 400


def _error(exc: DomainError | None) -> dict[str, str] | str:
    """The refusal as the form shows it: the message and the field it names."""
    if exc is None:
        return ""
    return {"message": str(exc), "field": getattr(exc, "field", "") or ""}
