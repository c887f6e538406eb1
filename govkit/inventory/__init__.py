"""The persistent data map: scan runs, assets, fields, findings, labels."""
