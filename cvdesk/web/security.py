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
