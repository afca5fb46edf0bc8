"""Resync and reconcile: rebuild the desired remote state from the stored events and compare.

- `desired`: replay a case's stored events through the pure planner → its operations, and
  fold them per remote item (what each item should look like now).
- `remote`: read what exists remotely (plans with their collections, the archive case and
  its documents) through the target clients' read methods — GETs and SIF Get* only.
- `findings`: what is said about one item (`Finding`, `Action`, the problem texts).
- `diff`: pure — desired vs remote vs the outbox → findings (create, update, adopt,
  unchanged, report).
- `converge`: apply findings through the normal outbox and dispatcher (`stafett resync`).
- `reconcile`: findings as drift, changing nothing (`stafett reconcile`, the service job).
"""

from __future__ import annotations

from adapter.resync.converge import ResyncReport, case_keys, resync
from adapter.resync.diff import Action, CaseDiff, Finding, diff_case
from adapter.resync.reconcile import ReconcileReport, reconcile, record_drift

__all__ = [
    "Action",
    "CaseDiff",
    "Finding",
    "ReconcileReport",
    "ResyncReport",
    "case_keys",
    "diff_case",
    "reconcile",
    "record_drift",
    "resync",
]
