"""The ``commonpod`` command line: init, serve, pod, account, invite, credentials, keys, store
and vc.

Every failure prints one clear line to stderr and exits non-zero; results that other tools
read are printed as JSON on stdout.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pod.cli.common import EXIT_FAILED, CommandError, days, limit
from pod.errors import ConfigError, PodError, StoreError


def _lazy(where: str) -> Callable[[argparse.Namespace], int]:
    """The command ``MODULE.FUNCTION`` of ``pod.cli``, imported only when it runs: ``--help``
    and ``init`` need not load the server's modules (about a second of imports)."""
    module, _, name = where.partition(".")

    def run(args: argparse.Namespace) -> int:
        fn: Callable[[argparse.Namespace], int] = getattr(
            importlib.import_module(f"pod.cli.{module}"), name)
        return fn(args)
    return run


def _absolute(value: str) -> Path:
    return Path(value).expanduser().absolute()


def _data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, help="data directory (env COMMONPOD_DATA_DIR)")
    p.add_argument("--master-key", dest="master_key_file", metavar="PATH", type=_absolute,
                   help="master key file, kept apart from the database (default: master.key "
                   "in the data directory; env COMMONPOD_MASTER_KEY_FILE)")
    p.add_argument("--store", metavar="URL",
                   help="where the sealed store lives: a SQLite file (absolute path; default "
                   "commonpod.db in the data directory) or postgresql://USER@HOST:PORT/DB "
                   "(env COMMONPOD_STORE)")


