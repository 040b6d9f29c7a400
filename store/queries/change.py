"""Stored changes as report dicts: one query shape for run reports, page timelines, the
speaker view and reviews.

A change dict (``briefwatch.contract.Change``) has the JSON report contract's fields
(``id, type, kind, speaker, old_speaker, old, new, numbers, words, similarity, position,
old_position``) plus, added by this release: ``significance`` (``low|medium|high``, computed now by
:mod:`briefwatch.diff.significance`), ``significance_reason``, ``review_status``
(``unreviewed|reviewed|dismissed|flagged``), ``review_note``, ``reviewed_at``, ``reviewer``,
``run_id``, ``from_version`` and ``to_version`` (version numbers), ``superseded_by_run``
(the ``briefwatch reparse`` run after which the parsers no longer produce the change; null
for a current change).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlite_utils import Database

from briefwatch.contract import Change, UnscoredChange
from briefwatch.diff.significance import assess_dict
from briefwatch.store.rows import from_json

_SELECT = """
    SELECT c.*, coalesce(ovs.text, os.text) AS old_text, coalesce(nvs.text, ns.text) AS new_text,
           fv.number AS from_number, tv.number AS to_number,
           cr.status AS review_status, cr.note AS review_note, cr.created_at AS reviewed_at,
           cr.reviewer AS reviewer
    FROM changes c
    JOIN versions tv ON tv.id = c.to_version_id
    LEFT JOIN versions fv ON fv.id = c.from_version_id
    LEFT JOIN statements os ON os.id = c.old_statement_id
    LEFT JOIN statements ns ON ns.id = c.new_statement_id
    LEFT JOIN version_statements ovs ON ovs.version_id = c.from_version_id
         AND ovs.position = c.old_position AND ovs.statement_id = c.old_statement_id
    LEFT JOIN version_statements nvs ON nvs.version_id = c.to_version_id
         AND nvs.position = c.position AND nvs.statement_id = c.new_statement_id
    LEFT JOIN current_reviews cr ON cr.change_id = c.id
"""


class StoredChange(Change, total=False):
    """A change dict with the private keys ``changes_where`` adds (dropped before a report
    is returned)."""

    _to_version_id: int
    _page_id: int


def with_significance(change: UnscoredChange) -> Change:
    """``change`` with ``significance`` and ``significance_reason`` added."""
    assessment = assess_dict(change)
    return {**change, "significance": assessment.level.label,
            "significance_reason": assessment.reason}


def change_dict(row: Mapping[str, Any]) -> Change:
    return with_significance(
        {
            "id": row["id"],
            "type": row["type"],
            "kind": row["kind"],
            "speaker": row["speaker"],
            "old_speaker": row["old_speaker"],
            "old": row["old_text"],
            "new": row["new_text"],
            "numbers": from_json(row["numbers"]),
            "words": from_json(row["words"]),
            "similarity": row["similarity"],
            "position": row["position"],
            "old_position": row["old_position"],
            "review_status": row["review_status"] or "unreviewed",
            "review_note": row["review_note"],
            "reviewed_at": row["reviewed_at"],
            "reviewer": row["reviewer"],
            "run_id": row["run_id"],
            "from_version": row["from_number"],
            "to_version": row["to_number"],
            "superseded_by_run": row["superseded_run_id"],
        }
    )


def added_dict(
    row: Mapping[str, Any], *, run_id: int | None, version: int | None
) -> Change:
    """A statement of a page's first version, reported as ``added`` (no change row: no id,
    so it cannot be reviewed; its review status stays ``unreviewed``)."""
    return with_significance(
        {
            "id": None,
            "type": "added",
            "kind": row["kind"],
            "speaker": row["speaker"],
            "old_speaker": None,
            "old": None,
            "new": row["text"],
            "numbers": [],
            "words": [],
            "similarity": None,
            "position": row["position"],
            "old_position": None,
            "review_status": "unreviewed",
            "review_note": None,
            "reviewed_at": None,
            "reviewer": None,
            "run_id": run_id,
            "from_version": None,
            "to_version": version,
            "superseded_by_run": None,
        }
    )


def changes_where(db: Database, where: str, params: Sequence[Any]) -> list[StoredChange]:
    """Change dicts of the changes matching ``where`` (SQL over alias ``c``), in diff order."""
    sql = f"{_SELECT} WHERE {where} ORDER BY c.to_version_id, c.id"
    return [_stored(change_dict(row), row) for row in db.query(sql, list(params))]


def _stored(change: Change, row: Mapping[str, Any]) -> StoredChange:
    stored: StoredChange = {**change, "_to_version_id": row["to_version_id"],
                            "_page_id": row["page_id"]}
    return stored


def without_private(change: StoredChange) -> tuple[Change, int]:
    """A ``changes_where`` change without its private keys (in place), and its page id."""
    change.pop("_to_version_id", None)
    return change, change.pop("_page_id")


def grouped_by_version(changes: list[StoredChange]) -> dict[int, list[Change]]:
    """``changes_where`` output grouped by the id of the version they lead to (the private
    ``_to_version_id`` / ``_page_id`` keys are dropped)."""
    grouped: dict[int, list[Change]] = defaultdict(list)
    for change in changes:
        version_id = change.pop("_to_version_id")
        change.pop("_page_id", None)
        grouped[version_id].append(change)
    return grouped
