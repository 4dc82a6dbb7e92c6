"""``python -m pod`` runs the ``commonpod`` command line."""

from pod.cli import main

raise SystemExit(main())