COPY_HELP = ("copy every sealed row of one store into an empty other (SQLite file or "
             "postgresql:// URL, either way), nothing decrypted; verifies the copy row for row "
             "and prints a JSON summary")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="commonpod", description="Commonpod: Solid pods encrypted at rest, with an apps API.")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, fn: str, help: str,
                into: argparse._SubParsersAction[argparse.ArgumentParser] = sub
                ) -> argparse.ArgumentParser:
        p = into.add_parser(name, help=help, description=help)
        p.set_defaults(fn=_lazy(fn))
        _data_dir(p)
        return p

    p = command("init", "server.cmd_init", "create a data directory with a new master key")
    p.add_argument("--base-url", help="public URL of the server, e.g. https://pod.example/")
    p = command("serve", "server.cmd_serve",
                "run the server (initialising the data directory if new)")
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default 8000)")
    p.add_argument("--base-url", help="public URL of the server")
    p.add_argument("--workers", type=int, help="server processes sharing the port and the "
                   "store (default 1; the setting workers)")

    pods = sub.add_parser("pod", help="create, delete, export or import pods").add_subparsers(
        dest="pod_command", required=True, metavar="ACTION")
    p = command("create", "pods.cmd_pod_create", "create a pod with a WebID profile", pods)
    p.add_argument("name")
    p.add_argument("--public-write", action="store_true",
                   help="give EVERYONE full access (benchmarks and conformance runs only)")
    p = command("delete", "pods.cmd_pod_delete",
                "delete a pod without an account, destroying its key first", pods)
    p.add_argument("name")
    p = command("quota", "quotas.cmd_pod_quota", "set a pod's own quota of bytes and "
                "resources (over the settings max_pod_bytes, max_pod_resources); prints its "
                "usage", pods)
    p.add_argument("name")
    for what in ("bytes", "resources"):
        p.add_argument(f"--{what}", type=limit, default=argparse.SUPPRESS, metavar="N",
                       help=f"most {what} the pod may hold (0: unlimited; 'default': the "
                       "server's setting)")
    p = command("usage", "quotas.cmd_pod_usage",
                "what a pod holds (bytes, resources) and its quota", pods)
    p.add_argument("name")
    p = command("export", "archives.cmd_pod_export", "write the whole pod (resources "
                "decrypted, with its access log) into one zip archive FILE", pods)
    p.add_argument("name")
    p.add_argument("file", metavar="FILE", help="the archive to write (never overwritten)")
    p = command("import", "archives.cmd_pod_import", "import an archive as a new pod NAME, "
                "or into an account's pod that holds only what a new pod starts with", pods)
    p.add_argument("name")
    p.add_argument("file", metavar="FILE", help="a pod archive made by `pod export`")

    accounts = sub.add_parser("account", help="manage accounts").add_subparsers(
        dest="account_command", required=True, metavar="ACTION")
    p = command("create", "pods.cmd_account_create",
                "create an account with its own pod and WebID (name = pod name)", accounts)
    p.add_argument("name")
    p.add_argument("--password-file", metavar="F",
                   help="read the password from file F ('-' for stdin); else prompt twice")
    p = command("delete", "pods.cmd_account_delete",
                "delete an account: its pod (key first), sessions, credentials and tokens; "
                "tells its apps; frees the name", accounts)
    p.add_argument("name")

    invites = sub.add_parser("invite", help="sign-up invitations (signup = \"invite\")"
                             ).add_subparsers(dest="invite_command", required=True,
                                              metavar="ACTION")
    p = command("create", "invites.cmd_invite_create",
                "print a one-time sign-up link (when the setting signup is \"invite\")", invites)
    p.add_argument("--days", type=days, default=7.0, metavar="N",
                   help="how long the link works (default 7; fractions allowed)")

    creds = sub.add_parser("credentials", help="client credentials for scripts and servers"
                           ).add_subparsers(dest="credentials_command", required=True,
                                            metavar="ACTION")
    p = command("create", "credentials.cmd_credentials_create",
                "create a client credential acting as the account's WebID", creds)
    p.add_argument("account")
    p.add_argument("--label", default="command line", help="a name to recognise it by")
    p = command("list", "credentials.cmd_credentials_list",
                "list an account's client credentials", creds)
    p.add_argument("account")
    p = command("revoke", "credentials.cmd_credentials_revoke", "revoke a client credential", creds)
    p.add_argument("account")
    p.add_argument("client_id")

    key_cmds = sub.add_parser("keys", help="manage the master key").add_subparsers(
        dest="keys_command", required=True, metavar="ACTION")
    command("rotate", "server.cmd_keys_rotate", "replace the master key, rewrapping pod keys",
            key_cmds)

    stores = sub.add_parser("store", help="move the sealed store between backends"
                            ).add_subparsers(dest="store_command", required=True,
                                             metavar="ACTION")
    p = stores.add_parser("copy", help=COPY_HELP, description=COPY_HELP)
    p.set_defaults(fn=_lazy("stores.cmd_store_copy"))
    p.add_argument("--from", dest="source", required=True, metavar="URL",
                   help="the store to copy: a SQLite file or a postgresql:// URL")
    p.add_argument("--to", dest="target", required=True, metavar="URL",
                   help="an empty store to copy into: a SQLite file (made if missing) or a "
                   "postgresql:// URL")

    vc = sub.add_parser("vc", help="verifiable credentials").add_subparsers(
        dest="vc_command", required=True, metavar="ACTION")
    p = command("sign", "vc.cmd_vc_sign",
                "sign a credential with the pod's key (eddsa-rdfc-2022), publishing the key "
                "in the owner's WebID profile on first use", vc)
    p.add_argument("file", metavar="FILE", help="the unsigned credential ('-' for stdin)")
    p.add_argument("--pod", metavar="NAME",
                   help="the signing pod (default: the pod whose WebID is the issuer)")
    p.add_argument("--output", "-o", metavar="F", help="write the signed credential to F")
    p = command("verify", "vc.cmd_vc_verify",
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
        fn: Callable[[argparse.Namespace], int] = args.fn  # set by each command's parser
        return fn(args)
    except (ConfigError, CommandError, PodError, StoreError) as exc:
        print(f"commonpod: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"commonpod: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

