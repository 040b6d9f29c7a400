"""The briefwatch command line, one module per command group (``app`` builds the parser)."""

from briefwatch.cli.app import main

__all__ = ["main"]
