"""Server-side sessions of the web view: signing in (POST /api/session) stores a random session id's hash in Redis
with a TTL of AVOCET_SESSION_MAX_AGE_S, beside the token's fingerprint; the cookie holds only the id. So a session
ends when it expires on the server (whatever the browser keeps), signing out (DELETE /api/session) revokes it
there, and changing AVOCET_API_TOKEN signs everyone out (the fingerprint no longer matches)."""

import hashlib
import secrets

from redis.asyncio import Redis

from api.security import same_secret, token_fingerprint
from shared import keys

MAX_ID_CHARS = 128  # an id is 43 characters; anything longer is not one of ours


def _key(session_id: str) -> str:
    return keys.session(hashlib.sha256(session_id.encode()).hexdigest())  # a Redis dump holds no usable cookie


async def create(redis: Redis, token: str, max_age_s: int) -> str:
    session_id = secrets.token_urlsafe(32)
    await redis.set(_key(session_id), token_fingerprint(token), ex=max_age_s)
    return session_id


async def is_valid(redis: Redis, session_id: str, token: str) -> bool:
    if not session_id or len(session_id) > MAX_ID_CHARS:
        return False
    stored = await redis.get(_key(session_id))
    return stored is not None and same_secret(stored, token_fingerprint(token))


async def revoke(redis: Redis, session_id: str) -> None:
    if session_id and len(session_id) <= MAX_ID_CHARS:
        await redis.delete(_key(session_id))
