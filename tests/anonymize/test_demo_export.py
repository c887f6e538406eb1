"""The demo's analyst export (issue #15): no original street part, city or region where k
allows, and its k, l and information loss reported."""

from __future__ import annotations

import base64
import csv
import re
import sqlite3
from pathlib import Path

import pytest

from govkit.demo import create_demo_workspace
from govkit.demo_tour import EXPORT_PATH, QUASI_IDENTIFIERS, K, L, anonymized_export
from govkit.workspace import load_workspace

KEY = base64.b64encode(b"D" * 32).decode()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os

    root = tmp_path_factory.mktemp("demo") / "shop"
    saved = os.environ.get("GOVKIT_KEY")
    os.environ["GOVKIT_KEY"] = KEY
    try:
        create_demo_workspace(root, customers=200, tour=False)
    finally:
        if saved is None:
            os.environ.pop("GOVKIT_KEY", None)
        else:
            os.environ["GOVKIT_KEY"] = saved
    return root


def test_the_analyst_export_keeps_what_k_allows_and_no_street(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY", KEY)
    monkeypatch.chdir(demo)
    step = anonymized_export(load_workspace(demo, search=False))
    assert step.verified
    report = step.anonymity
    assert report["achieved_k"] >= K
    assert report["achieved_l"] >= L
    assert 0 < report["loss"]["non_uniform_entropy"] < 1
    assert report["nodes_checked"] <= report["lattice_size"]
    levels = report["levels"]
    assert set(levels) == set(QUASI_IDENTIFIERS)
    assert step.export_risk.k >= K

    with sqlite3.connect(demo / "shop.db") as conn:
        source = {str(r[0]): r[1:] for r in conn.execute("SELECT id, street, city, country FROM customers")}
    with (demo / EXPORT_PATH).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    streets = {s for s, _, _ in source.values() if s}
    for row in rows:
        street, city, country = source[row["id"]]
        assert row["street"] not in streets  # no original street, whole
        if street:
            for part in (p.strip() for p in street.split(",")):
                if len(part) > 3 and part not in (city, country):
                    assert part not in row["street"], "a street part survived"
        # the city column holds the city, its region, its country or *, as the level says
        expected = {"exact": {city}, "region": None, "country": {country}, "*": {"*"}}[levels["city"]]
        if expected is not None and city:
            assert row["city"] in expected
        # the street became the row's city (and followed it to its level), or went up
        assert row["street"] in {row["city"], country, "*", ""} or re.fullmatch(r"[A-Z]{2}-\w+", row["street"])
