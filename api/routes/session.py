"""Signing in, for the web view: it trades the API token once for a session cookie (HttpOnly, SameSite=Strict,
path /api) that fetch and EventSource then send by themselves, so the token stays out of page storage and URLs.
The cookie holds a random session id that the server keeps (api/sessions.py) for AVOCET_SESSION_MAX_AGE_S: signing
out revokes it, and changing AVOCET_API_TOKEN signs everyone out.

curl localhost:8000/api/session                   # {"token_required": true, "signed_in": false}
curl -c jar -X POST localhost:8000/api/session -H 'content-type: application/json' -d '{"token": "<token>"}'
curl -b jar -X DELETE localhost:8000/api/session  # sign out
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api import sessions
from api.deps import RedisDep, SettingsDep, has_access, session_cookie
from api.security import SESSION_COOKIE, same_secret

router = APIRouter(prefix="/api/session", tags=["session"])
COOKIE = {"key": SESSION_COOKIE, "path": "/api", "httponly": True, "samesite": "strict"}


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=1024, description="AVOCET_API_TOKEN")


class SessionState(BaseModel):
    token_required: bool  # false: AVOCET_API_TOKEN is not set, every route answers without signing in
    signed_in: bool  # this request carries the token (header or session cookie), or none is needed


@router.get("", response_model=SessionState)
def read_session(settings: SettingsDep, access: Annotated[bool, Depends(has_access)]) -> SessionState:
    """Whether this API needs its token, and whether this browser has signed in."""
    return SessionState(token_required=bool(settings.api_token), signed_in=access)


@router.post("", response_model=SessionState, responses={401: {"description": "Not the API token"}})
async def create_session(body: SignIn, request: Request, settings: SettingsDep, redis: RedisDep) -> Response:
    """Sign in: check the token and set the session cookie (a no-op when the API has no token)."""
    expected = settings.api_token
    if expected and not same_secret(body.token, expected):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="that is not this API's token (AVOCET_API_TOKEN)")
    response = JSONResponse(SessionState(token_required=bool(expected), signed_in=True).model_dump())
    if expected:
        session_id = await sessions.create(redis, expected, settings.session_max_age_s)
        response.set_cookie(value=session_id, max_age=settings.session_max_age_s,
                            secure=request.url.scheme == "https", **COOKIE)  # fmt: skip
    return response


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def delete_session(
    request: Request, redis: RedisDep, session: Annotated[str | None, Depends(session_cookie)]
) -> Response:
    """Sign out: the session is revoked on the server, and the browser drops the cookie."""
    if session:
        await sessions.revoke(redis, session)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(secure=request.url.scheme == "https", **COOKIE)
    return response
