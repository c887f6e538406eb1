"""The recognizer registry: a dict keyed by class name, filled by a class decorator.

Kept apart from ``__init__`` so that recognizer modules can import ``register``
without importing the package that imports them (no circular import, no E402).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from presidio_analyzer import EntityRecognizer

T = TypeVar("T", bound=EntityRecognizer)

#: Our recognizer classes, keyed by class name (which is also each instance's
#: default ``name``, the key Presidio's ``RecognizerRegistry.remove_recognizer`` uses).
RECOGNIZERS: dict[str, type[EntityRecognizer]] = {}

#: Our class name -> the Presidio built-in class name it replaces.
REPLACES: dict[str, str] = {}

#: New entity types we introduce (not replacements of Presidio's) -> one-line description.
GOVKIT_ENTITIES: dict[str, str] = {}


def register(replaces: str | None = None) -> Callable[[type[T]], type[T]]:
    """Class decorator adding a recognizer to :data:`RECOGNIZERS`.

    ``replaces`` names a Presidio built-in recognizer *by its default name*, i.e. its
    class name (``"IpRecognizer"``); :func:`govkit.detect.recognizers.install` removes
    it from a registry before adding ours.

    A recognizer that introduces a new entity (``replaces is None``) must declare
    class attributes ``ENTITY`` and ``DESCRIPTION``; they feed :data:`GOVKIT_ENTITIES`,
    so adding an entity is one new file plus one import line, not a second edit here.
    """

    def decorator(cls: type[T]) -> type[T]:
        name = cls.__name__
        existing = RECOGNIZERS.get(name)
        if existing is not None and (existing.__module__, existing.__qualname__) != (
            cls.__module__,
            cls.__qualname__,
        ):
            raise ValueError(f"recognizer name {name!r} already registered by {existing.__module__}")
        if replaces is None:
            entity = getattr(cls, "ENTITY", None)
            description = getattr(cls, "DESCRIPTION", None)
            if not isinstance(entity, str) or not isinstance(description, str):
                raise TypeError(f"{name} adds a new entity: declare ENTITY and DESCRIPTION class attributes")
            GOVKIT_ENTITIES[entity] = description
        else:
            REPLACES[name] = replaces
        RECOGNIZERS[name] = cls
        return cls

    return decorator
