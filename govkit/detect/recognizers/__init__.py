"""govkit's own Presidio recognizers, and a registry to install them.

Each recognizer lives in its own module and registers itself with ``@register()``
(new entity) or ``@register(replaces="PresidioClassName")`` (a stricter version of a
built-in). Adding one is one new file plus one import line below.

Names: like Presidio, every recognizer instance is named after its class unless
``name=`` is given. :data:`REPLACES` refers to built-ins by that default name, which is
what :meth:`RecognizerRegistry.remove_recognizer` matches; a built-in added under a
custom name is not removed by :func:`install`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from presidio_analyzer import EntityRecognizer, RecognizerRegistry

from . import (  # noqa: F401  (imported to register)
    cn_bank_card,
    cn_passport,
    cn_phone_number,
    cn_resident_id,
    cn_uscc,
    ip_address,
    phone_number,
    uk_nino,
    url,
)
from ._registry import GOVKIT_ENTITIES, RECOGNIZERS, REPLACES, register

__all__ = [
    "GOVKIT_ENTITIES",
    "RECOGNIZERS",
    "REPLACES",
    "build_recognizers",
    "install",
    "register",
]


def build_recognizers(supported_language: str = "en") -> list[EntityRecognizer]:
    """Fresh instances of every registered recognizer, for ``supported_language``.

    Fresh because recognizers carry per-instance state (ids used by the analyzer to
    attribute results, compiled patterns); sharing instances across registries would
    tie them together.
    """
    # EntityRecognizer's own __init__ needs supported_entities; every registered
    # class fixes its entity and takes supported_language alone (tested).
    factories = [cast(Callable[..., EntityRecognizer], cls) for cls in RECOGNIZERS.values()]
    return [factory(supported_language=supported_language) for factory in factories]


def install(registry: RecognizerRegistry, supported_language: str = "en") -> None:
    """Swap govkit's recognizers into a Presidio registry, for one language.

    Removes the built-ins we replace (by name, for that language only), removes any
    earlier govkit instances so calling this twice does not duplicate them, then adds
    fresh instances of ours.
    """
    for name in (*REPLACES.values(), *RECOGNIZERS):
        registry.remove_recognizer(name, language=supported_language)
    for recognizer in build_recognizers(supported_language):
        registry.add_recognizer(recognizer)
