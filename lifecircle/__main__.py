"""``python -m lifecircle``: the command line."""

import sys

from lifecircle.cli import main

sys.exit(main())
