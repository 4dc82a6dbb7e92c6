"""What every command shares: its error type and how it reads settings."""

from __future__ import annotations

import argparse

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


