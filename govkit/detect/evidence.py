"""Masked evidence: enough of a value for a human to recognise the kind, never the value.

Evidence is stored in the inventory, printed by ``govkit explain`` and shipped in JSON
reports, so it must be safe to paste into a ticket: an email keeps its first letter, its
domain's first letter and the top-level domain (``j***@e******.com``); a mostly-numeric
value (phone, card, tracking number, hash) keeps at most its first three and last four
letters or digits (``138****5678``); words keep only their first letter (``L*** G*******``).
Values are cut to 40 characters before masking.
"""

from __future__ import annotations

MASK = "*"
_MAX_EVIDENCE_CHARS = 40


def mask(value: str, entity_type: str | None = None) -> str:
    """Mask ``value`` for display, keeping only a few characters at its edges."""
    value = value.strip()
    if not value:
        return value
    if len(value) > _MAX_EVIDENCE_CHARS:
        value = value[:_MAX_EVIDENCE_CHARS]
    if entity_type == "EMAIL_ADDRESS" or (entity_type is None and _looks_like_email(value)):
        return _mask_email(value)
    digits = sum(c.isdigit() for c in value)
    if digits >= 7 and digits >= len(value) * 0.6:
        return _mask_digits(value)
    return _mask_words(value)


def _looks_like_email(value: str) -> bool:
    return value.count("@") == 1 and "." in value.split("@", 1)[1]


def _mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    host, dot, tld = domain.rpartition(".")
    if not dot:
        host, tld = domain, ""
    masked_local = local[:1] + MASK * 3
    masked_host = host[:1] + MASK * max(len(host) - 1, 1)
    return f"{masked_local}@{masked_host}{dot}{tld[:4]}"


def _mask_digits(value: str) -> str:
    """Keep a few leading and the last four characters at most; punctuation stays in place.

    Letters are masked like digits: in ``1Z999AA10123456784`` or a hex hash they are as
    much a part of the value as the digits.
    """
    positions = [i for i, c in enumerate(value) if c.isalnum()]
    keep_head = 3 if len(positions) >= 11 else 2 if len(positions) >= 9 else 1
    keep_tail = 4 if len(positions) >= 11 else 2
    keep = set(positions[:keep_head]) | set(positions[-keep_tail:])
    chars = [c if (i in keep or not c.isalnum()) else MASK for i, c in enumerate(value)]
    return "".join(chars)


def _mask_words(value: str) -> str:
    """``Luís Gonçalves`` -> ``L*** G*******``; short values lose everything but one char."""
    out = []
    for word in value.split(" "):
        if len(word) <= 1:
            out.append(MASK if word else word)
        else:
            out.append(word[0] + MASK * (len(word) - 1))
    return " ".join(out)
