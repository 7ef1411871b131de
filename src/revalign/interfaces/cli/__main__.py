"""``python -m revalign.interfaces.cli``."""

import sys

from revalign.interfaces.cli import main

sys.exit(main())
