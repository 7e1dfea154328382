"""Security headers on every response: no page of this service may be framed by another site (clickjacking a
Delete or Rollback click), and the web app runs under a strict Content-Security-Policy (its own scripts, styles,
images and API only: no inline script, no eval, no other origin).

- the web app (web/dist, everything outside /api and the docs): APP_POLICY;
- the API's JSON and streams: API_POLICY (they load nothing);
- /docs and /redoc (FastAPI's Swagger UI and ReDoc load their scripts from a CDN, inline): only frame-ancestors.
All of them: X-Frame-Options: DENY (for browsers without CSP frame-ancestors), nosniff, no referrer to other sites.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

APP_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
              "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")  # fmt: skip
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
DOCS_POLICY = "frame-ancestors 'none'"
DOCS_PATHS = ("/docs", "/redoc")
COMMON = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def policy_for(path: str) -> str:
    if path == "/api" or path.startswith("/api/") or path == "/openapi.json":
        return API_POLICY
    if path.startswith(DOCS_PATHS):
        return DOCS_POLICY
    return APP_POLICY


class SecurityHeaders:
    """Pure ASGI (so streamed responses, SSE included, get the headers without being buffered)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = policy_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in (*COMMON.items(), ("Content-Security-Policy", policy)):
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
