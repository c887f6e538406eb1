"""``.csv.gz`` and ``.tsv.gz`` scan like their plain forms (issue 14: they were once skipped
as "corrupt gzip (UnsupportedOperation)")."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pytest

from tests.files.conftest import Scan, entities_of


@pytest.mark.parametrize(("name", "delimiter"), [("people.csv", ","), ("people.tsv", "\t")])
def test_gzipped_delimited_files_scan_like_plain_ones(
    tmp_path: Path, scan: Scan, western: list[dict[str, str]], name: str, delimiter: str
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["first_name", "last_name", "email"])
    writer.writerows([p["first"], p["last"], p["email"]] for p in western)
    plain, packed = tmp_path / "plain", tmp_path / "packed"
    plain.mkdir()
    packed.mkdir()
    (plain / name).write_text(buffer.getvalue(), encoding="utf-8")
    (packed / f"{name}.gz").write_bytes(gzip.compress(buffer.getvalue().encode("utf-8")))
    expected, got = scan(plain), scan(packed)
    assert not [s for s in got.skipped if "gzip" in str(s)]
    for column in ("first_name", "last_name", "email"):
        assert entities_of(got, f"{name}.gz", column) == entities_of(expected, name, column)
    assert entities_of(got, f"{name}.gz", "email") == {"EMAIL_ADDRESS"}
