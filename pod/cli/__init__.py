"""The ``commonpod`` command line (see :mod:`pod.cli.main`)."""

from pod.cli.main import main

__all__ = ["main"]
