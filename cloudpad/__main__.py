"""``python -m cloudpad``: the same as the ``cloudpad`` command."""

import sys

from cloudpad.cli import main

sys.exit(main())
