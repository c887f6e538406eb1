"""Pure domain types shared by every layer: no I/O, no click, no SQLAlchemy sessions."""

from govkit.model.findings import Address, Finding, ScanReport, ScanStats, Skipped

__all__ = ["Address", "Finding", "ScanReport", "ScanStats", "Skipped"]
