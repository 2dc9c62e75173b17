"""Response headers every page and API answer carries, and the answer to a failed CSRF
check.  The content security policy allows scripts and styles from the desk itself only,
never inline, so an injected ``<script>`` cannot run even if escaping failed somewhere."""

from __future__ import annotations

from typing import Any

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")

HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    # Reporters' private links carry a token in the path: never send it elsewhere.
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Pure ASGI middleware (no request body buffering) adding ``HEADERS``; pages that
    are not static assets are also marked not to be cached (they show embargoed data)."""

    def __init__(self, app: Any, *, https: bool = False) -> None:
        self.app = app
        self.extra = list(HEADERS)
        if https:
            self.extra.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", [])
                           if h[0].lower() not in {k for k, _ in self.extra}]
                headers.extend(self.extra)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


MAX_BODY = 4 * 1024 * 1024


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes (413) before anything buffers them: the
    CSRF check reads a whole form body, and a report or a statement is never this big."""

    def __init__(self, app: Any, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = True
                if too_big:
                    await _refuse(send, 413, "the request body is larger than "
                                  f"{self.limit // (1024 * 1024)} MiB")
                    return
        seen = 0

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except BodyTooLarge:
            await _refuse(send, 413, "the request body is too large")


class BodyTooLarge(Exception):
    pass


class FormText:
    """Refuse (400) a form post (``application/x-www-form-urlencoded``) whose body is not
    UTF-8 text, before the CSRF check reads it: that check decodes the body strictly and
    would fail with a server error (500) on any stray byte.  Bytes written as ``%FF``
    are text and pass; the form readers take them as U+FFFD.  The body was bounded by
    ``BodyLimit`` outside this; it is read here once and handed on unchanged."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not _is_form(scope):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message)
            if not message.get("more_body", False):
                break
        try:
            b"".join(m.get("body", b"") for m in chunks).decode("utf-8")
        except UnicodeDecodeError as exc:
            await _refuse(send, 400, f"the form is not UTF-8 text (byte {exc.start})")
            return
        await self.app(scope, _replay(chunks, receive), send)


def _is_form(scope: Any) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.split(b";")[0].strip().lower() == b"application/x-www-form-urlencoded"
    return False


def _replay(messages: list[Any], then: Any) -> Any:
    """A ``receive`` that hands back ``messages``, then asks ``then``."""
    pending = list(messages)

    async def receive() -> Any:
        if pending:
            return pending.pop(0)
        return await then()

    return receive


async def _refuse(send: Any, status: int, detail: str) -> None:
    import json

    title = {400: "Bad Request", 413: "Content Too Large"}.get(status, "Error")
    body = json.dumps({"type": "about:blank", "title": title, "status": status,
                       "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def csrf_failed(scope: Any, send: Any, message_id: Any) -> None:
    """A refused form post: 403 as problem details (RFC 9457) naming what was wrong."""
    import json

    body = json.dumps({"type": "about:blank", "title": "Forbidden", "status": 403,
                       "detail": "the form's CSRF token is missing or does not match: "
                                 "reload the page and send the form again"}).encode()
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
