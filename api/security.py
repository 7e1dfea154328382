"""Closed by default: the checks every HTTP request passes before a route sees it, the token's fingerprint, and
the bind-address rule of `python -m api`. README "Security model" says what is open and how to expose the API.

`RequestGuard`, in order:
- Host must be one of AVOCET_ALLOWED_HOSTS (400), so a DNS-rebinding page cannot reach the API under its own name;
- without AVOCET_API_TOKEN, only loopback clients are served (403), whoever started the server and however;
- a request that changes something (any method but GET, HEAD, OPTIONS) is refused (403) when the browser says it
  comes from another site (Sec-Fetch-Site, else Origin); the seed's GET /api/finetune/run adds the same check;
- a body must be JSON (415) of at most AVOCET_MAX_BODY_BYTES (413), except on UPLOADS, which bound their own;
- whatever the request's handling validates is untrusted input: no server paths (shared/data_files.py).
"""

import hashlib
import hmac
import logging
import secrets
from ipaddress import ip_address
from urllib.parse import urlsplit

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.data_files import Sources, untrusted_input
from shared.settings import Settings

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_SITE = frozenset({"same-origin", "none"})  # Sec-Fetch-Site values of the page itself or a typed URL
UPLOADS = frozenset({("POST", "/api/datasets")})  # raw or multipart bodies, bounded by the route (api/upload.py)
SESSION_COOKIE = "avocet_session"
TOKEN_HINT = "export AVOCET_API_TOKEN=$(python -c 'import secrets; print(secrets.token_urlsafe(32))')"


def token_fingerprint(token: str) -> str:
    """A keyed hash of the token, stored with each session (api/sessions.py) so a new token ends every session."""
    return hmac.new(token.encode(), b"avocet-session-v1", hashlib.sha256).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        address = ip_address(host.strip("[]"))
    except ValueError:
        return False  # a name may resolve to any address
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def exposure_problem(host: str, settings: Settings) -> str | None:
    """Why the API must not listen on `host` with these settings, or None."""
    if is_loopback(host) or settings.api_token:
        return None
    if settings.allow_unauthenticated_remote:
        log.warning("SERVING %s WITHOUT A TOKEN (AVOCET_ALLOW_UNAUTHENTICATED_REMOTE): anyone who reaches this port "
                    "can start jobs and read logs and results", host)  # fmt: skip
        return None
    return (
        f"refusing to listen on {host} without AVOCET_API_TOKEN: anyone who reaches it could start jobs and read your "
        f"data. Set a token ({TOKEN_HINT}) or keep the default 127.0.0.1; AVOCET_ALLOW_UNAUTHENTICATED_REMOTE=1 "
        "overrides this (only where something else guards the port)"
    )


def host_name(host_header: str) -> str:
    """The name in a Host header, without its port: 'example.org:8000' -> 'example.org', '[::1]:80' -> '::1'."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def cross_site(headers: Headers) -> str | None:
    """What says this browser request comes from another site, or None. Requests without these headers are not
    from a browser page (curl, scripts): the token is what guards those."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        return None if site.lower() in SAME_SITE else f"Sec-Fetch-Site: {site}"
    origin = headers.get("origin")
    if origin is None:
        return None
    if origin != "null" and urlsplit(origin).netloc.lower() == headers.get("host", "").lower():
        return None
    return f"Origin: {origin}"


def cross_site_detail(reason: str) -> str:
    return f"refused: this request comes from another site's page ({reason}); use the Avocet page itself"


def refuse_cross_site(headers: Headers) -> None:
    """403 for a request from another site's page (what a forged form or fetch looks like)."""
    if reason := cross_site(headers):
        raise HTTPException(403, detail=cross_site_detail(reason))


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


class RequestGuard:
    """The pure-ASGI middleware applying the checks above (pure, so the untrusted-input mark reaches the route)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.settings = app, settings
        self.sources = Sources.of(settings)
        self.any_host = "*" in settings.allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        status, detail = self._refusal(scope, headers)
        if status:
            await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)
            return
        if scope["method"] not in SAFE_METHODS and (scope["method"], scope["path"]) not in UPLOADS:
            receive = self._bounded(receive)
        with untrusted_input(self.sources):
            await self.app(scope, receive, send)

    def _refusal(self, scope: Scope, headers: Headers) -> tuple[int, str]:
        host = host_name(headers.get("host", ""))
        if not self.any_host and host not in self.settings.allowed_hosts:
            return 400, f"Host {host!r} is not served here: add it to AVOCET_ALLOWED_HOSTS (comma-separated)"
        if not self.settings.api_token and not self.settings.allow_unauthenticated_remote and _remote(scope):
            return 403, f"this API has no token, so it answers only on this machine: set one ({TOKEN_HINT})"
        if scope["method"] in SAFE_METHODS:
            return 0, ""
        if reason := cross_site(headers):
            return 403, cross_site_detail(reason)
        if (scope["method"], scope["path"]) in UPLOADS:
            return 0, ""
        return self._body_refusal(headers)

    def _body_refusal(self, headers: Headers) -> tuple[int, str]:
        content_type, length = headers.get("content-type"), headers.get("content-length")
        has_body = "transfer-encoding" in headers or (length is not None and length.strip() != "0")
        if (content_type is not None and not _is_json(content_type)) or (has_body and content_type is None):
            return 415, f"send the body as JSON with 'Content-Type: application/json', not {content_type or 'none'}"
        if length is not None and length.strip().isdigit() and int(length) > self.settings.max_body_bytes:
            return 413, self._too_large()
        return 0, ""

    def _too_large(self) -> str:
        return f"the request body is over {self.settings.max_body_bytes} bytes (AVOCET_MAX_BODY_BYTES)"

    def _bounded(self, receive: Receive) -> Receive:
        seen = 0

        async def bounded_receive():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.settings.max_body_bytes:
                raise HTTPException(413, detail=self._too_large())
            return message

        return bounded_receive


def _remote(scope: Scope) -> bool:
    client = scope.get("client")
    if not client:
        return False  # a unix socket
    try:
        ip_address(client[0])
    except ValueError:
        return False  # not an address: an in-process test client
    return not is_loopback(client[0])
