"""``python -m neutrino.cli``."""

import sys

from neutrino.cli import main

sys.exit(main())
