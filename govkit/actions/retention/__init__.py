"""Retention, enforced.

* ``plan.py``: what each rule would remove, counted in SQL (``retention plan``);
* ``apply.py``: delete, anonymize or archive through the change engine (``retention apply``);
* ``files.py``: the same for files dated by ``$mtime`` or the date in their name;
* ``archive.py`` / ``restore.py``: sealed archives and bringing them back (``archive``);
* ``state.py``: watermarks of anonymize rules and the last enforcement run per rule.
"""

from govkit.actions.retention.plan import RetentionPlan, RetentionStep, Suggestion, plan_retention

__all__ = ["RetentionPlan", "RetentionStep", "Suggestion", "plan_retention"]
