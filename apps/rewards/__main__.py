import sys

from apps.rewards.cli import main

sys.exit(main())
