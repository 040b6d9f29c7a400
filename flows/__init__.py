"""Prefect layer: the only package that imports prefect."""
