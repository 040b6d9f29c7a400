"""``python -m briefwatch``: the command line."""

from briefwatch.cli import main

raise SystemExit(main())
