"""Links-table keys with a meaning of their own.

Payload fields named `*_link` hold links-table keys (``plan:stafettlogg``, ``goal:G1``, …)
that the dispatcher resolves to remote ids. One key is special: `LEAD_LINK` names the plan
lead (the stafettholder or coordinator), who is no participant; the dispatcher resolves it
to itself and the Samspill client sends it as the literal lead marker.
"""

from __future__ import annotations

__all__ = ["LEAD_LINK"]

LEAD_LINK = "lead"
"""The links key of the plan lead, resolved to itself (the project's one definition)."""
