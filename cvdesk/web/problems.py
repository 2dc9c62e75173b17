"""Errors as answers: the domain's one error table (``ERROR_CODES``) gives the status;
the API answers RFC 9457 problem details naming the field, pages answer an error page,
and a page that needs a signed-in user sends the browser to the sign-in page."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from cvdesk.domain.accounts import CaseHidden
from cvdesk.domain.errors import (
    DomainError,
    IllegalTransition,
    NotSignedIn,
    TooManyAttempts,
    codes,
)
from cvdesk.web.api_types import NON_BLANK

if TYPE_CHECKING:
    from cvdesk.web.render import Renderer

TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
          405: "Method Not Allowed", 409: "Conflict", 422: "Unprocessable Content",
          429: "Too Many Requests", 500: "Internal Server Error",
          503: "Service Unavailable"}


def problem(status: int, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status,
            "detail": detail, **extra}
    headers = {"WWW-Authenticate": 'Bearer realm="cvdesk"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type="application/problem+json",
                        headers=headers)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


E = TypeVar("E", bound=Callable[..., Any])


def fields(names: dict[str, str] | None = None, *, refused: str | None = None,
           ) -> Callable[[E], E]:
    """Marks an API operation with the names its request gives the fields the domain
    names in its own words (``{"fixed version": "fixed_version"}``), and the field a
    refusal of the model (IllegalTransition) is about, so that a problem's ``errors``
    name the request's own field."""

    def mark(endpoint: E) -> E:
        endpoint.api_fields = dict(names or {})  # type: ignore[attr-defined]
        endpoint.api_refused = refused  # type: ignore[attr-defined]
        return endpoint

    return mark


def _errors(request: Request, exc: DomainError) -> list[dict[str, str]]:
    """The fields a domain error names, as the request names them."""
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    names: dict[str, str] = getattr(endpoint, "api_fields", {})
    listed = getattr(exc, "problems", None)  # a form read whole: every problem, by path
    if listed:
        return [{"field": names.get(f, f), "detail": m} for f, m in listed]
    field = getattr(exc, "field", None)
    if field:
        return [{"field": names.get(field, field),
                 "detail": getattr(exc, "problem", str(exc))}]
    refused = getattr(endpoint, "api_refused", None)
    if refused and isinstance(exc, IllegalTransition):
        return [{"field": refused, "detail": str(exc)}]
    return []


#: Where a request's parts are (pydantic's first location); a field's path follows it.
_PARTS = ("body", "query", "path", "header", "cookie")


def _field(error: dict[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", ())]
    if error.get("type") == "json_invalid":
        return "body"  # the body as a whole; what follows is a character position
    if loc and loc[0] in _PARTS:
        loc = loc[1:]
    return ".".join(loc) or "request"


def _detail(error: dict[str, Any]) -> str:
    if (error.get("type") == "string_pattern_mismatch"
            and (error.get("ctx") or {}).get("pattern") == NON_BLANK):
        return "must not be empty or only white space"
    message = str(error.get("msg", ""))
    return message.removeprefix("Value error, ")


def install(app: FastAPI, renderer: Renderer) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        status = 404 if isinstance(exc, CaseHidden) else (codes(exc) or (1, 400))[1]
        extra: dict[str, Any] = {}
        errors = _errors(request, exc)
        if errors:
            extra["errors"] = errors
        headers: dict[str, str] = {}
        if isinstance(exc, TooManyAttempts):
            headers["Retry-After"] = str(exc.retry_after_seconds)
        if _is_api(request):
            # a form's problems are listed in ``errors``; the detail is their headline
            detail = (str(exc).split("\n", 1)[0] if getattr(exc, "problems", None)
                      else str(exc))
            response: Response = problem(status, detail, **extra)
        elif isinstance(exc, NotSignedIn) and request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        else:
            response = renderer.page(request, "error.html", None, http_status=status,
                                     title=TITLES.get(status, "Error"), detail=str(exc))
        response.headers.update(headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"field": _field(e), "detail": _detail(e)} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['detail']}" for e in errors)
        if _is_api(request):
            return problem(422, detail, errors=errors)
        return renderer.page(request, "error.html", None, http_status=422,
                             title=TITLES[422], detail=detail)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> Response:
        """A bug: logged by the server, answered without its details."""
        if _is_api(request):
            return problem(500, "internal error: the desk's log has the details")
        return renderer.page(request, "error.html", None, http_status=500,
                             title="Internal Server Error",
                             detail="Something went wrong on the desk; the log has the details.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            response = problem(exc.status_code, str(exc.detail))
        else:
            response = renderer.page(request, "error.html", None, http_status=exc.status_code,
                                     title=TITLES.get(exc.status_code, "Error"),
                                     detail=str(exc.detail))
        # Keep what the router said, e.g. a 405's Allow (RFC 9110 15.5.6), which must
        # list the methods of every route on the path, not only the first one tried.
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed(request))
        return response


def _allowed(request: Request) -> list[str]:
    from fastapi.routing import iter_route_contexts

    path = request.url.path
    found: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        pattern = getattr(route, "path_regex", None)
        if pattern is not None and pattern.match(path):
            found.update(route.methods or ())
    return sorted(found)
