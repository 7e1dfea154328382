"""Dependencies shared by the routes, as `Annotated` aliases: settings, Redis, the event hub, the task sender,
the token guard, and the resume id of an SSE request."""

import secrets
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request, status
from redis.asyncio import Redis

from api.fanout import EventHub
from api.task_sender import TaskSender
from shared.settings import Settings


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


def require_token(
    settings: SettingsDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    token: Annotated[str | None, Query(description="API token, for EventSource which cannot send headers")] = None,
) -> None:
    """When AVOCET_API_TOKEN is set, work-starting and cancelling endpoints need it (Bearer header or ?token=)."""
    expected = settings.api_token
    if not expected:
        return
    given = token
    if authorization and authorization.lower().startswith("bearer "):
        given = authorization[7:].strip()
    if not given or not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="this endpoint needs the API token: send 'Authorization: Bearer <AVOCET_API_TOKEN>' or ?token=",
            headers={"WWW-Authenticate": "Bearer"},
        )


TokenDep = Depends(require_token)


def get_last_event_id(
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID", include_in_schema=False)] = None,
    last_event_id: Annotated[int | None, Query(ge=0, description="Resume after this event id")] = None,
) -> int:
    if last_event_id_header not in (None, ""):
        try:
            return max(0, int(last_event_id_header))
        except ValueError:
            raise HTTPException(422, detail="Last-Event-ID must be an event id (a whole number)") from None
    return last_event_id or 0


LastEventIdDep = Annotated[int, Depends(get_last_event_id)]
