"""``python -m mllib.cli``: the same as the ``mllib`` command."""

from . import main

raise SystemExit(main())
