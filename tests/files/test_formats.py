"""Every format through scan_files: CSV (encodings, dialects, ragged rows), JSON, JSONL, gzip,
text with positions, Excel, Parquet."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

from tests.files.conftest import Scan, entities_of, reasons


def _write_csv(path: Path, rows: list[list[str]], encoding: str, delimiter: str = ",") -> None:
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)


def test_csv_utf8_columns_are_classified(tmp_path: Path, scan: Scan, western: list[dict[str, str]]) -> None:
    rows = [["first_name", "last_name", "email", "order_total"]]
    rows += [[p["first"], p["last"], p["email"], f"{i * 3.5:.2f}"] for i, p in enumerate(western)]
    _write_csv(tmp_path / "customers.csv", rows, "utf-8")
    result = scan(tmp_path)
    assert entities_of(result, "customers.csv", "email") == {"EMAIL_ADDRESS"}
    assert "PERSON" in entities_of(result, "customers.csv", "last_name")
    assert not entities_of(result, "customers.csv", "order_total")
    (asset,) = result.assets
    assert asset["name"] == "customers.csv"
    assert asset["kind"] == "file"
    assert asset["row_estimate"] == 20
    assert [f["name"] for f in asset["fields"]] == ["first_name", "last_name", "email", "order_total"]
    assert {f["sql_type"] for f in asset["fields"]} == {"csv column"}
    assert all(f.source == result.root for f in result.findings)
    assert all("@" not in e or "***" in e for f in result.findings for e in f.evidence)


def test_csv_utf8_bom_header_has_no_bom(tmp_path: Path, scan: Scan, western: list[dict[str, str]]) -> None:
    rows = [["email", "name"]] + [[p["email"], p["first"]] for p in western]
    _write_csv(tmp_path / "bom.csv", rows, "utf-8-sig")
    result = scan(tmp_path)
    assert [f["name"] for f in result.assets[0]["fields"]] == ["email", "name"]
    assert entities_of(result, "bom.csv", "email") == {"EMAIL_ADDRESS"}
    assert result.verdicts[0]["detail"]["file"]["encoding"] == "utf-8-sig"


def test_gbk_csv_with_chinese_headers(tmp_path: Path, scan: Scan, people: list[dict[str, str]]) -> None:
    rows = [["姓名", "手机号", "身份证号", "备注"]]
    rows += [[p["name"], p["mobile"], p["rid"], "老客户"] for p in people]
    _write_csv(tmp_path / "crm_export.csv", rows, "gbk")
    assert (tmp_path / "crm_export.csv").read_bytes().decode("gbk").startswith("姓名")
    result = scan(tmp_path)
    assert [f["name"] for f in result.assets[0]["fields"]] == ["姓名", "手机号", "身份证号", "备注"]
    assert "CN_RESIDENT_ID" in entities_of(result, "crm_export.csv", "身份证号")
    assert entities_of(result, "crm_export.csv", "手机号") & {"CN_PHONE_NUMBER", "PHONE_NUMBER"}
    assert "PERSON" in entities_of(result, "crm_export.csv", "姓名")
    assert result.verdicts[0]["detail"]["file"]["encoding"] == "gb18030"


def test_latin1_csv_is_decoded(tmp_path: Path, scan: Scan, western: list[dict[str, str]]) -> None:
    rows = [["Prénom", "Nom", "Courriel"]] + [[p["first"] + "é", p["last"], p["email"]] for p in western]
    _write_csv(tmp_path / "clients.csv", rows, "latin-1")
    result = scan(tmp_path)
    assert [f["name"] for f in result.assets[0]["fields"]] == ["Prénom", "Nom", "Courriel"]
    assert result.verdicts[0]["detail"]["file"]["encoding"] in ("cp1252", "latin-1")
    assert entities_of(result, "clients.csv", "Courriel") == {"EMAIL_ADDRESS"}
    assert not any("invalid byte" in r for r in reasons(result, "clients.csv"))


def test_tsv_and_semicolon_dialects(tmp_path: Path, scan: Scan, western: list[dict[str, str]]) -> None:
    rows = [["id", "email"]] + [[str(i), p["email"]] for i, p in enumerate(western)]
    _write_csv(tmp_path / "a.tsv", rows, "utf-8", delimiter="\t")
    _write_csv(tmp_path / "b.csv", rows, "utf-8", delimiter=";")
    result = scan(tmp_path)
    for name in ("a.tsv", "b.csv"):
        asset = next(a for a in result.assets if a["name"] == name)
        assert [f["name"] for f in asset["fields"]] == ["id", "email"], name
        assert entities_of(result, name, "email") == {"EMAIL_ADDRESS"}, name


def test_ragged_rows_are_counted_and_kept(tmp_path: Path, scan: Scan, western: list[dict[str, str]]) -> None:
    lines = ["name,email,city"] + [f"{p['first']},{p['email']},Paris" for p in western]
    lines[3] = lines[3] + ",extra,cells"
    lines[5] = western[4]["first"]
    (tmp_path / "ragged.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = scan(tmp_path)
    assert any(r.startswith("2 ragged rows") for r in reasons(result, "ragged.csv"))
    assert result.assets[0]["row_estimate"] == 20
    assert entities_of(result, "ragged.csv", "email") == {"EMAIL_ADDRESS"}


def test_json_document_paths_and_arrays(tmp_path: Path, scan: Scan, people: list[dict[str, str]]) -> None:
    records = [
        {"user": {"email": p["email"], "name": p["name"]}, "items": [{"phone": p["mobile"], "sku": f"SKU-{i}"}]}
        for i, p in enumerate(people)
    ]
    (tmp_path / "orders.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    result = scan(tmp_path)
    fields = {f["name"] for f in result.assets[0]["fields"]}
    assert fields == {"$[*].user.email", "$[*].user.name", "$[*].items[*].phone", "$[*].items[*].sku"}
    assert entities_of(result, "orders.json", "$[*].user.email") == {"EMAIL_ADDRESS"}
    assert entities_of(result, "orders.json", "$[*].items[*].phone") & {"CN_PHONE_NUMBER", "PHONE_NUMBER"}
    assert not entities_of(result, "orders.json", "$[*].items[*].sku")
    assert result.assets[0]["row_estimate"] == 20


def test_jsonl_malformed_lines_are_counted(tmp_path: Path, scan: Scan, western: list[dict[str, str]]) -> None:
    lines = [json.dumps({"event": "login", "user": {"email": p["email"]}}) for p in western]
    lines.insert(5, '{"event": "login", "user": ')
    lines.insert(9, "not json at all")
    (tmp_path / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = scan(tmp_path)
    assert entities_of(result, "events.jsonl", "$.user.email") == {"EMAIL_ADDRESS"}
    assert any(r.startswith("2 malformed JSON lines") for r in reasons(result, "events.jsonl"))
    assert result.assets[0]["row_estimate"] == 20


def test_gzipped_jsonl_is_read_transparently(tmp_path: Path, scan: Scan, people: list[dict[str, str]]) -> None:
    body = "\n".join(json.dumps({"customer": {"手机号": p["mobile"]}}, ensure_ascii=False) for p in people)
    (tmp_path / "events.jsonl.gz").write_bytes(gzip.compress(body.encode("utf-8")))
    result = scan(tmp_path)
    assert result.assets[0]["name"] == "events.jsonl.gz"
    assert result.verdicts[0]["detail"]["file"] == {
        **result.verdicts[0]["detail"]["file"], "format": "jsonl", "compressed": True
    }
    assert entities_of(result, "events.jsonl.gz", "$.customer.手机号") & {"CN_PHONE_NUMBER", "PHONE_NUMBER"}


def test_text_log_and_markdown_positions(tmp_path: Path, scan: Scan) -> None:
    log = (
        "2024-05-01 12:00:01,123 INFO boot ok\n"
        "2024-05-01 12:00:02,001 INFO login user=anna.schmidt@example.org ok\n"
        "2024-05-01 12:00:03,551 WARN sms to +86 139 1234 5678 failed\n"
        "2024-05-01 12:00:04,000 INFO login user=li.wei@example.cn ok\n"
    )
    (tmp_path / "app.log").write_text(log, encoding="utf-8")
    (tmp_path / "notes.md").write_text("# Notes\n\nCall **+86 139 1234 5678** tomorrow.\n", encoding="utf-8")
    result = scan(tmp_path)
    assert entities_of(result, "app.log") >= {"EMAIL_ADDRESS"}
    finding = next(f for f in result.findings if f.asset == "app.log" and f.entity_type == "EMAIL_ADDRESS")
    assert finding.field is None
    assert finding.hits == 2
    assert finding.sampled == 4
    verdict = next(v for v in result.verdicts if v["asset"] == "app.log")
    emails = verdict["detail"]["entities"]["EMAIL_ADDRESS"]
    assert emails["lines"] == [2, 4]
    column = log.splitlines()[1].index("user=anna") + 1  # Presidio allows "=" in the local part
    assert emails["positions"][0] == {"line": 2, "column": column}
    phones = verdict["detail"]["entities"]["CN_PHONE_NUMBER"]
    assert phones["positions"][0] == {"line": 3, "column": log.splitlines()[2].index("+86") + 1}
    md = next(v for v in result.verdicts if v["asset"] == "notes.md")
    assert md["detail"]["entities"]["CN_PHONE_NUMBER"]["positions"] == [{"line": 3, "column": 8}]
    assert all("5678" not in e or "*" in e for f in result.findings for e in f.evidence)


def test_xlsx_with_two_sheets(tmp_path: Path, scan: Scan, people: list[dict[str, str]]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    first = book.active
    first.title = "客户"
    first.append(["姓名", "手机号"])
    for p in people:
        first.append([p["name"], p["mobile"]])
    second = book.create_sheet("Orders")
    second.append(["order_id", "contact_email"])
    for i, p in enumerate(people):
        second.append([1000 + i, p["email"]])
    book.save(tmp_path / "book.xlsx")
    result = scan(tmp_path)
    fields = [f["name"] for f in result.assets[0]["fields"]]
    assert fields == ["客户!姓名", "客户!手机号", "Orders!order_id", "Orders!contact_email"]
    assert entities_of(result, "book.xlsx", "Orders!contact_email") == {"EMAIL_ADDRESS"}
    assert entities_of(result, "book.xlsx", "客户!手机号") & {"CN_PHONE_NUMBER", "PHONE_NUMBER"}
    assert not entities_of(result, "book.xlsx", "Orders!order_id")
    kinds = {f["name"]: f["kind"] for f in result.assets[0]["fields"]}
    assert kinds["Orders!order_id"] == "integer"


def test_parquet_columns(tmp_path: Path, scan: Scan, people: list[dict[str, str]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "email": [p["email"] for p in people],
        "resident_id": [p["rid"] for p in people],
        "amount": [float(i) for i in range(len(people))],
        "address": [{"city": "上海", "zip": "200000"} for _ in people],
    })
    pq.write_table(table, tmp_path / "export.parquet", row_group_size=7)
    result = scan(tmp_path)
    kinds = {f["name"]: (f["kind"], f["sql_type"]) for f in result.assets[0]["fields"]}
    assert kinds["email"] == ("text", "parquet string")
    assert kinds["amount"][0] == "number"
    assert "address.city" in kinds
    assert entities_of(result, "export.parquet", "email") == {"EMAIL_ADDRESS"}
    assert "CN_RESIDENT_ID" in entities_of(result, "export.parquet", "resident_id")
    assert result.assets[0]["row_estimate"] == 20
