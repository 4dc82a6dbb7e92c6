"""The ``commonpod`` command line: init, serve, pod, account, credentials, keys and vc.

Every failure prints one clear line to stderr and exits non-zero; results that other tools
read are printed as JSON on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auth.accounts import Account, AccountError, Accounts, check_name, load_account
from auth.credentials import Credentials
from auth.identity import Identity
from auth.passwords import Passwords, WeakPassword, check_new
from pod import settings as config
from pod.errors import ConfigError, IntegrityError
from pod.resources.paths import check_pod_name
from pod.resources.provision import PROFILE, create_pod
from pod.runtime import open_runtime, rotate_keys
from pod.settings import Settings
from pod.statements import KeyFormatError, decode_public_key, verify
from pod.store import keys
from pod.store.directory import PodExists

if TYPE_CHECKING:
    from auth.fetch import Fetcher
    from pod.runtime import Runtime
    from pod.store.sealed import PodKeys

EXIT_USAGE, EXIT_FAILED = 2, 1


class CommandError(Exception):
    """A command that cannot do what was asked; the message says why."""


def _settings(args: argparse.Namespace) -> Settings:
    return config.load({name: getattr(args, name, None)
                        for name in ("data_dir", "base_url", "host", "port")})


def initialise(settings: Settings) -> None:
    """Create a data directory: settings, a fresh master key (0600) and an empty store."""
    d = settings.data_dir
    if d.exists() and any((d / f).exists() for f in (
            config.SETTINGS_FILE, config.MASTER_KEY_FILE, config.DATABASE_FILE)):
        raise CommandError(f"{d} already holds a Commonpod data directory; not overwriting it")
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    config.write_file(settings)
    keys.write_key_file(settings.master_key_path, keys.new_master_key())

    async def make_store() -> None:
        rt = await open_runtime(settings, create=True)
        await rt.close()

    asyncio.run(make_store())


def cmd_init(args: argparse.Namespace) -> int:
    settings = _settings(args)
    initialise(settings)
    print(json.dumps({"data_dir": str(settings.data_dir), "base_url": settings.base_url}))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from pod.app import create_app

    settings = _settings(args)
    if not settings.master_key_path.exists() and not settings.database_path.exists():
        initialise(settings)
        print(f"commonpod: initialised a new data directory at {settings.data_dir}",
              file=sys.stderr)

    async def check() -> None:  # refuse to start before binding the port
        rt = await open_runtime(settings)
        try:
            await Identity.open(rt.system, settings.base_url)  # makes the signing key once
        except IntegrityError:
            raise CommandError("the server's own records fail to open: the database was "
                               "altered or damaged; refusing to start") from None
        finally:
            await rt.close()

    asyncio.run(check())
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level=settings.log_level, server_header=False, access_log=False,
                proxy_headers=False)
    return 0


def cmd_pod_create(args: argparse.Namespace) -> int:
    try:
        name = check_pod_name(args.name)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    settings = _settings(args)
    if args.public_write:
        print(f"commonpod: WARNING: pod {name!r} is PUBLICLY WRITABLE: anyone can read, change "
              "and delete everything in it. Use this for benchmarks and tests only.",
              file=sys.stderr)

    async def run() -> dict[str, str]:
        rt = await open_runtime(settings)
        try:
            made = await create_pod(rt.pods, rt.resources, name, public_write=args.public_write)
        except PodExists:
            raise CommandError(f"a pod named {name!r} already exists") from None
        finally:
            await rt.close()
        return {"pod": made.pod, "webid": made.webid}

    print(json.dumps(asyncio.run(run())))
    return 0


def cmd_pod_delete(args: argparse.Namespace) -> int:
    settings = _settings(args)

    async def run() -> bool:
        rt = await open_runtime(settings)
        try:
            return await rt.pods.destroy(args.name)
        finally:
            await rt.close()

    if not asyncio.run(run()):
        raise CommandError(f"there is no pod named {args.name!r}")
    print(json.dumps({"deleted": args.name}))
    return 0


# --- account create ---------------------------------------------------------------------

def _read_password(source: str | None) -> str:
    """The new password: from a file, from stdin (``-``), or typed twice at a prompt."""
    if source is None:
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password again: "):
            raise CommandError("the two passwords differ")
        return first
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CommandError("the password file is not UTF-8 text") from None
    return text.removesuffix("\n").removesuffix("\r")


def cmd_account_create(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        name = check_name(args.name)
    except AccountError as exc:
        raise CommandError(str(exc)) from None

    async def run() -> dict[str, str]:
        rt = await open_runtime(settings)
        try:
            if await rt.pods.find(name) is not None:  # before asking for a password
                raise CommandError(f"the name {name!r} is taken")
            password = _read_password(args.password_file)
            check_new(password)
            accounts = Accounts(rt.system, rt.pods, rt.resources, Passwords())
            account = await accounts.create(name, password)
        except (AccountError, WeakPassword) as exc:
            raise CommandError(str(exc)) from None
        finally:
            await rt.close()
        return {"webid": account.webid, "pod": account.pod, "issuer": settings.base_url}

    print(json.dumps(asyncio.run(run())))
    return 0


# --- credentials ------------------------------------------------------------------------

def _with_credentials(args: argparse.Namespace, work: Callable[..., object]) -> object:
    """Run ``work(credentials, account)`` against the data directory; the account must exist."""
    settings = _settings(args)

    async def run() -> object:
        rt = await open_runtime(settings)
        try:
            account = await load_account(rt.system, args.account)
            if account is None:
                raise CommandError(f"there is no account named {args.account!r}")
            return await work(Credentials(rt.system), account)
        finally:
            await rt.close()

    return asyncio.run(run())


def cmd_credentials_create(args: argparse.Namespace) -> int:
    async def create(creds: Credentials, account: Account) -> dict[str, str]:
        cred, secret = await creds.create(account.name, account.webid, args.label)
        return {"client_id": cred.client_id, "client_secret": secret, "webid": cred.webid,
                "issuer": _settings(args).base_url}

    print(json.dumps(_with_credentials(args, create)))
    return 0


def cmd_credentials_list(args: argparse.Namespace) -> int:
    async def listing(creds: Credentials, account: Account) -> list[dict[str, object]]:
        return [c.public() for c in await creds.list(account.name)]

    print(json.dumps(_with_credentials(args, listing)))
    return 0


def cmd_credentials_revoke(args: argparse.Namespace) -> int:
    async def revoke(creds: Credentials, account: Account) -> bool:
        return await creds.revoke(account.name, args.client_id)

    if not _with_credentials(args, revoke):
        raise CommandError(f"{args.account!r} has no credential {args.client_id!r}")
    print(json.dumps({"revoked": args.client_id}))
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    count = asyncio.run(rotate_keys(settings))
    print(json.dumps({"rotated": True, "pods": count}))
    return 0


# --- vc sign and verify -------------------------------------------------------------------

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
    :func:`pod.statements.profiles.controller_document`."""
    from pod.statements.profiles import TURTLE_TYPES, controller_document

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
    fetcher = _fetcher(_settings(args).allow_private_fetch)
    credential = _read_credential(args.source, fetcher)
    resolve = None if args.key is not None else _resolver(fetcher)
    verdict = asyncio.run(verify(credential, resolve=resolve, public_key_multibase=args.key))
    print(json.dumps({"verified": verdict.verified, "reasons": verdict.reasons,
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
    from pod.resources.conditions import Conditions
    from pod.resources.patch import parse_n3_patch
    from pod.resources.paths import Target
    from pod.statements.keys import key_id, profile_insert
    from pod.statements.profiles import ProfileError, lists_key

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
    from pod.statements import TransformError, sign
    from pod.statements.keys import key_id, pod_key

    settings = _settings(args)
    credential = _read_credential(args.file)
    if "proof" in credential:
        raise CommandError(f"{args.file} already has a proof; sign the unsecured credential")
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


def _data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, help="data directory (env COMMONPOD_DATA_DIR)")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="commonpod", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, fn: Callable[[argparse.Namespace], int], help: str,
                into: argparse._SubParsersAction = sub) -> argparse.ArgumentParser:
        p = into.add_parser(name, help=help, description=help)
        p.set_defaults(fn=fn)
        _data_dir(p)
        return p

    p = command("init", cmd_init, "create a data directory with a new master key")
    p.add_argument("--base-url", help="public URL of the server, e.g. https://pod.example/")
    p = command("serve", cmd_serve, "run the server (initialising the data directory if new)")
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default 8000)")
    p.add_argument("--base-url", help="public URL of the server")

    pods = sub.add_parser("pod", help="create or delete pods").add_subparsers(
        dest="pod_command", required=True, metavar="ACTION")
    p = command("create", cmd_pod_create, "create a pod with a WebID profile", pods)
    p.add_argument("name")
    p.add_argument("--public-write", action="store_true",
                   help="give EVERYONE full access (benchmarks and conformance runs only)")
    p = command("delete", cmd_pod_delete, "delete a pod, destroying its key first", pods)
    p.add_argument("name")

    accounts = sub.add_parser("account", help="manage accounts").add_subparsers(
        dest="account_command", required=True, metavar="ACTION")
    p = command("create", cmd_account_create,
                "create an account with its own pod and WebID (name = pod name)", accounts)
    p.add_argument("name")
    p.add_argument("--password-file", metavar="F",
                   help="read the password from file F ('-' for stdin); else prompt twice")

    creds = sub.add_parser("credentials", help="client credentials for scripts and servers"
                           ).add_subparsers(dest="credentials_command", required=True,
                                            metavar="ACTION")
    p = command("create", cmd_credentials_create,
                "create a client credential acting as the account's WebID", creds)
    p.add_argument("account")
    p.add_argument("--label", default="command line", help="a name to recognise it by")
    p = command("list", cmd_credentials_list, "list an account's client credentials", creds)
    p.add_argument("account")
    p = command("revoke", cmd_credentials_revoke, "revoke a client credential", creds)
    p.add_argument("account")
    p.add_argument("client_id")

    key_cmds = sub.add_parser("keys", help="manage the master key").add_subparsers(
        dest="keys_command", required=True, metavar="ACTION")
    command("rotate", cmd_keys_rotate, "replace the master key, rewrapping pod keys", key_cmds)

    vc = sub.add_parser("vc", help="verifiable credentials").add_subparsers(
        dest="vc_command", required=True, metavar="ACTION")
    p = command("sign", cmd_vc_sign,
                "sign a credential with the pod's key (eddsa-rdfc-2022), publishing the key "
                "in the owner's WebID profile on first use", vc)
    p.add_argument("file", metavar="FILE", help="the unsigned credential ('-' for stdin)")
    p.add_argument("--pod", metavar="NAME",
                   help="the signing pod (default: the pod whose WebID is the issuer)")
    p.add_argument("--output", "-o", metavar="F", help="write the signed credential to F")
    p = command("verify", cmd_vc_verify,
                "verify a credential's eddsa-rdfc-2022 proof and validity; prints the verdict "
                "as JSON and exits non-zero if it fails", vc)
    p.add_argument("source", metavar="FILE_OR_URL", help="the credential ('-' for stdin)")
    p.add_argument("--key", metavar="MULTIBASE",
                   help="check the proof against this Multikey public key instead of "
                   "resolving the verification method")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.fn(args)
    except (ConfigError, CommandError) as exc:
        print(f"commonpod: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"commonpod: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main(os.sys.argv[1:]))
