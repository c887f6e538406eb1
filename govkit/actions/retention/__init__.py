"""Retention, enforced: the plan (``plan.py``) of what each rule would remove, counted in SQL.

``retention apply`` (delete, anonymize, archive through the change engine) builds on it.
"""

from govkit.actions.retention.plan import RetentionPlan, RetentionStep, Suggestion, plan_retention

__all__ = ["RetentionPlan", "RetentionStep", "Suggestion", "plan_retention"]
