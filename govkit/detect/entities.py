"""The catalogue of entity types govkit knows, with a default severity.

Names follow Presidio's where they exist so that findings, policies and Presidio operators
speak one vocabulary. The severity here is only a default for ``--fail-on`` before a policy
classifies the data; policies (``policies/``) override it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Severity(IntEnum):
    """How bad it is to find this entity unprotected; ordered so that comparisons work."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name for s in cls)
            from govkit.errors import UsageError

            raise UsageError(f"unknown severity {text!r}; expected one of {names}") from None


@dataclass(frozen=True)
class EntityType:
    name: str
    description: str
    category: str
    severity: Severity


_CATALOGUE: dict[str, EntityType] = {}


def register_entity(name: str, description: str, category: str, severity: Severity) -> None:
    _CATALOGUE[name] = EntityType(name, description, category, severity)


def entity(name: str) -> EntityType:
    """Look an entity type up; unknown names (a user's custom recognizer) default to MEDIUM."""
    return _CATALOGUE.get(name) or EntityType(name, name.replace("_", " ").lower(), "other", Severity.MEDIUM)


def known_entities() -> list[str]:
    return sorted(_CATALOGUE)


_H, _M, _L = Severity.HIGH, Severity.MEDIUM, Severity.LOW
for _name, _desc, _cat, _sev in [
    ("PERSON", "a person's name", "identity", _M),
    ("EMAIL_ADDRESS", "an email address", "contact", _M),
    ("PHONE_NUMBER", "a phone or fax number", "contact", _M),
    ("LOCATION", "a postal address or place tied to a person", "contact", _M),
    ("DATE_TIME", "a date describing a person (e.g. birth date)", "identity", _M),
    ("NRP", "nationality, religious or political group", "special", _H),
    ("IP_ADDRESS", "an IP address", "online", _L),
    ("MAC_ADDRESS", "a device MAC address", "online", _L),
    ("URL", "a URL (may identify a person's page)", "online", _L),
    ("CREDIT_CARD", "a payment card number", "financial", _H),
    ("IBAN_CODE", "an international bank account number", "financial", _H),
    ("US_BANK_NUMBER", "a US bank account number", "financial", _H),
    ("CRYPTO", "a crypto wallet address", "financial", _H),
    ("US_SSN", "a US social security number", "government_id", _H),
    ("US_ITIN", "a US taxpayer identification number", "government_id", _H),
    ("US_PASSPORT", "a US passport number", "government_id", _H),
    ("US_DRIVER_LICENSE", "a US driver licence number", "government_id", _H),
    ("UK_NHS", "a UK NHS number", "health", _H),
    ("UK_NINO", "a UK national insurance number", "government_id", _H),
    ("MEDICAL_LICENSE", "a medical licence number", "government_id", _M),
    ("CN_RESIDENT_ID", "a PRC resident identity card number", "government_id", _H),
    ("CN_PHONE_NUMBER", "a mainland China mobile number", "contact", _M),
    ("CN_USCC", "a PRC unified social credit code (organisations; personal for sole traders)", "government_id", _L),
    ("CN_BANK_CARD", "a China UnionPay bank card number", "financial", _H),
    ("CN_PASSPORT", "a PRC passport number", "government_id", _H),
]:
    register_entity(_name, _desc, _cat, _sev)
