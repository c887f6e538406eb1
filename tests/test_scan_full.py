"""``scan --full`` reads every row: pattern hits are exact, a rare leak is found."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from faker import Faker

from govkit.scan import ScanOptions, scan


def _shop(path: Path, rows: int = 6000) -> None:
    fake = Faker("en_US")
    Faker.seed(99)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, reference TEXT, total REAL)")
    data = []
    for i in range(rows):
        email = None if i % 3 == 0 else fake.unique.email()
        reference = "leak.victim@example.org" if i in (17, 4242, 5999) else f"REF-{i:07d}"
        data.append((i, email, reference, i * 0.37))
    con.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", data)
    con.commit()
    con.close()


def test_full_scan_counts_every_row_and_finds_the_rare_leak(engine: object, tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    _shop(db)
    report = scan(None, [f"sqlite:///{db}"], ScanOptions(full=True, sample_size=100, batch_size=1000))
    found = {(f.field, f.entity_type): f for f in report.findings}
    email = found[("email", "EMAIL_ADDRESS")]
    assert (email.hits, email.sampled) == (4000, 4000)
    leak = found[("reference", "EMAIL_ADDRESS")]
    assert (leak.hits, leak.sampled) == (3, 6000)
    assert leak.decided_by == "sparse matches"
    assert report.stats.values_analyzed == 6000 * 4
    assert ("total", "PHONE_NUMBER") not in found


def test_sample_scan_reports_sample_counts(engine: object, tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    _shop(db)
    report = scan(None, [f"sqlite:///{db}"], ScanOptions(sample_size=300))
    email = next(f for f in report.findings if f.field == "email")
    assert email.sampled <= 300
    assert email.hits == email.sampled


def test_full_scan_with_worker_processes_counts_the_same(engine: object, tmp_path: Path) -> None:
    """Judging in spawned workers (``jobs=2``) changes the time, never the counts."""
    db = tmp_path / "shop.db"
    _shop(db, rows=3000)
    options = {"full": True, "sample_size": 100, "batch_size": 500}
    alone = scan(None, [f"sqlite:///{db}"], ScanOptions(**options, jobs=1))  # type: ignore[arg-type]
    pooled = scan(None, [f"sqlite:///{db}"], ScanOptions(**options, jobs=2))  # type: ignore[arg-type]

    def counts(report: object) -> dict[tuple[str, str], tuple[int, int]]:
        return {(f.field, f.entity_type): (f.hits, f.sampled) for f in report.findings}  # type: ignore[attr-defined]

    assert counts(pooled) == counts(alone)
    assert counts(pooled)[("reference", "EMAIL_ADDRESS")] == (1, 3000)  # row 17 leaks


def test_worker_count_only_parallelises_big_tables_unless_asked() -> None:
    from govkit.detect.parallel import PARALLEL_MIN_ROWS, worker_count

    assert worker_count(None, 10_000) == 1
    assert worker_count(None, None) == 1
    assert worker_count(None, PARALLEL_MIN_ROWS) >= 1
    assert worker_count(3, 10) == 3


def test_a_dead_worker_is_one_clear_error(engine: object) -> None:
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from govkit.detect.columns import ColumnClassifier
    from govkit.detect.parallel import _merge
    from govkit.errors import SourceError

    tally = ColumnClassifier(engine).pattern_tally("shop.customers", "email", "text")  # type: ignore[arg-type]
    died: Future[object] = Future()
    died.set_exception(BrokenProcessPool("killed"))
    with pytest.raises(SourceError, match=r"^shop\.customers: a worker process died .* --jobs 1$"):
        _merge("shop.customers", [(tally, died)])  # type: ignore[list-item]


def _nhs_passes(digits: str) -> bool:
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    return check != 10 and (0 if check == 11 else check) == int(digits[9])


def test_worker_tallies_count_the_same_whichever_worker_gets_a_batch(engine: object) -> None:
    """parallel.py promises counts independent of the workers: a batch judged by a worker that
    has not seen its values must count like one judged where they were seen before."""
    import random
    from collections import Counter

    import phonenumbers

    from govkit.detect.columns import ColumnClassifier
    from govkit.detect.engine import DetectionEngine

    rng = random.Random(1)
    passing: list[str] = []
    failing: list[str] = []
    while len(passing) < 2 or len(failing) < 40:
        digits = f"{rng.choice(['415', '212', '646', '312'])}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        if not phonenumbers.is_valid_number(phonenumbers.parse(digits, "US")):
            continue
        (passing if _nhs_passes(digits) else failing).append(f"{digits[:3]} {digits[3:6]} {digits[6:]}")
    first = failing[:38] + passing[:2]
    second = passing[:2] + failing[38:40]
    assert isinstance(engine, DetectionEngine)
    classifier = ColumnClassifier(engine)

    def counts(workers: list[list[list[str]]]) -> tuple[int, dict[str, int]]:
        merged = classifier.pattern_tally("t", "contact", "text")
        for batches in workers:
            tally = classifier.pattern_tally("t", "contact", "text")
            for batch in batches:
                tally.add_counts(Counter(batch))
                merged.merge(*tally.take())
        return merged.n, {name: stat.hits for name, stat in merged.settled().items()}

    assert counts([[first], [second]]) == counts([[first, second]])


def test_full_tallies_settle_nhs_look_alikes_over_the_whole_column(engine: object) -> None:
    """US phone numbers pass the NHS check one time in eleven: over the column that is chance,
    so the settled counts keep PHONE_NUMBER and drop the coincidental UK_NHS."""
    import random
    from collections import Counter

    import phonenumbers

    from govkit.detect.columns import ColumnClassifier

    rng = random.Random(2)
    values: list[str] = []
    while len(values) < 60:
        digits = f"{rng.choice(['415', '212', '646', '312'])}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(digits, "US")):
            values.append(f"{digits[:3]} {digits[3:6]} {digits[6:]}")
    passing = sum(_nhs_passes(v.replace(" ", "")) for v in values)
    assert 1 <= passing <= 15
    tally = ColumnClassifier(engine).pattern_tally("t", "contact_phone", "text")  # type: ignore[arg-type]
    tally.add_counts(Counter(values))
    assert tally.stats["UK_NHS"].hits == passing  # counted raw...
    settled = tally.settled()
    assert "UK_NHS" not in settled  # ...and settled away as chance
    assert settled["PHONE_NUMBER"].hits == 60
