"""The run lifecycle in plain Python: read/fetch, parse, store, diff, report, deliver."""
