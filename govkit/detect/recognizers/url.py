"""URL, including scheme-qualified links to a host without a public domain.

Replaces Presidio's ``UrlRecognizer`` and keeps its four patterns. Those need a known
top-level domain (``.com``, ``.org``...) so that plain text such as ``file.txt`` or
``e.g`` is not read as a link. A value that starts with ``http://`` or ``https://`` is a
link whatever its host, and intranet hosts have no domain at all: Northwind's
``Employees.PhotoPath`` holds ``http://accweb/emmployees/davolio.bmp``, a link to the
employee's photo (named after them). So one more pattern takes a scheme, a single-label host
and a path; the scheme and the slash after the host make it unambiguous. Its score is 0.5,
below the built-in's 0.6 for a URL with a known domain.

Not covered: ``localhost`` (the machine itself, never a person's resource: health checks
and API calls in logs), hosts written as IP addresses (IP_ADDRESS reports those) and dotted
hosts under an unknown domain (``intranet.corp``).
"""

from __future__ import annotations

from typing import Any

from presidio_analyzer import Pattern
from presidio_analyzer.predefined_recognizers import UrlRecognizer

from ._registry import register

INTRANET_URL = Pattern(
    "URL with scheme and intranet host",
    r"(?i)\bhttps?://(?!localhost\b)[a-z][a-z0-9\-]{0,62}(?::\d{1,5})?/[^\s\"'<>]*",
    0.5,
)


@register(replaces="UrlRecognizer")
class GovkitUrlRecognizer(UrlRecognizer):
    """Presidio's URL recognizer plus scheme-qualified links to single-label (intranet) hosts."""

    def __init__(self, supported_language: str = "en", **kwargs: Any) -> None:
        kwargs.setdefault("patterns", [*UrlRecognizer.PATTERNS, INTRANET_URL])
        super().__init__(supported_language=supported_language, **kwargs)
