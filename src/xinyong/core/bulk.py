"""Set-based inserts. PostgreSQL gets COPY (ids taken from the sequence beforehand when the caller needs them);
SQLite gets one executemany. Rows must carry every column they set: COPY applies no Python-side defaults."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import DeclarativeBase, Session


def insert_rows(
    session: Session, model: type[DeclarativeBase], rows: list[dict[str, Any]], return_ids: bool = False
) -> list[int]:
    """Insert `rows` into `model`'s table in the session's transaction; returns their ids when asked."""
    if not rows:
        return []
    table = model.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name != "postgresql":
        if return_ids:
            stmt = insert(model).returning(table.c.id, sort_by_parameter_order=True)
            return list(session.scalars(stmt, rows))
        session.execute(insert(model), rows)
        return []
    ids: list[int] = []
    if return_ids:
        ids = list(
            session.scalars(
                text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                {"t": table.name, "n": len(rows)},
            )
        )
        rows = [row | {"id": i} for row, i in zip(rows, ids, strict=True)]
    columns = list(rows[0])
    json_columns = {c.name for c in table.columns if "JSON" in repr(c.type)}
    session.flush()
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    quoted = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(
                [
                    json.dumps(row[c], ensure_ascii=False, default=str)
                    if c in json_columns and row[c] is not None
                    else row[c]
                    for c in columns
                ]
            )
    return ids
