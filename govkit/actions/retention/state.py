"""What retention enforcement remembers between runs: per rule and asset, how far anonymization got.

An ``anonymize`` rule leaves its rows in place, still older than the cutoff; the next run must
not anonymize them again (a keyed pseudonym of a pseudonym is a different value: analysts would
see it move). So each finished run records, per (source, asset, rule), the cutoff it anonymized
up to (the *watermark*), and the next run takes only rows dated from the watermark to its own
cutoff. ``delete`` and ``archive`` need no memory: their rows are gone.

A hold or an exception that kept a row older than the watermark, and was lifted since, leaves
that row to be handled by hand: the watermark does not move back (moving it back would
re-anonymize every row in between). ``retention plan`` counts from the watermark, so it says
what the next run will touch.

Also kept: the last enforcement run per rule (the audit report shows it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from govkit.private import write_private_atomic

STATE_FILE = "retention.json"


def _path(state_dir: Path) -> Path:
    return state_dir / STATE_FILE


def load(state_dir: Path) -> dict[str, Any]:
    path = _path(state_dir)
    if not path.is_file():
        return {"watermarks": {}, "runs": {}}
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"watermarks": {}, "runs": {}}
    data.setdefault("watermarks", {})
    data.setdefault("runs", {})
    return data


def _key(source: str, asset: str, rule: str) -> str:
    return f"{source}\x1f{asset.lower()}\x1f{rule}"


def watermark(state_dir: Path, source: str, asset: str, rule: str) -> str | None:
    """The cutoff (ISO datetime) an earlier run anonymized ``asset`` up to under ``rule``."""
    value = load(state_dir)["watermarks"].get(_key(source, asset, rule))
    return None if value is None else str(value)


def record_run(state_dir: Path, run_id: str, finished_at: str, status: str,
               steps: list[dict[str, Any]]) -> None:
    """After a run: its watermarks (anonymize steps) and, per rule, the last enforcement."""
    data = load(state_dir)
    for step in steps:
        if step["action"] == "anonymize" and status == "finished":
            key = _key(step["source"], step["asset"], step["rule"])
            old = data["watermarks"].get(key)
            data["watermarks"][key] = max(filter(None, [old, step["cutoff"]]))
        data["runs"][step["rule"]] = {"run_id": run_id, "at": finished_at, "status": status,
                                      "asset": step["asset"], "source": step["source"],
                                      "rows": step.get("done", 0), "action": step["action"]}
    write_private_atomic(_path(state_dir), json.dumps(data, indent=2, sort_keys=True).encode())


def last_runs(state_dir: Path) -> dict[str, dict[str, Any]]:
    """Per rule label: the last run that enforced it (id, time, status, rows)."""
    runs: dict[str, dict[str, Any]] = load(state_dir)["runs"]
    return runs
