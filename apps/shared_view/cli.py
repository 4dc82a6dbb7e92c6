"""``commonpod-app shared-view …`` (or ``python -m apps.shared_view …``): start the app for a
community. Settings given here are written to the community's pod at start; the rest is read
from there."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from apps.community_kit.cli import community_options, reading_options, serve
from apps.shared_view.config import Config, Credential, SettingsChange
from apps.shared_view.model import Project

if TYPE_CHECKING:
    from starlette.applications import Starlette


def _project(text: str) -> Project:
    iri, sep, name = text.partition("=")
    if not sep or not iri.startswith(("https://", "http://")) or not name.strip():
        raise argparse.ArgumentTypeError("a project is IRI=Name, e.g. "
                                         "https://repair.example/#project=Repair café")
    return Project(iri, name.strip())


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="commonpod-app shared-view",
        description="The shared view of a community's contributions across members' pods.")
    community_options(p, port=8700)
    p.add_argument("--refresh-every", type=float, default=900.0, metavar="SECONDS")
    p.add_argument("--min-refresh-gap", type=float, default=2.0, metavar="SECONDS",
                   help="an on-demand refresh sooner than this after the last is skipped")
    p.add_argument("--noise-cap", type=int, default=100,
                   help="contributions per member a noisy release counts at most")
    reading_options(p)
    s = p.add_argument_group("community settings (kept as RDF in the community's pod)")
    s.add_argument("--name")
    s.add_argument("--description")
    s.add_argument("--purpose", help="a DPV purpose (default dpv:OrganisationGovernance)")
    s.add_argument("--project", action="append", type=_project, metavar="IRI=NAME",
                   help="a project the community tracks (repeat; replaces the list)")
    s.add_argument("--k", type=int, help="the disclosure threshold (default 5)")
    s.add_argument("--duration", help="how long members grant access for (default P90D)")
    s.add_argument("--epsilon", help="differential-privacy ε per release (0: no noise)")
    s.add_argument("--budget", help="the total ε the community may spend")
    return p


def config_of(args: argparse.Namespace) -> Config:
    """The app's configuration from parsed arguments; ``ValueError`` when wrong."""
    return Config(
        community=args.community, credential=Credential.from_file(args.credentials),
        public_url=args.public_url, host=args.host, port=args.port,
        refresh_every=args.refresh_every, min_refresh_gap=args.min_refresh_gap,
        concurrency=args.concurrency, per_server=args.per_server, timeout=args.timeout,
        noise_cap=args.noise_cap, allow_private_fetch=args.allow_private_fetch,
        settings=SettingsChange(
            name=args.name, description=args.description, purpose=args.purpose,
            projects=tuple(args.project) if args.project else None, k=args.k,
            duration=args.duration, epsilon=args.epsilon, budget=args.budget))


def main(argv: Sequence[str] | None = None) -> int:
    """Start the app; it runs until stopped."""
    return serve(parser(), argv, config_of, _create_app)


def _create_app(config: Config) -> Starlette:
    from apps.shared_view.web import create_app  # after the arguments are known good

    return create_app(config)
