"""The published advisories, for anyone (issue 11): the list, one advisory in words with
its credits and timeline, and its published files (CSAF, CVE records, OSV, the readable
ones) as they were stored.  Which advisories are public is the service's rule
(services/public_advisories.py): TLP:CLEAR, public and under no embargo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from cvdesk.web.auth import Authenticator

if TYPE_CHECKING:
    from cvdesk.app import Desk
    from cvdesk.web.render import Renderer

CaseId = Annotated[str, Path(max_length=32)]
Version = Annotated[int, Path(ge=1, le=10**6)]


def router(desk: Desk, auth: Authenticator, renderer: Renderer) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/advisories")
    def advisories(request: Request, offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
                   limit: Annotated[int, Query(ge=1, le=200)] = 50) -> HTMLResponse:
        me = auth.principal(request)
        found = desk.public_advisories().advisories(offset=offset, limit=limit)
        return renderer.page(request, "advisories.html", me, page=found)

    @r.get("/advisories/{case_id}")
    def advisory(request: Request, case_id: CaseId,
                 version: Annotated[int | None, Query(ge=1, le=10**6)] = None,
                 ) -> HTMLResponse:
        me = auth.principal(request)
        view = desk.public_advisories().advisory(case_id, version)
        return renderer.page(request, "advisory.html", me, view=view)

    @r.get("/advisories/{case_id}/{version}/{filename}")
    def advisory_file(case_id: CaseId, version: Version,
                      filename: Annotated[str, Path(max_length=200)]) -> Response:
        """A published file, byte for byte, as a download with its own media type."""
        doc = desk.public_advisories().document(case_id, version, filename)
        return Response(doc.content, media_type=doc.media_type, headers={
            "content-disposition": f'attachment; filename="{_quoted(doc.filename)}"'})

    return r


def _quoted(name: str) -> str:
    """A stored file name inside a quoted header value: the desk writes these names
    itself (case ids, CVE ids), but nothing that would end the quotes gets through."""
    return "".join(c for c in name if c.isprintable() and c not in '"\\')
