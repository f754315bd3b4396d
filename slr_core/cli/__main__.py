"""`python -m slr_core.cli` (what torchrun starts): the `slr` command."""

import sys

from . import main

sys.exit(main())
