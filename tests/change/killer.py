"""Run the govkit CLI with a failpoint that kills the process: ``python -m tests.change.killer POINT N ARGS...``.

On the N-th time the change engine reaches POINT, the process sends itself SIGKILL: no
``finally``, no ``atexit``, no flush, like a power cut or the OOM killer.
"""

from __future__ import annotations

import os
import signal
import sys


def main() -> None:
    point, nth, *args = sys.argv[1:]
    from govkit.change import failpoints

    seen = 0

    def kill(_: str) -> None:
        nonlocal seen
        seen += 1
        if seen == int(nth):
            os.kill(os.getpid(), signal.SIGKILL)

    failpoints.register(point, kill)
    from govkit.cli import main as cli

    cli.main(args=args, prog_name="govkit")


if __name__ == "__main__":
    main()
