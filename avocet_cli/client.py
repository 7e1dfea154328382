"""The CLI's one HTTP client for the Avocet API: base URL and token from the environment, JSON calls that raise
CliError with the server's words, and a job's event stream (SSE) read as parsed events.

AVOCET_URL (default http://127.0.0.1:8000) and AVOCET_API_TOKEN (sent as `Authorization: Bearer <token>`).
"""

import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from avocet_cli.errors import CliError, from_response, unreachable

DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# The server sends a keep-alive comment every ~15 s; a minute of silence means the connection is gone.
STREAM_TIMEOUT = httpx.Timeout(30.0, connect=5.0, read=60.0)


class ApiClient:
    def __init__(self, url: str = DEFAULT_URL, token: str | None = None, transport: httpx.BaseTransport | None = None):
        self.url = url.rstrip("/")
        self.token_set = bool(token)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=TIMEOUT, transport=transport)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "ApiClient":
        return cls(env.get("AVOCET_URL") or DEFAULT_URL, env.get("AVOCET_API_TOKEN") or None)

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, *, ok: tuple[int, ...] = (), **kwargs: Any) -> httpx.Response:
        """The response if it is 2xx (or a status in `ok`); otherwise a CliError naming the problem and the fix."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise unreachable(self.url, exc) from exc
        if response.is_success or response.status_code in ok:
            return response
        raise from_response(response, self.token_set)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.json_of(self.request("GET", path, **kwargs))

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.json_of(self.request("POST", path, json=body, **kwargs))

    def json_of(self, response: httpx.Response) -> Any:
        """The answer's JSON; a CliError (bad input: the wrong address) when something else answered."""
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("content-type") or "no content type"
            raise CliError(f"{response.request.url.path} at {self.url} answered {response.status_code} with something "
                           f"that is not JSON ({kind}): set AVOCET_URL to the Avocet API's address") from None  # fmt: skip

    def events(self, job_id: str, after: int) -> Iterator[dict]:
        """The job's events after id `after`, as the server sends them; ends when the server closes the stream
        (after the terminal event, or at once with 204 when nothing is left). A dropped connection raises
        httpx.TransportError (connection refused included) so the caller can retry from the last id it saw."""
        headers = {"Last-Event-ID": str(after), "Accept": "text/event-stream"}
        with self._http.stream("GET", f"/api/jobs/{job_id}/events", headers=headers, timeout=STREAM_TIMEOUT) as r:
            if r.status_code == 204:
                return
            if not r.is_success:
                r.read()
                raise from_response(r, self.token_set)
            yield from parse_sse(r.iter_lines())


def parse_sse(lines: Iterator[str]) -> Iterator[dict]:
    """SSE lines -> event dicts. `data:` lines join until a blank line; comments (`:`) and `retry:` are skipped;
    the `id:` field fills in an event id the JSON lacks."""
    data: list[str] = []
    sse_id: str | None = None
    for line in lines:
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif line.startswith("id:"):
            sse_id = line[3:].strip()
        elif line == "" and data:
            event = json.loads("\n".join(data))
            if isinstance(event, dict):
                if "id" not in event and sse_id and sse_id.isdigit():
                    event["id"] = int(sse_id)
                yield event
            data, sse_id = [], None
    if data:
        raise httpx.RemoteProtocolError("the event stream ended in the middle of an event")
