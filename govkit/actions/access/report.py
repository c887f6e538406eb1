"""The audit report's "Access review" section, from the last stored review of each source.

The report never connects to a database: it shows what the last ``govkit access review``
found (stored in ``.govkit/access/``), with its date, so an old review reads as old. A
source whose review could not assess anything (SQLite, a folder) says "not assessed";
with no review at all the report keeps its "not run yet" notice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govkit.actions.access.review import stored_reviews


@dataclass(slots=True)
class AccessReviewView:
    status: str
    message: str
    policy: dict[str, Any]
    reviewed_at: str | None = None
    sources: list[dict[str, Any]] = field(default_factory=list)
    violations: int = 0


def access_review_view(state_dir: Path, roles: list[str]) -> AccessReviewView | None:
    """The section from the stored reviews, or None when no review ever ran."""
    reviews = stored_reviews(state_dir)
    if not reviews:
        return None
    sources: list[dict[str, Any]] = []
    for review in reviews:
        findings = review.get("findings") or []
        sources.append({
            "source": review.get("source"), "dialect": review.get("dialect"), "assessed": review.get("assessed"),
            "reason": review.get("reason") or "", "reviewed_at": review.get("reviewed_at"),
            "users": [{"user": u["user"], "role": u.get("role"), "admin": u.get("admin"),
                       "in_clear": len(u.get("clear") or []), "masked": len(u.get("masked") or [])}
                      for u in review.get("users") or []],
            "violations": [f for f in findings if f.get("kind") in ("role-violation", "public-grant",
                                                                      "unmapped-user")],
            "other_findings": [f for f in findings if f.get("kind") not in ("role-violation", "public-grant",
                                                                              "unmapped-user")],
            "row_security": review.get("row_security") or [],
        })
    assessed = [s for s in sources if s["assessed"]]
    violations = sum(len(s["violations"]) for s in assessed)
    latest = max((str(s["reviewed_at"]) for s in sources if s["reviewed_at"]), default=None)
    if not assessed:
        message = ("Access review: not assessed. The reviewed sources have no database users or privileges "
                   "(SQLite, folders of files).")
    elif violations:
        message = (f"Access review: {violations} violation(s) in {len(assessed)} reviewed source(s): users who can "
                   "read personal data in clear that their policy role may only see masked or not at all, PUBLIC "
                   "grants, or users with no policy role. 'govkit access apply SOURCE' fixes the grants.")
    else:
        message = (f"Access review: no violation in {len(assessed)} reviewed source(s) as of the last review; "
                   "administrators, if any, are listed below.")
    return AccessReviewView("reviewed", message, {"roles": roles}, latest, sources, violations)
