"""Quality evaluation of briefwatch on real corpora (``../shared/corpora``).

One command runs everything and prints each figure beside its goal or a reference measured
in the same run (see ``docs/quality.md``)::

    .venv/bin/python -m eval.run_all [--json out.json] [--quick]

Modules, one per evaluation:

- :mod:`eval.main_content` — main-content extraction against trafilatura (wraps
  :mod:`eval.extraction`);
- :mod:`eval.chrome` — speaker turns and page chrome on the whitehouse.gov 2020 pages;
- :mod:`eval.false_alarms` — pairs whose visible text did not change must be ``unchanged``;
- :mod:`eval.edits` — real post-publication edits of wh-briefings pages are found;
- :mod:`eval.turns` — speaker turns of 1,154 press-briefing transcripts;
- :mod:`eval.edgi` — ranking of the labelled EDGI pairs by :mod:`eval.significance`.

Ground truths are built independently of the parsers (lxml walks and regular expressions
over the raw pages, the published diffs); :mod:`eval.mdtext` and :mod:`eval.turnmatch` hold
the shared pieces. The product is exercised through its real ingest path
(:mod:`eval.ingest`: ``briefwatch.pipeline.steps`` into a temporary
:class:`briefwatch.store.Store`).
"""
