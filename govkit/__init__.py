"""govkit: find personal data, keep a data map, and act on privacy policy."""

__version__ = "0.1.0"
