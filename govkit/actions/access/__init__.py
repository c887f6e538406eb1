"""Access rules, enforced: what a policy role may read, and the database made to match.

The policy's ``access.roles`` say, per role, which fields it may read in clear, masked
(with which operator) or not at all; :class:`govkit.policy.resolve.Resolver` decides it
field by field. This package turns those decisions into four things:

* ``show.py``: the decisions for one role over every inventoried field, with the rule
  (``file:line``) behind each (``govkit access show``);
* ``export.py``: an export of a source as that role may see it, through the anonymize
  exporters (``govkit access export``);
* ``catalog.py`` + ``review.py``: the privileges the database really grants (PostgreSQL,
  MariaDB/MySQL), compared with the policy (``govkit access review``);
* ``sql.py`` + ``apply.py``: the SQL that makes the database match (per-role masking views,
  grants, revokes), run through the change engine (``govkit access apply``).
"""
