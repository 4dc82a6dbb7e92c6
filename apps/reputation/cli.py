"""``commonpod-app reputation …`` (or ``python -m apps.reputation …``): start the reputation
app for a community. The rules live in the community's pod (version 1 is written at the first
start); members change them on the app's pages."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from apps.community_kit.cli import community_options, reading_options, serve
from apps.reputation.config import Config
from apps.shared_view.config import Credential

if TYPE_CHECKING:
    from starlette.applications import Starlette


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="commonpod-app reputation",
        description="Transparent reputation for a community, under rules its members govern.")
    community_options(p, port=8710)
    p.add_argument("--key-file", required=True, type=Path,
                   help="the community's Ed25519 statement key (32 bytes, mode 0600); made "
                        "there if it does not exist, and published in the community's profile")
    p.add_argument("--name", default="Our community", help="the community's name, as shown")
    p.add_argument("--run-every", type=float, default=86_400.0, metavar="SECONDS",
                   help="seconds between runs (scores computed, statements given)")
    p.add_argument("--duration", default="P90D",
                   help="how long members are asked to grant access for (ISO 8601)")
    reading_options(p)
    return p


def config_of(args: argparse.Namespace) -> Config:
    """The app's configuration from parsed arguments; ``ValueError`` when wrong."""
    return Config(
        community=args.community, credential=Credential.from_file(args.credentials),
        key_file=args.key_file, public_url=args.public_url, name=args.name, host=args.host,
        port=args.port, run_every=args.run_every, concurrency=args.concurrency,
        per_server=args.per_server, timeout=args.timeout, duration=args.duration,
        allow_private_fetch=args.allow_private_fetch)


def main(argv: Sequence[str] | None = None) -> int:
    """Start the app; it runs until stopped."""
    return serve(parser(), argv, config_of, _create_app)


def _create_app(config: Config) -> Starlette:
    from apps.reputation.web import create_app  # after the arguments are known good

    return create_app(config)
