from __future__ import annotations

import pytest

from govkit.actions.anonymize.operators import OperatorContext
from govkit.keys import Keyset, KeyVersion, key_id_of


def keyset_of(material: bytes, *retired: bytes) -> Keyset:
    """A keyset in memory: ``material`` primary, ``retired`` older versions."""
    versions = [KeyVersion(key_id_of(m), "", m, "retired") for m in retired]
    versions.append(KeyVersion(key_id_of(material), "", material, "primary"))
    return Keyset(tuple(versions), "test keyset")


@pytest.fixture
def context() -> OperatorContext:
    return OperatorContext(keyset_of(b"k" * 32))


@pytest.fixture
def other_context() -> OperatorContext:
    return OperatorContext(keyset_of(b"o" * 32))
