"""Phone-number regions govkit tries for numbers written without a country code.

Kept apart from the recognizers so that code needing only the list (the whole-value phone
validator) does not import Presidio, which costs seconds at CLI start-up.
"""

DEFAULT_PHONE_REGIONS: tuple[str, ...] = (
    "CN", "FR", "DE", "GB", "BR", "US", "IN", "CA", "IT", "ES", "AU", "JP",
)  # fmt: skip
