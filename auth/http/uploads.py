"""A page's file upload (``multipart/form-data``, RFC 7578), read within a cap, in memory.

The body is read whole within the cap first (:func:`auth.http.bodies.read_body`, refused with
413 past it) and parsed by python-multipart from memory: an upload is never spooled to disk,
where a pod archive would lie decrypted. Few parts, short field values and small part
headers are allowed; anything else is refused with a :class:`~auth.http.bodies.BodyError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from auth.http.bodies import BodyError, media_type, read_body

MULTIPART = "multipart/form-data"
MAX_PARTS = 8
MAX_FIELD = 4096  # bytes of a field that is no file (a CSRF token, a choice)


@dataclass
class Upload:
    """The fields of an upload form (first value of each) and its files by field name."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # name → (filename, data)
    every_file: list[tuple[str, str, str, bytes]] = field(default_factory=list)
    """Every file part in order: (field name, filename, its Content-Type, data)."""


async def read_upload(request: Request, limit: int, max_parts: int = MAX_PARTS) -> Upload:
    """The form of a ``multipart/form-data`` POST of at most ``limit`` bytes and
    ``max_parts`` parts."""
    if media_type(request) != MULTIPART:
        raise BodyError(415, f"the form must be sent as {MULTIPART}")
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary", b"")
    if not boundary or len(boundary) > 200:
        raise BodyError(400, "the form names no multipart boundary")
    body = await read_body(request, limit)
    parts: list[tuple[dict[bytes, bytes], bytearray]] = []
    header: list[bytes] = [b"", b""]

    def begin() -> None:
        if len(parts) >= max_parts:
            raise BodyError(400, f"the form has more than {max_parts} parts")
        parts.append(({}, bytearray()))

    def header_field(data: bytes, start: int, end: int) -> None:
        header[0] += data[start:end]

    def header_value(data: bytes, start: int, end: int) -> None:
        header[1] += data[start:end]

    def header_end() -> None:
        parts[-1][0][header[0].strip().lower()] = header[1].strip()
        header[0], header[1] = b"", b""

    def data(chunk: bytes, start: int, end: int) -> None:
        parts[-1][1].extend(chunk[start:end])

    parser = MultipartParser(boundary, {"on_part_begin": begin, "on_header_field": header_field,
                                        "on_header_value": header_value,
                                        "on_header_end": header_end, "on_part_data": data})
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError:
        raise BodyError(400, "the form could not be read") from None
    return _fields(parts)


def _fields(parts: list[tuple[dict[bytes, bytes], bytearray]]) -> Upload:
    upload = Upload()
    for headers, data in parts:
        kind, options = parse_options_header(headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        if kind != b"form-data" or name is None:
            raise BodyError(400, "a part of the form has no name")
        key = name.decode("utf-8", "replace")
        if b"filename" in options:
            filename = options[b"filename"].decode("utf-8", "replace")[:255]
            upload.files.setdefault(key, (filename, bytes(data)))
            ctype = headers.get(b"content-type", b"").decode("latin-1")[:200]
            upload.every_file.append((key, filename, ctype, bytes(data)))
            continue
        if len(data) > MAX_FIELD:
            raise BodyError(400, f"the form's field {key[:50]!r} is too long")
        try:
            upload.fields.setdefault(key, data.decode("utf-8"))
        except UnicodeDecodeError:
            raise BodyError(400, "the form is not UTF-8") from None
    return upload
