"""Workspace keys: the keyset on disk, purpose-bound subkeys, rotation, and the CI override."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from govkit.errors import KeyMaterialError
from govkit.keys import (
    KeyVersion,
    derive,
    init_keys,
    key_id_of,
    keys_dir,
    keyset_path,
    load_keyset,
    parse_key,
    rotate_keys,
)

MATERIAL = bytes(range(32))


@pytest.fixture(autouse=True)
def clean_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOVKIT_KEY", raising=False)
    monkeypatch.delenv("GOVKIT_KEY_FILE", raising=False)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    folder = tmp_path / ".govkit"
    folder.mkdir()
    return folder


def _key_file(tmp_path: Path, text: str, mode: int) -> Path:
    path = tmp_path / "ci.key"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


# -- the keyset on disk ------------------------------------------------------------------------


def test_init_creates_an_owner_only_keyset(state_dir: Path) -> None:
    keyset = init_keys(state_dir)
    assert stat.S_IMODE(keys_dir(state_dir).stat().st_mode) == 0o700
    assert stat.S_IMODE(keyset_path(state_dir).stat().st_mode) == 0o600
    (version,) = keyset.versions
    assert version.status == "primary"
    assert len(version.material) == 32
    assert version.id == key_id_of(version.material)
    stored = json.loads(keyset_path(state_dir).read_text())
    assert stored["format"] == 1
    assert stored["keys"] == [{**version.public(), "material": base64.b64encode(version.material).decode()}]
    assert load_keyset(state_dir) == keyset


def test_init_refuses_to_overwrite(state_dir: Path) -> None:
    init_keys(state_dir)
    with pytest.raises(KeyMaterialError, match="already exists; use 'govkit keys rotate'"):
        init_keys(state_dir)


def test_init_tightens_a_too_open_keys_folder(state_dir: Path) -> None:
    keys_dir(state_dir).mkdir(mode=0o755)
    init_keys(state_dir)
    assert stat.S_IMODE(keys_dir(state_dir).stat().st_mode) == 0o700


def test_no_keys_is_a_clear_error(state_dir: Path) -> None:
    with pytest.raises(KeyMaterialError, match="run 'govkit keys init'") as caught:
        load_keyset(state_dir)
    assert caught.value.exit_code == 2


def test_rotation_keeps_old_keys_as_retired(state_dir: Path) -> None:
    first = init_keys(state_dir).primary
    second = rotate_keys(state_dir).primary
    keyset = rotate_keys(state_dir)
    assert [(v.id, v.status) for v in keyset.versions] == [
        (first.id, "retired"), (second.id, "retired"), (keyset.primary.id, "primary"),
    ]
    assert keyset.get(first.id).material == first.material
    assert load_keyset(state_dir) == keyset
    assert stat.S_IMODE(keyset_path(state_dir).stat().st_mode) == 0o600


def test_rotate_needs_a_keyset(state_dir: Path) -> None:
    with pytest.raises(KeyMaterialError, match="govkit keys init"):
        rotate_keys(state_dir)


def test_too_open_keyset_is_refused(state_dir: Path) -> None:
    init_keys(state_dir)
    keyset_path(state_dir).chmod(0o644)
    with pytest.raises(KeyMaterialError, match=r"mode 0644.*chmod 600"):
        load_keyset(state_dir)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.update(format=2), "format 1"),
        (lambda d: d["keys"][0].update(status="retired"), "0 primary keys"),
        (lambda d: d["keys"][0].update(material="AAAA"), "does not hold 32 base64 bytes"),
        (lambda d: d["keys"][0].update(id="k0000000000000000"), "does not match its material"),
        (lambda d: d["keys"][0].pop("created_at"), "needs string fields"),
    ],
)
def test_corrupt_keyset_is_a_clear_error(state_dir: Path, change: object, reason: str) -> None:
    init_keys(state_dir)
    path = keyset_path(state_dir)
    document = json.loads(path.read_text())
    material = document["keys"][0]["material"]
    change(document)  # type: ignore[operator]
    path.write_text(json.dumps(document))
    with pytest.raises(KeyMaterialError, match=reason) as caught:
        load_keyset(state_dir)
    assert material not in str(caught.value)


def test_unparseable_keyset(state_dir: Path) -> None:
    init_keys(state_dir)
    keyset_path(state_dir).write_text("{not json")
    with pytest.raises(KeyMaterialError, match="not a valid govkit keyset"):
        load_keyset(state_dir)


# -- subkeys -------------------------------------------------------------------------------------


def test_subkeys_are_bound_to_their_purpose(state_dir: Path) -> None:
    keyset = init_keys(state_dir)
    key_id, audit = keyset.derive("audit-log")
    _, pseudonyms = keyset.derive("pseudonymize")
    assert key_id == keyset.primary.id
    assert len(audit) == 32
    assert audit != pseudonyms
    assert keyset.primary.material not in (audit, pseudonyms)
    assert keyset.derive("audit-log") == (key_id, audit)  # deterministic
    assert derive(state_dir, "audit-log") == (key_id, audit)
    assert len(keyset.derive("encrypt", length=64)[1]) == 64


def test_subkeys_of_a_retired_key(state_dir: Path) -> None:
    old = init_keys(state_dir)
    old_id, old_subkey = old.derive("audit-log")
    rotated = rotate_keys(state_dir)
    assert rotated.derive("audit-log", old_id) == (old_id, old_subkey)
    assert rotated.derive("audit-log")[0] != old_id
    with pytest.raises(KeyMaterialError, match="k0000 is not in"):
        rotated.derive("audit-log", "k0000")


@pytest.mark.parametrize("purpose", ["", "Audit", "audit log", "audit/log", "-x"])
def test_purpose_must_be_a_plain_name(state_dir: Path, purpose: str) -> None:
    with pytest.raises(ValueError, match="purpose"):
        init_keys(state_dir).derive(purpose)


def test_material_never_in_repr(state_dir: Path) -> None:
    keyset = init_keys(state_dir)
    text = repr(keyset) + str(keyset.primary)
    assert "material=" not in text
    assert keyset.primary.material.hex() not in text
    assert repr(keyset.primary.material) not in text


# -- GOVKIT_KEY / GOVKIT_KEY_FILE ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        base64.b64encode(MATERIAL).decode(),
        base64.b64encode(MATERIAL).decode().rstrip("="),
        base64.urlsafe_b64encode(MATERIAL).decode(),
        MATERIAL.hex(),
        MATERIAL.hex().upper(),
        f"  {MATERIAL.hex()}\n",
    ],
)
def test_parse_key_accepts_base64_and_hex(text: str) -> None:
    assert parse_key(text, "GOVKIT_KEY") == MATERIAL


@pytest.mark.parametrize(
    "text",
    ["", "   ", "not a key", MATERIAL.hex()[:-2], base64.b64encode(MATERIAL[:16]).decode(),
     base64.b64encode(MATERIAL + b"x").decode(), "zz" * 32],
)
def test_parse_key_rejects_anything_else(text: str) -> None:
    with pytest.raises(KeyMaterialError, match="GOVKIT_KEY") as caught:
        parse_key(text, "GOVKIT_KEY")
    assert not text.strip() or text.strip() not in str(caught.value)


def test_govkit_key_overrides_the_keyset(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init_keys(state_dir)
    monkeypatch.setenv("GOVKIT_KEY", base64.b64encode(MATERIAL).decode())
    keyset = load_keyset(state_dir)
    assert keyset.overridden
    assert keyset.source == "GOVKIT_KEY"
    assert keyset.versions == (KeyVersion(key_id_of(MATERIAL), "", MATERIAL, "primary"),)


def test_same_material_same_id_wherever_it_comes_from(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file_key = init_keys(state_dir).primary
    monkeypatch.setenv("GOVKIT_KEY", file_key.material.hex())
    assert load_keyset(state_dir).primary.id == file_key.id


def test_empty_govkit_key_is_an_error_not_a_fallback(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI secret that did not reach the job must not silently fall back to another key."""
    init_keys(state_dir)
    monkeypatch.setenv("GOVKIT_KEY", "")
    with pytest.raises(KeyMaterialError, match="GOVKIT_KEY is empty"):
        load_keyset(state_dir)


