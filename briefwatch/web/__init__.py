"""Fetching web pages: HTTP fetch, politeness, block pages, discovery, source config."""
