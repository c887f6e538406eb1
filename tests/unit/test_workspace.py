"""The workspace: govkit.toml + .govkit/, finding it, loading it, and ``${ENV}`` expansion."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from govkit.errors import ConfigError, WorkspaceNotFound
from govkit.workspace import (
    CONFIG_NAME,
    STATE_DIR,
    SourceConfig,
    find_workspace,
    init_workspace,
    load_workspace,
)


def _write_config(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_NAME
    path.write_text(text, encoding="utf-8")
    return path


def _no_workspace_above(folder: Path) -> bool:
    return not any((p / CONFIG_NAME).is_file() for p in (folder, *folder.parents))


# -- init ------------------------------------------------------------------------------------


def test_init_writes_config_and_state_dir(tmp_path: Path) -> None:
    path = init_workspace(tmp_path / "ws")
    assert path == tmp_path / "ws" / CONFIG_NAME
    assert path.is_file()
    assert (tmp_path / "ws" / STATE_DIR).is_dir()
    gitignore = tmp_path / "ws" / STATE_DIR / ".gitignore"
    assert gitignore.read_text().splitlines()[-1] == "*"
    workspace = load_workspace(tmp_path / "ws", search=False)
    assert workspace.root == (tmp_path / "ws").resolve()
    assert workspace.sources == {}
    assert workspace.detection.sample_size == 1000
    assert workspace.detection.seed == 42


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = init_workspace(tmp_path)
    path.write_text("# my edits\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="already exists") as info:
        init_workspace(tmp_path)
    assert str(path) in str(info.value)
    assert path.read_text(encoding="utf-8") == "# my edits\n"
    init_workspace(tmp_path, force=True)
    assert "[detection]" in path.read_text(encoding="utf-8")


def test_init_sources_round_trip_with_env_reference_kept_literal(tmp_path: Path) -> None:
    url = "postgresql://app:${SHOP_DB_PASSWORD}@db.internal/shop"
    init_workspace(tmp_path, {"shop": url, "local": "sqlite:///shop.db"})
    workspace = load_workspace(tmp_path, search=False)
    assert set(workspace.sources) == {"shop", "local"}
    assert workspace.sources["shop"].url == url
    assert workspace.sources["shop"].kind == "database"
    assert "${SHOP_DB_PASSWORD}" in (tmp_path / CONFIG_NAME).read_text(encoding="utf-8")


def test_init_source_url_with_backslash_round_trips(tmp_path: Path) -> None:
    url = r"sqlite:///C:\data\shop.db"
    init_workspace(tmp_path, {"win": url})
    assert load_workspace(tmp_path, search=False).sources["win"].url == url


# -- finding the workspace ----------------------------------------------------------------------


def test_find_workspace_walks_up_from_a_subfolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init_workspace(tmp_path / "ws")
    deep = tmp_path / "ws" / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert find_workspace(deep) == (tmp_path / "ws").resolve()
    monkeypatch.chdir(deep)
    assert find_workspace() == (tmp_path / "ws").resolve()
    assert load_workspace().root == (tmp_path / "ws").resolve()


def test_find_workspace_prefers_the_nearest(tmp_path: Path) -> None:
    init_workspace(tmp_path / "outer")
    init_workspace(tmp_path / "outer" / "inner")
    (tmp_path / "outer" / "inner" / "x").mkdir()
    assert find_workspace(tmp_path / "outer" / "inner" / "x") == (tmp_path / "outer" / "inner").resolve()


def test_find_workspace_fails_with_a_hint(tmp_path: Path) -> None:
    if not _no_workspace_above(tmp_path):
        pytest.skip("a govkit.toml exists above the temporary folder")
    with pytest.raises(WorkspaceNotFound) as info:
        find_workspace(tmp_path)
    assert "govkit init" in str(info.value)
    assert info.value.exit_code == 2


def test_workspace_option_does_not_search_upwards(tmp_path: Path) -> None:
    """``--workspace DIR`` means exactly DIR: load_workspace(DIR, search=False)."""
    init_workspace(tmp_path / "ws")
    sub = tmp_path / "ws" / "sub"
    sub.mkdir()
    assert load_workspace(tmp_path / "ws", search=False).root == (tmp_path / "ws").resolve()
    with pytest.raises(WorkspaceNotFound) as info:
        load_workspace(sub, search=False)
    assert str(sub.resolve()) in str(info.value)
    # Without search=False the same folder finds the workspace above it.
    assert load_workspace(sub).root == (tmp_path / "ws").resolve()


def test_load_recreates_missing_state_dir(tmp_path: Path) -> None:
    _write_config(tmp_path, "")
    workspace = load_workspace(tmp_path, search=False)
    assert workspace.state_dir.is_dir()
    assert workspace.inventory_path == tmp_path.resolve() / STATE_DIR / "inventory.db"


# -- ${ENV} expansion ---------------------------------------------------------------------------


def test_env_reference_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_TEST_PW", "hunter2-Xy")
    _write_config(tmp_path, '[sources.shop]\nurl = "postgresql://app:${GOVKIT_TEST_PW}@db.internal/shop"\n')
    source = load_workspace(tmp_path, search=False).source("shop")
    assert source.url == "postgresql://app:${GOVKIT_TEST_PW}@db.internal/shop"
    assert source.resolved_url() == "postgresql://app:hunter2-Xy@db.internal/shop"


def test_unset_env_variable_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "TopSecretUserValue-9183"
    monkeypatch.setenv("GOVKIT_TEST_USER", secret)
    monkeypatch.delenv("GOVKIT_TEST_MISSING", raising=False)
    _write_config(
        tmp_path,
        '[sources.shop]\nurl = "postgresql://${GOVKIT_TEST_USER}:${GOVKIT_TEST_MISSING}@db.internal/shop"\n',
    )
    source = load_workspace(tmp_path, search=False).source("shop")
    with pytest.raises(ConfigError) as info:
        source.resolved_url()
    message = str(info.value)
    assert "GOVKIT_TEST_MISSING" in message
    assert "'shop'" in message
    assert secret not in message
    leaked = [name for name, value in os.environ.items() if len(value) >= 8 and value in message]
    assert leaked == []


def test_unknown_source_name_lists_known_ones(tmp_path: Path) -> None:
    _write_config(tmp_path, '[sources.shop]\nurl = "sqlite:///shop.db"\n')
    with pytest.raises(ConfigError) as info:
        load_workspace(tmp_path, search=False).source("crm")
    assert "'crm'" in str(info.value)
    assert "shop" in str(info.value)


# -- invalid configuration ------------------------------------------------------------------------

INVALID = {
    "bad toml": "[sources.shop\nurl = 1\n",
    "unknown detection key": "[detection]\nsample_sise = 10\n",
    "unknown source key": '[sources.shop]\nurl = "sqlite:///a.db"\npassword = "x"\n',
    "detection wrong type": '[detection]\nsample_size = "ten"\n',
    "detection bool for int": "[detection]\nseed = true\n",
    "detection sample_size zero": "[detection]\nsample_size = 0\n",
    "include not a list": '[sources.shop]\nurl = "sqlite:///a.db"\ninclude = "users"\n',
    "exclude list of ints": '[sources.shop]\nurl = "sqlite:///a.db"\nexclude = [1, 2]\n',
    "source not a table": '[sources]\nshop = "sqlite:///a.db"\n',
    "both url and path": '[sources.shop]\nurl = "sqlite:///a.db"\npath = "exports/"\n',
    "neither url nor path": '[sources.shop]\ninclude = ["*"]\n',
}


@pytest.mark.parametrize("text", INVALID.values(), ids=INVALID.keys())
def test_invalid_config_is_a_config_error_naming_the_file(tmp_path: Path, text: str) -> None:
    path = _write_config(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_workspace(tmp_path, search=False)
    message = str(info.value)
    assert str(path) in message
    assert "\n" not in message


WRONG_TYPES_NOT_CAUGHT = {
    "url not a string": "[sources.shop]\nurl = 5\n",
    "path not a string": "[sources.shop]\npath = 5\n",
    "sources not a table": "sources = 5\n",
    "detection not a table": "detection = 5\n",
}


@pytest.mark.parametrize("text", WRONG_TYPES_NOT_CAUGHT.values(), ids=WRONG_TYPES_NOT_CAUGHT.keys())
def test_wrong_types_are_config_errors(tmp_path: Path, text: str) -> None:
    path = _write_config(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_workspace(tmp_path, search=False)
    assert str(path) in str(info.value)


def test_min_confidence_accepts_an_int(tmp_path: Path) -> None:
    _write_config(tmp_path, '[detection]\nmin_confidence = 1\nmodel = "none"\n')
    detection = load_workspace(tmp_path, search=False).detection
    assert detection.min_confidence == 1.0
    assert isinstance(detection.min_confidence, float)
    assert detection.model is None


# -- relative SQLite paths ------------------------------------------------------------------------


def test_relative_sqlite_url_resolves_against_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_config(tmp_path / "ws", '[sources.shop]\nurl = "sqlite:///data/shop.db"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    url = load_workspace(tmp_path / "ws", search=False).source("shop").resolved_url()
    assert url == "sqlite:///" + str((tmp_path / "ws" / "data" / "shop.db").resolve())
    assert url.startswith("sqlite:////")


@pytest.mark.parametrize("url", ["sqlite:////var/data/shop.db", "sqlite:///:memory:", "postgresql://app@db/shop"])
def test_absolute_and_non_file_urls_stay(tmp_path: Path, url: str) -> None:
    _write_config(tmp_path, f'[sources.shop]\nurl = "{url}"\n')
    assert load_workspace(tmp_path, search=False).source("shop").resolved_url() == url


def test_source_without_root_is_not_rewritten() -> None:
    assert SourceConfig(name="x", url="sqlite:///rel.db").resolved_url() == "sqlite:///rel.db"
