"""``commonpod-app``: the community apps built on the SDK, one subcommand each
(``commonpod-app shared-view --help``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

APPS = {"shared-view": "the shared view of a community's contributions (apps/shared_view)",
        "reputation": "transparent reputation under the community's own rules (apps/reputation)",
        "rewards": "Open Badges for members who meet the rules' badges (apps/rewards)"}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in APPS:
        print("usage: commonpod-app APP [options]\n\napps:", file=sys.stderr)
        for name, what in APPS.items():
            print(f"  {name:12} {what}", file=sys.stderr)
        return 0 if args[:1] in (["-h"], ["--help"]) else 2
    if args[0] == "reputation":
        from apps.reputation.cli import main as reputation

        return reputation(args[1:])
    if args[0] == "rewards":
        from apps.rewards.cli import main as rewards

        return rewards(args[1:])
    from apps.shared_view.cli import main as shared_view

    return shared_view(args[1:])


if __name__ == "__main__":
    sys.exit(main())
