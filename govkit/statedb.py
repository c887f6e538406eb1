"""The SQLite files in ``.govkit/`` (the inventory, the DSR registry): damaged or foreign is an error.

A damaged file (``file is not a database``, ``database disk image is malformed``), or an
SQLite database of some other program put in its place, must stop a command with one line
that names the file and says what to do, never with an internal error, and never be taken
for an empty store: the inventory would start again over someone else's tables, and the
registry would "lose" every request.

:func:`guard` checks the file before the store creates its tables, and hooks the engine so
that a page found damaged later, in any query, raises the same error.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa

from govkit.errors import UsageError


def guard(engine: sa.Engine, path: Path, what: str, tables: Iterable[str], remedy: str) -> None:
    """Refuse ``path`` unless it is empty, new, or holds ``what`` (one of ``tables`` is there).

    ``remedy`` says what to do about it. Call before ``create_all``.
    """

    def damaged(context: sa.engine.ExceptionContext) -> None:
        # Exactly DatabaseError: SQLITE_CORRUPT and SQLITE_NOTADB. Its subclasses are other
        # things (a lock, a constraint, a bug in a statement) and go on as they are.
        if type(context.original_exception) is sqlite3.DatabaseError:
            raise UsageError(f"{path}: {what} is damaged ({context.original_exception}); {remedy}") from None

    sa.event.listen(engine, "handle_error", damaged)
    if path.is_dir():
        raise UsageError(f"{path}: a folder where {what} should be; {remedy}")
    try:
        names = set(sa.inspect(engine).get_table_names())
    except sa.exc.OperationalError:
        return  # busy or locked: the store's own queries wait, and report it if it lasts
    wanted = set(tables)
    if names and not names & wanted:
        shown = ", ".join(sorted(names)[:3]) + (", ..." if len(names) > 3 else "")
        raise UsageError(f"{path}: not {what} but some other SQLite database (tables {shown}); {remedy}")


def open_store(state_dir: Path, filename: str, metadata: sa.MetaData, what: str, tables: Iterable[str],
               remedy: str) -> tuple[Path, sa.Engine]:
    """A workspace store (``.govkit/FILENAME``): the folder 0700, the file 0600 before SQLite
    writes a byte, :func:`guard`-ed, its tables made. Returns the path and the engine."""
    from govkit.private import private_dir, private_file

    if not state_dir.exists():
        private_dir(state_dir)
    path = private_file(state_dir / filename)
    engine = sa.create_engine(f"sqlite:///{path}", hide_parameters=True)
    guard(engine, path, what, tables, remedy)
    metadata.create_all(engine)
    return path, engine
