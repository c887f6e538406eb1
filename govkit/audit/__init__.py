"""The audit log: every govkit action, appended, hash-chained and signed; see :mod:`govkit.audit.log`."""

from govkit.audit.action import AuditEntry, audit_action
from govkit.audit.log import AuditLog, AuditLogError, Head, Record, VerifyResult
from govkit.audit.scrub import scrub

__all__ = ["AuditEntry", "AuditLog", "AuditLogError", "Head", "Record", "VerifyResult", "audit_action", "scrub"]
