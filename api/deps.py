"""Dependencies shared by the routes, as `Annotated` aliases: settings, Redis, the event hub, the task sender,
the token guard, the query-string guard, the same-site guard, and the resume id of an SSE request."""

import re
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request, params, status
from fastapi.dependencies.utils import get_flat_params
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis

from api.fanout import EventHub
from api import sessions
from api.security import SESSION_COOKIE, refuse_cross_site, same_secret
from api.task_sender import TaskSender
from shared import keys
from shared.settings import Settings

MAX_EVENT_ID = 2**53 - 1  # the largest id a browser's Last-Event-ID can carry exactly


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_redis(request: Request) -> Redis:
    return request.app.state.redis


def get_hub(request: Request) -> EventHub:
    return request.app.state.hub


def get_sender(request: Request) -> TaskSender:
    return request.app.state.sender


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
RedisDep = Annotated[Redis, Depends(get_redis)]
HubDep = Annotated[EventHub, Depends(get_hub)]
SenderDep = Annotated[TaskSender, Depends(get_sender)]


bearer = HTTPBearer(auto_error=False, description="AVOCET_API_TOKEN, for scripts and curl")
session_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="Set by POST /api/session (the web view)")


async def has_access(
    settings: SettingsDep, redis: RedisDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    session: Annotated[str | None, Depends(session_cookie)],
) -> bool:  # fmt: skip
    """True when no token is set, or the request carries it: a Bearer header, or a live session (the cookie signing
    in gave, not expired nor revoked on the server)."""
    expected = settings.api_token
    if not expected:
        return True
    if credentials is not None and same_secret(credentials.credentials, expected):
        return True
    return session is not None and await sessions.is_valid(redis, session, expected)


def require_token(access: Annotated[bool, Depends(has_access)]) -> None:
    """Every /api route but /api/health and /api/session has this (api/main.py adds it to each router)."""
    if not access:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="this API needs its token: send 'Authorization: Bearer <AVOCET_API_TOKEN>', or sign in with it "
            "(POST /api/session) for a session cookie",
            headers={"WWW-Authenticate": "Bearer"},
        )


TokenDep = Depends(require_token)


def refuse_unknown_query(request: Request) -> None:
    """Query strings are validated like bodies: a parameter the route does not declare is a 422, a token a 400."""
    given = request.query_params
    if not given:
        return
    if "token" in given:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="tokens in query strings are refused (they end up "
                            "in access logs): send 'Authorization: Bearer <token>' or sign in (POST /api/session)")  # fmt: skip
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    declared = {f.alias for f in get_flat_params(dependant) if isinstance(f.field_info, params.Query)}
    unknown = sorted(set(given.keys()) - declared)
    if unknown:
        raise RequestValidationError([
            {"type": "extra_forbidden", "loc": ("query", name), "msg": "Extra inputs are not permitted",
             "input": given.get(name)} for name in unknown
        ])  # fmt: skip


StrictQueryDep = Depends(refuse_unknown_query)


def same_site(request: Request) -> None:
    refuse_cross_site(request.headers)


SameSiteDep = Depends(same_site)  # for a GET that starts work (the middleware covers every other method)


QUEUE_FULL_RETRY_S = 30
QUEUE_FULL = {429: {"description": "AVOCET_MAX_QUEUED_JOBS jobs are waiting already: retry after Retry-After"}}


async def queue_room(settings: SettingsDep, redis: RedisDep) -> None:
    """429 while AVOCET_MAX_QUEUED_JOBS jobs wait, so a script looping on submissions cannot grow the queue without
    bound (one ZCARD; a burst of concurrent submissions may pass it by at most their number)."""
    waiting = await redis.zcard(keys.JOBS_QUEUED)
    if waiting >= settings.max_queued_jobs:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(QUEUE_FULL_RETRY_S)},
            detail=f"the queue is full: {waiting} jobs are waiting (AVOCET_MAX_QUEUED_JOBS={settings.max_queued_jobs}); "
                   "retry later, or cancel some (GET /api/jobs?kind=... lists them)",
        )  # fmt: skip


QueueRoomDep = Depends(queue_room)  # on every route that queues a job


def get_last_event_id(
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID", include_in_schema=False)] = None,
    last_event_id: Annotated[int | None, Query(ge=0, le=MAX_EVENT_ID, description="Resume after this event id")] = None,
) -> int:
    if last_event_id_header not in (None, ""):
        value = last_event_id_header.strip()
        if not re.fullmatch(r"[0-9]{1,16}", value) or int(value) > MAX_EVENT_ID:
            raise RequestValidationError([{
                "type": "value_error", "loc": ("header", "Last-Event-ID"), "input": last_event_id_header,
                "msg": f"Last-Event-ID must be an event id: a whole number from 0 to {MAX_EVENT_ID}",
            }])  # fmt: skip
        return int(value)
    return last_event_id or 0


LastEventIdDep = Annotated[int, Depends(get_last_event_id)]
