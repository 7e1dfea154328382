"""The built web UI (web/dist) at `/`: real files as they are, any other non-API path gets index.html so the
single-page app's own router handles it."""

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

DEFAULT_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"


def web_router(dist: Path = DEFAULT_DIST) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    root = Path(dist).resolve()

    @router.get("/{path:path}")
    def read_web(path: str) -> FileResponse:
        if path == "api" or path.startswith("api/"):
            raise HTTPException(404, detail=f"no API endpoint /{path}: see /docs")
        index = root / "index.html"
        if not index.is_file():  # checked per request, so a UI built after start-up is served
            raise HTTPException(404, detail="the web UI is not built: run `npm ci && npm run build` in web/")
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            return FileResponse(candidate)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    return router
