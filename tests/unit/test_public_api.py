"""The library API in ``govkit/__init__.py``: every name resolves, and importing is cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

import govkit


@pytest.mark.parametrize("name", [n for n in govkit.__all__ if n != "__version__"])
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(govkit, name) is not None


def test_all_lists_exactly_the_lazy_names() -> None:
    assert set(govkit.__all__) - {"__version__"} == set(govkit._API)


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = govkit.no_such_thing  # type: ignore[attr-defined]


def test_importing_govkit_and_its_cli_does_not_load_presidio_or_spacy() -> None:
    code = (
        "import sys, govkit, govkit.cli; "
        "print(sorted(m for m in ('presidio_analyzer', 'spacy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


#: What `govkit --help` and `govkit --version` must not import: each costs tenths of a second.
HEAVY = ("sqlalchemy", "presidio_analyzer", "spacy", "pyarrow", "pandas", "faker", "rich.table", "rich.console",
         "cryptography", "govkit.cli.commands.scan", "govkit.cli.commands.dsr")


@pytest.mark.parametrize("argv", [["--help"], ["--version"]])
def test_govkit_help_and_version_import_no_heavy_library(argv: list[str]) -> None:
    """Module absence, not time: the start-up speed itself is measured in
    benchmarks/startup_bench.py."""
    code = (
        "import sys\nfrom govkit.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = result.stderr.strip().splitlines()[-1]
    assert loaded == "[]"
