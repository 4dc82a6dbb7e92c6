"""``python -m apps.reputation``: the same as ``commonpod-app reputation``."""

import sys

from apps.reputation.cli import main

sys.exit(main())
