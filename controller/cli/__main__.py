"""`python -m controller.cli`: the same program as `smartcross`."""

import sys

from . import main

sys.exit(main())
