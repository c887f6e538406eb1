"""Start-up time of the command line: ``govkit --help`` and ``govkit --version`` against
``python -c pass``.

Run ``python benchmarks/startup_bench.py [--runs N]``. Each command is run N times (default
10) as a fresh process, after one warm-up run (so the file cache is warm, as it is for a user
typing commands); the median wall time of each is printed, with the ratio to a bare Python
start. Target: under 0.5 s each. No timing is asserted in the test suite (a loaded CI machine
would make it flaky); tests/unit/test_public_api.py asserts the cause instead (no heavy
library imported). Prints PASS/FAIL and exits 0 either way.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

TARGET_S = 0.5


def _median_wall(argv: list[str], runs: int) -> float:
    subprocess.run(argv, capture_output=True, check=False)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    bare = _median_wall([sys.executable, "-c", "pass"], runs)
    print(f"python -c pass        {bare:6.3f} s")
    for args in (["--help"], ["--version"]):
        wall = _median_wall([sys.executable, "-m", "govkit", *args], runs)
        verdict = "PASS" if wall < TARGET_S else "FAIL"
        print(f"govkit {args[0]:<14} {wall:6.3f} s  {wall / bare:5.1f}x python -c pass  "
              f"(target < {TARGET_S} s) {verdict}")


if __name__ == "__main__":
    main()
