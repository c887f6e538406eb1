"""Actions that change data: anonymization and the re-identification risk it must lower."""
