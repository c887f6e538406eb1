"""JSON -> JSON: values rewritten at their JSON paths, everything else kept, malformed lines left out."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from faker import Faker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govkit.actions.anonymize.export import VerificationFailed
from govkit.actions.anonymize.jsonfile import _last_key, rule_matches
from govkit.actions.anonymize.plan import Rule
from govkit.actions.anonymize.run import AnonymizeRequest, anonymize
from govkit.cli import main
from govkit.errors import UsageError

KEY = base64.b64encode(b"j" * 32).decode()


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY", KEY)
    monkeypatch.delenv("GOVKIT_KEY_FILE", raising=False)


def records(count: int = 30) -> list[dict[str, Any]]:
    fake = Faker()
    fake.seed_instance(7)
    return [{"id": i, "user": {"email": fake.email(), "name": fake.name(), "tier": "gold"},
             "items": [{"sku": f"S{i}", "phone": fake.phone_number()} for _ in range(i % 3)],
             "e-mail": fake.email(), "score": 1.25 + i}
            for i in range(count)]


def write_lines(path: Path, rows: list[dict[str, Any]], extra: Sequence[str] = ()) -> Path:
    lines = [json.dumps(r) for r in rows]
    for i, line in enumerate(extra):
        lines.insert(2 + i * 3, line)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def read_lines(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


RULES = ["$.user.email=mask:keep_first=1", "$.items[*].phone=redact", "$['e-mail']=drop"]


@pytest.mark.parametrize("name", ["people.jsonl", "people.jsonl.gz", "people.ndjson"])
def test_jsonl_paths_rewritten_rest_kept(tmp_path: Path, name: str) -> None:
    rows = records()
    source = write_lines(tmp_path / name, rows)
    target = tmp_path / ("out.jsonl.gz" if name.endswith(".gz") else "out.jsonl")
    result = anonymize(AnonymizeRequest(str(source), to=str(target), rules=RULES))
    assert result.verified
    assert result.rows == len(rows)
    out = read_lines(target)
    assert len(out) == len(rows)
    for before, after in zip(rows, out, strict=True):
        assert list(after) == [k for k in before if k != "e-mail"]  # key order kept, dropped key gone
        assert list(after["user"]) == ["email", "name", "tier"]
        assert after["user"]["email"] != before["user"]["email"]
        assert after["user"]["email"][0] == before["user"]["email"][0]
        assert after["user"]["name"] == before["user"]["name"]  # not planned: untouched
        assert (after["id"], after["score"], after["user"]["tier"]) == (before["id"], before["score"], "gold")
        assert [i["phone"] for i in after["items"]] == [""] * len(before["items"])
        assert [i["sku"] for i in after["items"]] == [i["sku"] for i in before["items"]]
    assert not (tmp_path / (target.name + ".INCOMPLETE")).exists()


def test_key_rules_match_the_key_anywhere(tmp_path: Path) -> None:
    rows = records(10)
    source = write_lines(tmp_path / "p.jsonl", rows)
    result = anonymize(AnonymizeRequest(str(source), to=str(tmp_path / "o.jsonl"),
                                        rules=["email=pseudonymize", "phone=drop"]))
    fields = {p.field: p.spec for p in result.plan.fields.values()}
    assert fields["$.user.email"] == "pseudonymize"
    assert fields["$.items[*].phone"] == "drop"
    assert "$['e-mail']" not in fields  # another key
    out = read_lines(tmp_path / "o.jsonl")
    assert all(r["user"]["email"].endswith("@example.invalid") for r in out)
    assert all("phone" not in item for r in out for item in r["items"])


def test_malformed_lines_are_left_out_and_counted(tmp_path: Path, workspace_dir: Path) -> None:
    rows = records(12)
    secret = '{"user": {"email": "torn.line@example.com"'
    source = write_lines(tmp_path / "p.jsonl", rows, [secret, "not json at all"])
    out = tmp_path / "o.jsonl"
    runner = CliRunner()
    result = runner.invoke(main, ["anonymize", str(source), "--to", str(out), "--rule", "email=redact", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["malformed"], data["rows"]) == (2, 12)
    assert any("2 malformed JSON line(s) left out" in n for n in data["plan"]["notes"])
    assert "torn.line" not in out.read_text(encoding="utf-8")
    log = runner.invoke(main, ["log", "show", "--format", "json"])
    record = [r for r in json.loads(log.output)["records"] if r["action"] == "anonymize"][-1]
    assert record["counts"]["malformed"] == 2
    assert "torn.line" not in log.output


def test_json_document_streams_with_paths(tmp_path: Path) -> None:
    rows = records(8)
    source = tmp_path / "doc.json"
    text = json.dumps({"meta": {"total": 12.5, "owner": "ops"}, "records": rows}, indent=2)
    source.write_text(text.replace('"total": 12.5', '"total": 12.50'), encoding="utf-8")
    target = tmp_path / "out.json"
    result = anonymize(AnonymizeRequest(str(source), to=str(target), rules=[
        "$.records[*].user.email=hash", "$.records[*].items[*].phone=drop", "$.records[*].user=keep"]))
    assert result.verified
    assert result.rows == 1  # one document (a top-level array counts its elements)
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["meta"] == {"total": 12.5, "owner": "ops"}
    assert "12.50" in target.read_text(encoding="utf-8")  # numbers keep their digits
    for before, after in zip(rows, data["records"], strict=True):
        assert after["user"]["email"] != before["user"]["email"]
        assert len(after["user"]["email"]) == 64
        assert after["user"]["name"] == before["user"]["name"]
        assert all(list(item) == ["sku"] for item in after["items"])
        assert after["e-mail"] == before["e-mail"]


def test_top_level_array_and_drop_in_arrays(tmp_path: Path) -> None:
    source = tmp_path / "list.json"
    source.write_text(json.dumps([{"tags": ["a@example.com", "b"], "n": 1}, {"tags": [], "n": 2}]), encoding="utf-8")
    target = tmp_path / "o.json"
    result = anonymize(AnonymizeRequest(str(source), to=str(target), rules=["$[*].tags[*]=drop"]))
    assert result.rows == 2
    assert json.loads(target.read_text(encoding="utf-8")) == [{"tags": [None, None], "n": 1}, {"tags": [], "n": 2}]


def test_invalid_json_document_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "bad.json"
    source.write_text('{"user": {"email": "x@example.com", ', encoding="utf-8")
    with pytest.raises(UsageError, match="not valid JSON") as info:
        anonymize(AnonymizeRequest(str(source), to=str(tmp_path / "o.json"), rules=["email=redact"]))
    assert "x@example.com" not in str(info.value)
    assert not (tmp_path / "o.json").exists()


def test_verification_catches_personal_data_left_at_a_path(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "p.jsonl", records(10))
    with pytest.raises(VerificationFailed, match=r"\$\.user\.email") as info:
        anonymize(AnonymizeRequest(str(source), to=str(tmp_path / "o.jsonl"),
                                   rules=["$.user.email=generalize:to=prefix,bucket=200"]))
    assert "@" not in str(info.value)
    assert (tmp_path / "o.jsonl.INCOMPLETE").exists()


def test_dry_run_shows_path_rules_and_tabular_targets_still_work(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "p.jsonl", records(5))
    result = CliRunner().invoke(main, ["anonymize", str(source), "--dry-run", "--rule", "$.items[*].phone=redact"])
    assert result.exit_code == 0, result.output
    assert "$.items[*].phone" in result.output
    assert "nothing written" in result.output
    # to CSV: the tabular exporter (top-level keys as columns), as before
    csv_out = tmp_path / "o.csv"
    result = CliRunner().invoke(main, ["anonymize", str(source), "--to", str(csv_out), "--rule", "e-mail=redact"])
    assert result.exit_code == 0, result.output
    assert csv_out.read_text(encoding="utf-8").startswith("id,user,items,e-mail,score")


def test_rule_parsing_and_matching() -> None:
    rule = Rule.parse("$.user.email=mask")
    assert (rule.asset, rule.field) == ("*", "$.user.email")
    assert rule_matches(rule, "a.json", "$.user.email")
    assert not rule_matches(rule, "a.json", "$.user.emails")
    wild = Rule.parse("$.items[*].*=redact")
    assert rule_matches(wild, "a.json", "$.items[*].phone")
    assert not rule_matches(wild, "a.json", "$.other[*].phone")
    key = Rule.parse("e-mail=drop")
    assert rule_matches(key, "a.json", "$['e-mail']")
    assert rule_matches(key, "a.json", "$.x[*]['e-mail']")
    assert _last_key("$.items[*]") == "items"
    assert _last_key("$") is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.dictionaries(st.text(max_size=6), json_values, max_size=5), min_size=1, max_size=8))
def test_any_jsonl_keeps_structure_and_redacts_every_string(tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    source = write_lines(tmp_path / "h.jsonl", [{"payload": r} for r in rows])
    target = tmp_path / "h.out.jsonl"
    anonymize(AnonymizeRequest(str(source), to=str(target), rules=["$.payload=redact"], verify=False))
    out = read_lines(target)

    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        if isinstance(value, list):
            return [shape(v) for v in value]
        return "" if value is not None else None  # every non-null scalar under the path is redacted

    assert out == [{"payload": shape(r)} for r in rows]
    assert [list(o["payload"]) for o in out] == [list(r) for r in rows]


def test_values_under_an_object_plan_are_verified_against_it(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "p.jsonl", records(10))
    # the whole user object is "generalized" to 200 characters: its emails survive, and must be caught
    with pytest.raises(VerificationFailed, match=r"p\.jsonl:\$\.user: .* still show") as info:
        anonymize(AnonymizeRequest(str(source), to=str(tmp_path / "o.jsonl"),
                                   rules=["$.user=generalize:to=prefix,bucket=200"]))
    assert "@" not in str(info.value)


def test_bom_and_gzip_documents_and_non_utf8(tmp_path: Path) -> None:
    rows = records(4)
    lines = tmp_path / "bom.jsonl"
    lines.write_bytes(b"\xef\xbb\xbf" + "\n".join(json.dumps(r) for r in rows).encode("utf-8") + b"\n")
    result = anonymize(AnonymizeRequest(str(lines), to=str(tmp_path / "o.jsonl"), rules=["email=redact"]))
    assert (result.rows, result.malformed) == (4, 0)  # the BOM did not make the first line malformed
    document = tmp_path / "doc.json.gz"
    with gzip.open(document, "wb") as handle:
        handle.write(b"\xef\xbb\xbf" + json.dumps({"records": rows}).encode("utf-8"))
    anonymize(AnonymizeRequest(str(document), to=str(tmp_path / "o.json.gz"), rules=["email=redact"]))
    with gzip.open(tmp_path / "o.json.gz", "rt", encoding="utf-8") as handle:
        out = json.load(handle)
    assert [r["user"]["email"] for r in out["records"]] == [""] * 4
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"name": "Jos\u00e9", "email": "jose@example.com"}\n'.encode("latin-1"))
    with pytest.raises(UsageError, match="not UTF-8"):
        anonymize(AnonymizeRequest(str(latin), to=str(tmp_path / "l.jsonl"), rules=["email=redact"]))
    assert not (tmp_path / "l.jsonl").exists()


def test_a_minified_document_is_not_taken_for_lines(tmp_path: Path) -> None:
    source = tmp_path / "one.json"
    source.write_text(json.dumps({"users": records(3)}), encoding="utf-8")  # one long line
    anonymize(AnonymizeRequest(str(source), to=str(tmp_path / "o.json"), rules=["$.users[*].user.email=redact"]))
    data = json.loads((tmp_path / "o.json").read_text(encoding="utf-8"))
    assert [u["user"]["email"] for u in data["users"]] == ["", "", ""]


def test_inventory_paths_drive_json_and_tabular_exports(tmp_path: Path, workspace_dir: Path) -> None:
    flat = workspace_dir / "flat.jsonl"
    write_lines(flat, [{"id": r["id"], "email": r["user"]["email"], "tier": "gold"} for r in records(20)])
    nested = write_lines(workspace_dir / "nested.jsonl", records(20))
    runner = CliRunner()
    scan = runner.invoke(main, ["scan", str(flat), str(nested)])
    assert scan.exit_code in (0, 1), scan.output
    # flat JSON Lines to CSV: the inventory's $.email is the column email
    out = runner.invoke(main, ["anonymize", str(flat), "--to", str(tmp_path / "flat.csv"), "--json"])
    assert out.exit_code == 0, out.output
    fields = [f["field"] for f in json.loads(out.stdout)["plan"]["fields"]]
    assert "email" in fields
    text = (tmp_path / "flat.csv").read_text(encoding="utf-8")
    assert not any(r["user"]["email"] in text for r in records(20))
    # nested JSON Lines: path by path to JSON, refused as a table (a column would carry it whole)
    out = runner.invoke(main, ["anonymize", str(nested), "--to", str(tmp_path / "nested.jsonl"), "--json"])
    assert out.exit_code == 0, out.output
    assert "$.user.email" in [f["field"] for f in json.loads(out.stdout)["plan"]["fields"]]
    assert not any(r["user"]["email"] in (tmp_path / "nested.jsonl").read_text(encoding="utf-8")
                   for r in records(20))
    refused = runner.invoke(main, ["anonymize", str(nested), "--to", str(tmp_path / "nested.csv")])
    assert refused.exit_code == 2
    assert "below its top-level keys" in refused.output
    assert not (tmp_path / "nested.csv").exists()


@pytest.mark.parametrize("rule", ["$.user.email=mask:keep_first=1", "$.user.email=redact"])
def test_values_already_masked_are_no_leak(tmp_path: Path, rule: str) -> None:
    """A record an erasure (or an earlier run) masked comes out as it went in: verified clean."""
    rows = records(12)
    source = write_lines(tmp_path / "p.jsonl", rows, [])
    first = tmp_path / "once.jsonl"
    anonymize(AnonymizeRequest(str(source), to=str(first), rules=[rule]))
    mixed = read_lines(first)[:4] + rows[4:]  # four records already masked, the rest as they were
    write_lines(source, mixed)
    result = anonymize(AnonymizeRequest(str(source), to=str(tmp_path / "twice.jsonl"), rules=[rule]))
    assert result.verified
    assert [r["user"]["email"] for r in read_lines(tmp_path / "twice.jsonl")][:4] == [
        r["user"]["email"] for r in mixed[:4]]


def test_an_input_left_as_it_was_by_a_keyed_operator_still_fails(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from govkit.actions.anonymize import operators

    source = write_lines(tmp_path / "p.jsonl", records(10))
    monkeypatch.setattr(operators.Hash, "apply", lambda self, value, entity_type=None: value)
    monkeypatch.setattr(operators.Hash, "apply_many", lambda self, values, entity_type=None: list(values))
    with pytest.raises(VerificationFailed, match=r"\$\.user\.email: 10 value\(s\) left unchanged"):
        anonymize(AnonymizeRequest(str(source), to=str(tmp_path / "o.jsonl"), rules=["$.user.email=hash"]))
