"""Pod archives on the command line: ``pod export NAME FILE`` and ``pod import NAME FILE``.

Both work while the server runs (SQLite serves both processes). An export is written beside
``FILE`` (owner-only, mode 0600: it holds the pod decrypted) and moved into place only when
complete; an existing ``FILE`` is never overwritten. An import makes a new pod, or takes the
place of an account's pod that holds only what a new pod starts with; a refused archive
writes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
from pathlib import Path

from auth.accounts import load_account
from pod.access.portability import Portability
from pod.cli.common import CommandError, settings_of
from pod.errors import ArchiveRefused
from pod.resources.archive.export import ExportChanged
from pod.resources.paths import check_pod_name
from pod.runtime import Runtime, open_runtime
from pod.settings import Settings


def _portability(rt: Runtime, settings: Settings) -> Portability:
    return Portability(settings.base_url, rt.pods, rt.resources, rt.log, settings.max_body_bytes)


def cmd_pod_export(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    out = Path(args.file).expanduser()
    if out.exists():
        raise CommandError(f"{out} exists; choose another file (an export never overwrites)")
    partial = out.with_name(out.name + ".partial")

    async def run() -> dict[str, object]:
        rt = await open_runtime(settings)
        try:
            export = await _portability(rt, settings).export(args.name)
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                async for chunk in export.stream():
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            partial.replace(out)
            return {"pod": export.manifest.pod, "file": str(out), "bytes": export.length,
                    "resources": len(export.manifest.resources),
                    "log_days": len(export.manifest.files)}
        except ExportChanged as exc:
            raise CommandError(f"{exc}; nothing was kept: export again") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            await rt.close()

    print(json.dumps(asyncio.run(run())))
    return 0


def cmd_pod_import(args: argparse.Namespace) -> int:
    try:
        name = check_pod_name(args.name)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    settings = settings_of(args)
    source = Path(args.file).expanduser()

    async def run() -> dict[str, object]:
        rt = await open_runtime(settings)
        try:
            if await rt.pods.find(name) is None and await load_account(rt.system, name):
                raise CommandError(f"the name {name!r} belongs to an account whose pod is gone "
                                   f"(an unfinished deletion): `commonpod account delete {name}`")
            with source.open("rb") as f:
                done = await _portability(rt, settings).import_archive(
                    name, f, os.fstat(f.fileno()).st_size, create=True)
        except ArchiveRefused as exc:
            raise CommandError(exc.detail) from None
        finally:
            await rt.close()
        return {"pod": done.pod, "from": done.old_pod, "resources": done.resources,
                "bytes": done.bytes, "rdf_kept": done.kept, "rdf_rewritten": done.rewritten}

    print(json.dumps(asyncio.run(run())))
    return 0
