"""Reading an uploaded file from a request, bounded: multipart (field `file`) or a raw application/x-ndjson body.

The body is read in chunks and refused with 413 as soon as it passes the limit, whatever Content-Length claims,
so a large or endless upload never fills memory.
"""

from fastapi import HTTPException, Request, status
from starlette.datastructures import UploadFile

RAW_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines", "text/plain")
MULTIPART_SLACK = 64 * 1024  # room for the multipart headers and boundaries around the file itself


async def read_upload(request: Request, max_bytes: int) -> tuple[bytes, str | None]:
    """(content, name) of the upload: the form's `name` field, else the file's name (None for a raw body);
    413 past max_bytes, 415 for other content types, 422 without a file."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    multipart = content_type == "multipart/form-data"
    if not multipart and content_type not in RAW_TYPES:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            detail="upload as multipart/form-data (field 'file') or as application/x-ndjson")  # fmt: skip
    body = await _bounded_body(request, max_bytes + (MULTIPART_SLACK if multipart else 0), max_bytes)
    if not multipart:
        return body, None
    request._body = body  # Starlette parses the form from the cached body instead of the consumed stream
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="no file: send it in the form field 'file'")
    content = await upload.read()
    if len(content) > max_bytes:
        raise _too_large(max_bytes)
    name = form.get("name")
    return content, name if isinstance(name, str) and name.strip() else upload.filename


async def _bounded_body(request: Request, limit: int, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(max_bytes)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(max_bytes: int) -> HTTPException:
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                         detail=f"the file is larger than {max_bytes} bytes (AVOCET_DATASET_MAX_BYTES)")  # fmt: skip
