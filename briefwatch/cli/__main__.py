"""``python -m briefwatch.cli``: the command line (as ``python -m briefwatch``)."""

from briefwatch.cli import main

raise SystemExit(main())
