"""``govkit deanonymize``: decrypt the ``gk1`` tokens the ``encrypt`` operator wrote, and
reverse the format-preserving pseudonyms ``pseudonymize`` wrote (FF3-1: see ``pseudonyms.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from govkit.actions.anonymize.io import Writer, read_batches
from govkit.actions.anonymize.operators import OperatorContext, Pseudonymize, build, decrypt_token, is_token
from govkit.errors import UsageError

#: ``--pseudonym COLUMN=integer``: the column holds integer pseudonyms (keys), not an entity type
INTEGER = "integer"


def deanonymize_file(source: Path, target: Path, columns: list[str], state_dir: Path | None,
                     pseudonyms: dict[str, str] | None = None) -> int:
    """Copy ``source`` to ``target`` with tokens decrypted and pseudonyms reversed; returns how many were.

    ``pseudonyms``: column -> the entity type its pseudonyms were made as (``PHONE_NUMBER``,
    ``CN_RESIDENT_ID``...), or ``integer``. Keyed tokens (e-mails, names) are one-way and
    stop the run with a one-line error naming the column, never the value.
    The keyset is loaded first, so a missing or wrong key fails before the target exists.
    """
    from govkit.keys import load_keyset

    context = OperatorContext(load_keyset(state_dir if state_dir is not None else Path(".govkit")))
    if target.resolve() == source.resolve():
        raise UsageError("--to names the source file itself; write the decrypted copy elsewhere")
    names, batches = read_batches(source)
    lower = [c.lower() for c in columns]
    wanted = {c.lower(): e for c, e in (pseudonyms or {}).items()}
    unknown = [c for c in [*columns, *(pseudonyms or {})] if c.lower() not in {n.lower() for n in names}]
    if unknown:
        raise UsageError(f"no column {', '.join(unknown)} in {source.name}")
    chosen = [i for i, n in enumerate(names) if (not lower or n.lower() in lower) and n.lower() not in wanted]
    reversed_columns = [(i, wanted[n.lower()]) for i, n in enumerate(names) if n.lower() in wanted]
    operator = build("pseudonymize", {}, context) if reversed_columns else None
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
                for i, entity in reversed_columns:
                    if values[i] not in (None, ""):
                        assert isinstance(operator, Pseudonymize)
                        values[i] = _reverse(operator, values[i], entity, names[i])
                        count += 1
                out.append(tuple(values))
            writer.write(out)
    except BaseException:
        writer.close()
        target.unlink(missing_ok=True)  # no half-decrypted file left behind
        raise
    writer.close()
    return count


def _reverse(operator: Pseudonymize, value: Any, entity: str, column: str) -> Any:
    from govkit.actions.anonymize.pseudonyms import NotReversible

    if entity.lower() == INTEGER:
        try:
            return operator.reverse(int(value))
        except ValueError:
            raise UsageError(f"column {column}: a value is not an integer pseudonym") from None
    try:
        return operator.reverse(value, entity.upper())
    except NotReversible as exc:
        raise UsageError(f"column {column}: {exc}") from None
