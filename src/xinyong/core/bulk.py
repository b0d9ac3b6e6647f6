"""Set-based inserts. PostgreSQL gets COPY (ids taken from the sequence beforehand when the caller needs them);
SQLite gets one executemany of a prepared INSERT. Rows must carry every column they set: COPY applies no
Python-side defaults (on SQLite, rows that leave out a column with a Python-side default go through the ORM, which
applies it)."""

from __future__ import annotations

import json
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, String, Table, any_, bindparam, insert, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Session


class JsonText(str):
    """A value already encoded as JSON text, for a JSON column: PostgreSQL's COPY writes it as it is (the caller
    encoded it faster than `json.dumps` could, e.g. with orjson); elsewhere it is decoded first."""


def insert_rows(
    session: Session, model: type[DeclarativeBase], rows: list[dict[str, Any]], return_ids: bool = False
) -> list[int]:
    """Insert `rows` into `model`'s table in the session's transaction; returns their ids when asked."""
    if not rows:
        return []
    table: Table = model.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name != "postgresql":
        if _plain(table, rows):
            return _sqlite_executemany(session, table, rows, return_ids)
        if return_ids:
            stmt = insert(model).returning(table.c.id, sort_by_parameter_order=True)
            return list(session.scalars(stmt, rows))
        session.execute(insert(model), rows)
        return []
    columns = list(rows[0])
    values = [list(map(itemgetter(c), rows)) for c in columns]  # column by column: C loops, not Python ones
    for c in table.columns:
        if "JSON" in repr(c.type) and c.name in rows[0]:
            i = columns.index(c.name)
            values[i] = [_json(v) for v in values[i]]
    ids: list[int] = []
    if return_ids:
        ids = list(
            session.scalars(
                text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                {"t": table.name, "n": len(rows)},
            )
        )
        if "id" in columns:
            values[columns.index("id")] = ids
        else:
            columns.append("id")
            values.append(ids)
    session.flush()
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    quoted = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in zip(*values, strict=True):
            copy.write_row(row)
    return ids


def _json(value: Any) -> Any:
    if value is None or value.__class__ is JsonText:
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def member_of(session: Session, column: Any, values: list[str]) -> ColumnElement[bool]:
    """`column IN values` for a chunk's worth of text keys: on PostgreSQL `= ANY(array)`, one parameter instead
    of thousands (binding them cost more than the query); elsewhere an expanding IN."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(String)))  # type: ignore[no-any-return]
    return column.in_(values)  # type: ignore[no-any-return]


def _plain(table: Table, rows: list[dict[str, Any]]) -> bool:
    """Every row sets the same columns, and the ORM would add no Python-side default: no column with one is left
    out or set to None (the ORM leaves None out, and the column's default applies)."""
    keys = rows[0].keys()
    if any(row.keys() != keys for row in rows):
        return False
    if any(c.default is not None for c in table.columns if c.name not in keys):
        return False
    defaulted = [c.name for c in table.columns if c.name in keys and c.default is not None]
    return not any(row[c] is None for row in rows for c in defaulted)


def _sqlite_executemany(session: Session, table: Table, rows: list[dict[str, Any]], return_ids: bool) -> list[int]:
    """One executemany of a prepared INSERT, the values converted by each column's own type (the same text the
    ORM writes: JSON, UTC datetimes). The ORM's bulk insert costs ten times more per row, and with RETURNING in
    row order it sends one statement per row. Ids: SQLite gives each new row one more than the largest id, so
    a batch's rows are the consecutive ids ending at last_insert_rowid() (checked)."""
    dialect = session.get_bind().dialect
    columns = list(rows[0])
    values = []
    for c in columns:
        column = list(map(itemgetter(c), rows))  # column by column: C loops, not Python ones
        kind = table.c[c].type.dialect_impl(dialect)
        process = kind.bind_processor(dialect)
        if process is not None:
            none = kind.should_evaluate_none  # a JSON column writes None as JSON null, as the ORM does
            column = [
                v if v is None and not none else process(json.loads(v) if v.__class__ is JsonText else v)
                for v in column
            ]
        values.append(column)
    params = list(zip(*values, strict=True))
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    session.flush()
    conn = session.connection()
    conn.exec_driver_sql(sql, params)
    if not return_ids:
        return []
    if "id" in columns:
        return [row["id"] for row in rows]
    n = len(rows)
    last = conn.exec_driver_sql("SELECT last_insert_rowid()").scalar_one()
    ids = list(
        conn.exec_driver_sql(
            f"SELECT id FROM {quote(table.name)} WHERE id <= ? ORDER BY id DESC LIMIT ?", (last, n)
        ).scalars()
    )[::-1]
    if ids != list(range(last - n + 1, last + 1)):
        raise RuntimeError(f"{table.name}: the ids of the inserted rows are not consecutive")
    return ids
