"""What every command shares: its error type, how it reads settings, and the argument types
of more than one command's module."""

from __future__ import annotations

import argparse

from auth.invites import MAX_DAYS
from pod import settings as config
from pod.settings import Settings

EXIT_USAGE, EXIT_FAILED = 2, 1


class CommandError(Exception):
    """A command that cannot do what was asked; the message says why."""


SETTING_FLAGS = ("data_dir", "base_url", "host", "port", "master_key_file", "store", "workers")
"""The command-line flags that are settings."""


def settings_of(args: argparse.Namespace) -> Settings:
    """Settings for a command: its flags over the environment over the data directory's file."""
    return config.load({name: getattr(args, name, None) for name in SETTING_FLAGS})


def days(value: str) -> float:
    """How long an invitation lasts, in days (a fraction for less than one)."""
    try:
        n = float(value)
    except ValueError:
        n = -1.0
    if not 0 < n <= MAX_DAYS:  # (also refuses nan and inf)
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of days above 0 and at "
                                         f"most {MAX_DAYS:g}")
    return n


DEFAULT = "default"
"""A quota argument naming the server's setting."""


def limit(value: str) -> int | None:
    """A quota given on the command line: a whole number (0: unlimited), or ``default`` for
    the server's setting."""
    if value == DEFAULT:
        return None
    if not value.isdigit():
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a whole number (0: unlimited) or {DEFAULT!r}")
    return int(value)
