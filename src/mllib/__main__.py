"""``python -m mllib``: the same as the ``mllib`` command."""

from .cli import main

raise SystemExit(main())
