"""Anonymization: the operator registry, plans, exporters, in-place rewriting, free text.

Kept import-light on purpose: :mod:`govkit.policy.schema` reads the operator registry from
:mod:`.operators`, and the policy must not pull in databases or exporters to load.
The entry point is :func:`govkit.actions.anonymize.run.anonymize`.
"""
