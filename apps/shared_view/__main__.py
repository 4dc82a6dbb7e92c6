"""``python -m apps.shared_view``: the same as ``commonpod-app shared-view``."""

import sys

from apps.shared_view.cli import main

sys.exit(main())
