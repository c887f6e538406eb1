"""The realworld server loader's pure parts (benchmarks/accuracy_realworld_servers.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from accuracy_realworld_servers import _mysql_statements, drop, new_name


def test_delimiter_sections_go_one_statement_at_a_time() -> None:
    script = "\n".join([
        "CREATE DATABASE sakila;",
        "USE sakila;",
        "CREATE TABLE a (x INT);",
        "INSERT INTO a VALUES (1);",
        "DELIMITER ;;",
        "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN",
        "  SET NEW.x = 2;",
        "END;;",
        "CREATE PROCEDURE p() BEGIN SELECT 1; END ;;",
        "DELIMITER ;",
        "INSERT INTO a VALUES ('a;b');",
    ])
    assert list(_mysql_statements(script)) == [
        "CREATE TABLE a (x INT);\nINSERT INTO a VALUES (1);",
        "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN\n  SET NEW.x = 2;\nEND",
        "CREATE PROCEDURE p() BEGIN SELECT 1; END",
        "INSERT INTO a VALUES ('a;b');",
    ]


def test_per_run_names_are_unique_and_only_they_can_be_dropped() -> None:
    names = {new_name() for _ in range(50)}
    assert len(names) == 50
    assert all(n.startswith("gk_rw_") and len(n) == 16 for n in names)
    with pytest.raises(ValueError, match="not a per-run"):
        drop("postgresql", "test")
    with pytest.raises(ValueError, match="not a per-run"):
        drop("mariadb", "govkit_chinook")
