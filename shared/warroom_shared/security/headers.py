"""Headers every response carries, so a browser treats the API as data and nothing else."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-site"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
# The interactive docs: Swagger UI's script and styles from the service itself (`docs`), its
# images inline, its "Try it out" calls to the service.
DOCS_CSP = (
    b"content-security-policy",
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; frame-ancestors 'none'",
)
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
DOCS_PATHS = ("/docs",)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, hsts: bool, csp: bytes | None = None) -> None:
        self.app = app
        self.hsts = hsts
        self.csp = API_CSP if csp is None else (b"content-security-policy", csp)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [*API_HEADERS, DOCS_CSP if scope["path"].startswith(DOCS_PATHS) else self.csp]
        if self.hsts:
            extra.append(HSTS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).extend(extra)
            await send(message)

        await self.app(scope, receive, send_with_headers)
