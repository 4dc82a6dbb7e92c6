"""Verifiable statements: vc sign and vc verify."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apps.sdk.statements import KeyFormatError, decode_public_key, verify
from pod.cli.common import EXIT_FAILED, CommandError, settings_of
from pod.resources.paths import check_pod_name
from pod.resources.provision import PROFILE
from pod.runtime import open_runtime
from pod.settings import Settings

if TYPE_CHECKING:
    from auth.fetch import Fetcher
    from pod.runtime import Runtime
    from pod.store.sealed import PodKeys


JSON_TYPES = ("application/ld+json", "application/json", "application/did+json",
              "application/vc+ld+json", "application/vc")
#: a WebID profile is Turtle; a controller document (did:web, …) is JSON
DOCUMENT_TYPES = ("text/turtle", *JSON_TYPES)


def _fetcher(allow_private: bool = False) -> Fetcher:
    from auth.fetch import Fetcher

    return Fetcher(allow_private=allow_private)


async def _fetch_json(url: str, fetcher: Fetcher | None = None) -> object:
    """A JSON document from another server, through the guarded fetcher (no private
    addresses, bounded size and time)."""
    fetched = await (fetcher or _fetcher()).get(url, JSON_TYPES)
    try:
        return json.loads(fetched.body)
    except ValueError as exc:
        raise CommandError(f"{url} is not JSON: {exc}") from None


def _resolver(fetcher: Fetcher) -> Callable[[str], Any]:
    """Resolve a controller document: JSON as it is, a Turtle WebID profile through
    :func:`apps.sdk.statements.profiles.controller_document`."""
    from apps.sdk.statements.profiles import TURTLE_TYPES, controller_document

    async def resolve(url: str) -> Any:
        fetched = await fetcher.get(url, DOCUMENT_TYPES)
        if fetched.media_type in TURTLE_TYPES:
            return controller_document(fetched.body, fetched.url)
        try:
            return json.loads(fetched.body)
        except ValueError as exc:
            raise CommandError(f"{url} is not JSON: {exc}") from None

    return resolve


def _read_credential(source: str, fetcher: Fetcher | None = None) -> dict[str, Any]:
    """A credential from a file, stdin (``-``) or an http(s) URL."""
    if source.startswith(("https://", "http://")):
        from auth.fetch import FetchError

        try:
            data = asyncio.run(_fetch_json(source, fetcher))
        except FetchError as exc:
            raise CommandError(f"cannot fetch {source}: {exc}") from None
    else:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CommandError(f"{source} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CommandError(f"{source} is not a JSON object")
    return data


def cmd_vc_verify(args: argparse.Namespace) -> int:
    if args.key is not None:
        try:
            decode_public_key(args.key)
        except KeyFormatError as exc:
            raise CommandError(f"--key: {exc}") from None
    # loopback and private addresses only when the data directory's settings allow them
    fetcher = _fetcher(settings_of(args).allow_private_fetch)
    credential = _read_credential(args.source, fetcher)
    resolve = None if args.key is not None else _resolver(fetcher)

    async def status_list(url: str) -> Any:  # a status list credential is JSON (not Turtle)
        return await _fetch_json(url, fetcher)

    verdict = asyncio.run(verify(credential, resolve=resolve, public_key_multibase=args.key,
                                 resolve_status=status_list))
    print(json.dumps({"verified": verdict.verified, "revoked": verdict.revoked,
                      "reasons": verdict.reasons,
                      "warnings": verdict.warnings, "issuer": verdict.issuer,
                      "verificationMethod": verdict.verification_method}, indent=2))
    return 0 if verdict.verified else EXIT_FAILED


def _issuer_id(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def _signing_pod(args: argparse.Namespace, settings: Settings, credential: dict[str, Any]) -> str:
    """The pod that signs: ``--pod``, else the one whose owner's WebID is the issuer."""
    if args.pod is not None:
        try:
            return check_pod_name(args.pod)
        except ValueError as exc:
            raise CommandError(f"--pod: {exc}") from None
    issuer = _issuer_id(credential.get("issuer")) or ""
    rest = issuer.removeprefix(settings.base_url)
    pod, _, tail = rest.partition("/")
    if issuer.startswith(settings.base_url) and pod and "/" + tail == PROFILE + "#me":
        return pod
    raise CommandError("say which pod signs with --pod NAME (the credential's issuer is not "
                       "a WebID of this server)")


async def _publish_key(rt: Runtime, pod: str, pod_keys: PodKeys, webid: str,
                       multibase: str) -> bool:
    """Make sure the owner's WebID profile lists the pod's key; ``True`` if it was added."""
    from apps.sdk.statements.profiles import ProfileError, lists_key
    from pod.resources.conditions import Conditions
    from pod.resources.patch import parse_n3_patch
    from pod.resources.paths import Target
    from pod.statements.keys import key_id, profile_insert

    target = Target(pod, PROFILE)
    url = rt.resources.url(target)
    profile = await rt.resources.get(pod_keys, target)
    if profile is None:
        raise CommandError(f"the pod {pod!r} has no WebID profile at {url}; cannot publish "
                           "its signing key")
    try:
        if lists_key(profile.body, url, webid, key_id(webid), multibase):
            return False
    except ProfileError as exc:
        raise CommandError(f"the WebID profile cannot be read: {exc}") from None
    patch = parse_n3_patch(profile_insert(webid, multibase).encode(), url)
    await rt.resources.patch(pod_keys, target, patch, Conditions())
    return True


def cmd_vc_sign(args: argparse.Namespace) -> int:
    from apps.sdk.statements import TransformError, sign
    from apps.sdk.statements.cryptosuite import canonicalize
    from pod.statements.keys import key_id, pod_key

    settings = settings_of(args)
    credential = _read_credential(args.file)
    if "proof" in credential:
        raise CommandError(f"{args.file} already has a proof; sign the unsecured credential")
    try:  # safe mode refuses before the pod's key is made or published
        canonicalize(credential)
    except TransformError as exc:
        raise CommandError(f"cannot sign {args.file}: {exc}") from None
    pod = _signing_pod(args, settings, credential)

    async def run() -> dict[str, Any]:
        rt = await open_runtime(settings)
        try:
            pod_keys = await rt.pods.find(pod)
            if pod_keys is None:
                raise CommandError(f"there is no pod named {pod!r}")
            webid = f"{settings.base_url}{pod}{PROFILE}#me"
            issuer = credential.get("issuer")
            if issuer is None:
                credential["issuer"] = webid
            elif _issuer_id(issuer) != webid:
                raise CommandError(f"the credential's issuer is {_issuer_id(issuer) or issuer!r}"
                                   f", not the pod owner {webid}; refusing to sign for them")
            key = await pod_key(rt.system, pod, pod_keys.pod_id)
            await _publish_key(rt, pod, pod_keys, webid, key.public_multibase)
        finally:
            await rt.close()
        try:
            return sign(credential, private_key=key.seed, verification_method=key_id(webid))
        except (ValueError, TransformError) as exc:
            raise CommandError(f"cannot sign {args.file}: {exc}") from None

    text = json.dumps(asyncio.run(run()), indent=2, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return 0


