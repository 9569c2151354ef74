"""``python -m hiitpi`` = the ``hiitpi`` command."""

import sys

from hiitpi.cli import main

sys.exit(main())
