"""Benchmark: erasure's file rewrite against locating in the same files.

Run: ``python -m tests.dsr.bench_rewrite [--rows N]``. It writes a CSV and a gzipped log of
``N`` records each, with the subject in one record of each, then times, in the same process,
the baseline (locating the subject's lines: :func:`locate_files`' read-and-match loop) and
:func:`~govkit.actions.dsr.rewrite.prepare` (matching plus writing and fsyncing the new
versions). It prints MB/s and the ratio rewrite / baseline; the ratio is the number to
compare across machines, since absolute rates depend on the machine's load. Not collected
by pytest.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from pathlib import Path

from govkit.actions.dsr.files import LineMatcher, read_lines
from govkit.actions.dsr.rewrite import FileJob, prepare

SUBJECT = "luisg@embraer.com.br"


def build(folder: Path, rows: int) -> list[Path]:
    csv_path, log_path = folder / "customers.csv", folder / "app.log.gz"
    with open(csv_path, "w", encoding="utf-8", newline="") as out:
        out.write("id,email,phone,name\n")
        for i in range(rows):
            email = SUBJECT if i == rows // 2 else f"user{i}@example.org"
            out.write(f"{i},{email},+33 6 {i % 100:02d} {i // 100 % 100:02d} 00 00,Name {i}\n")
    with gzip.open(log_path, "wt", encoding="utf-8", newline="") as log:
        for i in range(rows):
            who = SUBJECT if i == rows // 2 else f"user{i}@example.org"
            log.write(f"2026-01-01 10:{i % 60:02d} login ok for {who} from 10.0.{i % 250}.1\n")
    return [csv_path, log_path]


def best(run: object, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = build(Path(tmp), args.rows)
        matcher = LineMatcher({"email": SUBJECT})
        megabytes = sum(len(gzip.decompress(p.read_bytes())) if p.suffix == ".gz" else p.stat().st_size
                        for p in paths) / 1e6

        def baseline() -> None:
            for path in paths:
                lines = read_lines(path)
                assert lines is not None
                assert sum(1 for line in lines if matcher(line)) == 1

        def rewrite() -> None:
            rewrites = prepare([FileJob(paths[0], "delete"), FileJob(paths[1], "anonymize")], matcher)
            assert [item.records for item in rewrites.items] == [1, 1]
            rewrites.discard()

        base, new = best(baseline), best(rewrite)
        print(json.dumps({"rows_per_file": args.rows, "megabytes": round(megabytes, 1),
                          "baseline_locate_s": round(base, 3), "rewrite_s": round(new, 3),
                          "baseline_MB_per_s": round(megabytes / base, 1),
                          "rewrite_MB_per_s": round(megabytes / new, 1), "ratio": round(new / base, 2)}, indent=2))


if __name__ == "__main__":
    main()
