"""``govkit deanonymize``: decrypt the ``gk1`` tokens the ``encrypt`` operator wrote."""

from __future__ import annotations

from pathlib import Path

from govkit.actions.anonymize.io import Writer, read_batches
from govkit.actions.anonymize.operators import OperatorContext, decrypt_token, is_token
from govkit.errors import UsageError


def deanonymize_file(source: Path, target: Path, columns: list[str], state_dir: Path | None) -> int:
    """Copy ``source`` to ``target`` with tokens decrypted; returns how many were.

    The keyset is loaded first, so a missing or wrong key fails before the target exists.
    """
    from govkit.keys import load_keyset

    context = OperatorContext(load_keyset(state_dir if state_dir is not None else Path(".govkit")))
    if target.resolve() == source.resolve():
        raise UsageError("--to names the source file itself; write the decrypted copy elsewhere")
    names, batches = read_batches(source)
    lower = [c.lower() for c in columns]
    unknown = [c for c in columns if c.lower() not in {n.lower() for n in names}]
    if unknown:
        raise UsageError(f"no column {', '.join(unknown)} in {source.name}")
    chosen = [i for i, n in enumerate(names) if not lower or n.lower() in lower]
    writer = Writer(target, names)
    count = 0
    try:
        for batch in batches:
            out = []
            for row in batch:
                values = list(row)
                for i in chosen:
                    value = values[i]
                    if isinstance(value, str) and is_token(value):
                        values[i] = decrypt_token(value, context)
                        count += 1
                out.append(tuple(values))
            writer.write(out)
    except BaseException:
        writer.close()
        target.unlink(missing_ok=True)  # no half-decrypted file left behind
        raise
    writer.close()
    return count
