"""Taking one's pod along: ``/.account/export`` (download it as one zip archive) and
``/.account/import`` (bring an archive into a new account's pod).

Both are page actions of the signed-in owner on their own pod — CSRF-protected POSTs; the
LDP API stays DPoP-only. The export is streamed with its length known, so the browser shows
its progress; it is an attachment (never shown on this origin) with ``nosniff`` and a
sandboxing CSP. An import is read within ``max_body_bytes`` in memory (never spooled to disk)
and refused whole when anything in it is wrong (:mod:`pod.access.portability`).
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from auth.http import web
from auth.http.bodies import BodyError
from auth.http.deps import PagesDep, PortabilityDep, SessionDep
from auth.http.uploads import read_upload
from pod.deps import SettingsDep
from pod.errors import ArchiveRefused, PodError, QuotaExceeded
from pod.resources.archive.export import ExportChanged, PodExport

router = APIRouter()
EXPORT = "/.account/export"
IMPORT = "/.account/import"
FORM_OVERHEAD = 64 * 1024  # multipart framing and the form's other fields
DOWNLOAD_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Referrer-Policy": "no-referrer",
}

log = logging.getLogger(__name__)


@router.get(EXPORT, include_in_schema=False)
async def export_page(request: Request, session: SessionDep, pages: PagesDep) -> Response:
    if session is None:
        return web.no_session(request)
    return await pages.session_page(session, "portability/export.html")


async def _guarded(export: PodExport, pod: str) -> AsyncIterator[bytes]:
    """The archive; when the pod changes mid-way the download is cut short, so the browser
    reports it failed (its length was announced) rather than keep a wrong archive."""
    try:
        async for chunk in export.stream():
            yield chunk
    except ExportChanged as exc:
        log.warning("export of %s stopped: %s", pod, exc)
        raise


@router.post(EXPORT, include_in_schema=False)
async def export(request: Request, pages: PagesDep, portability: PortabilityDep) -> Response:
    checked = await pages.session_form(request)
    if isinstance(checked, Response):
        return checked
    session, _ = checked
    name = session.account.name
    try:
        planned = await portability.export(name)
    except PodError as error:
        return pages.problem_page(error.status, "Your pod cannot be exported",
                                  web.sentence(error.detail))
    filename = f"{name}-pod-{time.strftime('%Y-%m-%d', time.gmtime())}.zip"
    headers = {**DOWNLOAD_HEADERS, "Content-Length": str(planned.length),
               "Content-Disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(_guarded(planned, name), media_type="application/zip",
                             headers=headers)


@router.get(IMPORT, include_in_schema=False)
async def import_page(request: Request, session: SessionDep, pages: PagesDep,
                      portability: PortabilityDep, settings: SettingsDep,
                      resources: int | None = None, rewritten: int | None = None) -> Response:
    if session is None:
        return web.no_session(request)
    return await pages.session_page(
        session, "portability/import.html", new=await portability.is_new(session.account.name),
        limit=settings.max_body_bytes, done=resources, rewritten=rewritten)


@router.post(IMPORT, include_in_schema=False)
async def import_archive(request: Request, session: SessionDep, pages: PagesDep,
                         portability: PortabilityDep, settings: SettingsDep) -> Response:
    if session is None:
        return web.no_session(request)

    async def again(status: int, message: str) -> Response:
        return await pages.session_page(
            session, "portability/import.html", status, error=message,
            new=await portability.is_new(session.account.name), limit=settings.max_body_bytes)

    try:
        upload = await read_upload(request, settings.max_body_bytes + FORM_OVERHEAD)
    except BodyError as error:
        return pages.form_error(error)
    if not await pages.csrf.check_session(session.digest, upload.fields.get("csrf")):
        return pages.forbidden()
    archive = upload.files.get("archive")
    if archive is None or not archive[1]:
        return await again(400, "Choose the archive file to import.")
    data = archive[1]
    try:
        done = await portability.import_archive(session.account.name, io.BytesIO(data),
                                                len(data), create=False)
    except QuotaExceeded as error:
        return await again(error.status, web.sentence(error.detail))
    except ArchiveRefused as error:
        return await again(error.status, web.sentence(error.detail))
    except PodError as error:
        return await again(error.status, web.sentence(error.detail))
    return web.redirect(IMPORT + "?" + urlencode({"resources": done.resources,
                                                  "rewritten": done.rewritten}))
