"""briefwatch's tests, one folder per package (tests/support: shared helpers)."""
