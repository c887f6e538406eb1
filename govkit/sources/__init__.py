"""Adapters that read (and later write) the places personal data lives."""
