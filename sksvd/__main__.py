"""``python -m sksvd``: the same as the ``sksvd`` command."""

import sys

from sksvd.cli import main

sys.exit(main())
