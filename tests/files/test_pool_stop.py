"""A file scan that stops on an error (or Ctrl-C) does not go on scanning the queued files."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import govkit.sources.files as files_module
from govkit.sources.files import FileScanOptions, scan_files


class _ThreadPool(ThreadPoolExecutor):
    """The process pool's interface on one thread, so the test sees what ran."""

    def __init__(self, max_workers: int, mp_context: Any = None, initializer: Any = None, initargs: Any = ()) -> None:
        super().__init__(max_workers=1, initializer=initializer, initargs=initargs)


def test_an_error_while_collecting_results_cancels_the_queued_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(30):
        (tmp_path / f"f{index:02d}.txt").write_text(f"line {index}\n")
    scanned: list[str] = []
    first_done = threading.Event()
    real = files_module._worker_scan

    def counting(task: Any, options: FileScanOptions) -> Any:
        if scanned:
            first_done.wait(5)  # the later files are still queued when the error comes
        scanned.append(task.relative)
        return real(task, options)

    def progress(event: str, detail: object) -> None:
        if event == "file":
            first_done.set()
            raise KeyboardInterrupt

    monkeypatch.setattr(files_module, "ProcessPoolExecutor", _ThreadPool)
    monkeypatch.setattr(files_module, "_worker_scan", counting)
    with pytest.raises(KeyboardInterrupt):
        scan_files(tmp_path, FileScanOptions(jobs=2), progress=progress)
    assert len(scanned) < 5, scanned
