"""``python -m validation ARGS``: the same as ``lifecircle validation ARGS``."""

import sys

from lifecircle.cli import main

sys.exit(main(["validation", *sys.argv[1:]]))
