"""The command-line options every community app takes, and starting its web app."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

Config = TypeVar("Config")


def community_options(p: argparse.ArgumentParser, port: int) -> None:
    """``--community``, ``--credentials``, ``--public-url``, ``--host``, ``--port``."""
    p.add_argument("--community", required=True,
                   help="the community's WebID (an account on a Commonpod server)")
    p.add_argument("--credentials", required=True, type=Path,
                   help="a file with the JSON `commonpod credentials create` printed for the "
                        "community's account (client_id, client_secret, issuer)")
    p.add_argument("--public-url", required=True,
                   help="where members' browsers reach this app, ending in /")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=port)


def reading_options(p: argparse.ArgumentParser) -> None:
    """How members' pods are read: ``--concurrency``, ``--per-server``, ``--timeout``,
    ``--allow-private-fetch``."""
    p.add_argument("--concurrency", type=int, default=16, help="pods read at once in all")
    p.add_argument("--per-server", type=int, default=8, help="pods read at once per server")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per member's pod")
    p.add_argument("--allow-private-fetch", action="store_true",
                   help="let members name servers on loopback or private addresses (tests)")


def serve(parser: argparse.ArgumentParser, argv: Sequence[str] | None,
          config_of: Callable[[argparse.Namespace], Config],
          create_app: Callable[[Config], Any]) -> int:
    """Parse ``argv``, make the configuration (2 and a message when wrong) and run the app
    ``create_app`` makes of it until stopped. ``create_app`` imports the web app only then."""
    args = parser.parse_args(argv)
    try:
        config = config_of(args)
    except ValueError as exc:
        print(f"{parser.prog}: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import uvicorn

    host, port = args.host, args.port
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning",
                proxy_headers=False)
    return 0
