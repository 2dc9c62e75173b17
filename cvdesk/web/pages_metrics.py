"""Learning from experience on the web desk (guide 6.9; issue 12): the metrics page with
skill against chance, timing and findings, and its charts as SVG images.  Staff only
(the charts service refuses others); the charts are the bytes ``cvdesk metrics plot``
writes, remembered for a short while by one charts service per application."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from cvdesk.services.metrics_charts import MetricsCharts
from cvdesk.web.auth import Authenticator

if TYPE_CHECKING:
    from cvdesk.app import Desk
    from cvdesk.web.render import Renderer

Day = Annotated[str, Query(max_length=32)]
Vendor = Annotated[str, Query(max_length=200)]


def router(desk: Desk, auth: Authenticator, renderer: Renderer) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    service = MetricsCharts(desk)

    @r.get("/metrics")
    def metrics(request: Request, since: Day = "", until: Day = "",
                vendor: Vendor = "") -> HTMLResponse:
        me = auth.require(request)
        view = service.page(me, since=since, until=until, vendor=vendor)
        return renderer.page(request, "metrics.html", me, zone=auth.zone(request, me),
                             view=view, query=view.scope.query())

    @r.get("/metrics/charts/{name}.svg")
    def chart(request: Request, name: Annotated[str, Path(max_length=40)],
              since: Day = "", until: Day = "", vendor: Vendor = "") -> Response:
        me = auth.require(request)
        data = service.chart(me, name, since=since, until=until, vendor=vendor, fmt="svg")
        return Response(data, media_type="image/svg+xml",
                        headers={"cache-control": "private, no-store"})

    return r