def test_garbled_govkit_key(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY", "hunter2hunter2")
    with pytest.raises(KeyMaterialError, match="GOVKIT_KEY does not hold a key") as caught:
        load_keyset(state_dir)
    assert "hunter2" not in str(caught.value)
    assert caught.value.exit_code == 2


def test_govkit_key_file(state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _key_file(tmp_path, base64.b64encode(MATERIAL).decode() + "\n", 0o600)
    monkeypatch.setenv("GOVKIT_KEY_FILE", str(path))
    keyset = load_keyset(state_dir)
    assert keyset.primary.material == MATERIAL
    assert keyset.source == f"GOVKIT_KEY_FILE {path}"


def test_read_only_key_file_is_fine(state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY_FILE", str(_key_file(tmp_path, MATERIAL.hex(), 0o400)))
    assert load_keyset(state_dir).primary.material == MATERIAL


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o666])
def test_key_file_readable_by_others_is_refused(
    state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    path = _key_file(tmp_path, MATERIAL.hex(), mode)
    monkeypatch.setenv("GOVKIT_KEY_FILE", str(path))
    with pytest.raises(KeyMaterialError) as caught:
        load_keyset(state_dir)
    message = str(caught.value)
    assert message == (
        f"GOVKIT_KEY_FILE {path} has mode {mode:04o}, so other users can read it; "
        f"set it to owner-only with: chmod 600 {path}"
    )
    assert "\n" not in message
    assert MATERIAL.hex() not in message
    assert caught.value.exit_code == 2


def test_missing_key_file(state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY_FILE", str(tmp_path / "nope.key"))
    with pytest.raises(KeyMaterialError, match=r"nope\.key: no such file"):
        load_keyset(state_dir)


def test_garbled_key_file(state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _key_file(tmp_path, "hunter2hunter2\n", 0o600)
    monkeypatch.setenv("GOVKIT_KEY_FILE", str(path))
    with pytest.raises(KeyMaterialError, match=f"key file {path} does not hold a key") as caught:
        load_keyset(state_dir)
    assert "hunter2" not in str(caught.value)


def test_both_overrides_set_is_ambiguous(state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY", MATERIAL.hex())
    monkeypatch.setenv("GOVKIT_KEY_FILE", str(_key_file(tmp_path, MATERIAL.hex(), 0o600)))
    with pytest.raises(KeyMaterialError, match="set only one"):
        load_keyset(state_dir)


def test_rotation_refused_under_an_override(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init_keys(state_dir)
    before = keyset_path(state_dir).read_bytes()
    monkeypatch.setenv("GOVKIT_KEY", MATERIAL.hex())
    with pytest.raises(KeyMaterialError, match="GOVKIT_KEY is set and overrides the workspace keyset"):
        rotate_keys(state_dir)
    assert keyset_path(state_dir).read_bytes() == before


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root reads any file")
def test_unreadable_key_file(state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY_FILE", str(_key_file(tmp_path, MATERIAL.hex(), 0o000)))
    with pytest.raises(KeyMaterialError, match="cannot open it"):
        load_keyset(state_dir)
