"""Bulk rows in and out of the database, below the ORM: a select into a DataFrame, and rows
written inside the session's transaction (the completion-log import's hot path) by one binary
`COPY` on PostgreSQL or one `executemany` INSERT elsewhere."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sqlalchemy import Integer, exc

from ..extensions import db
from .tables.cells import map_distinct

FETCH_ROWS = 10_000


def core_rows(stmt) -> list:
    """A select of columns, its rows as Core gives them, in the session's transaction: what
    `db.session.execute(stmt).all()` returns (the session is autoflushed first, as there) without
    the ORM's per-row loading (a quarter's scoring reads tens of thousands of rows)."""
    session = db.session
    if session.autoflush:
        session.flush()
    return session.connection().execute(stmt).all()


def fetch_frame(stmt, shared: tuple[str, ...] = (), connection=None) -> pd.DataFrame:
    """A select's rows as a frame, fetched a batch at a time.

    SQLAlchemy rows for a million assignments take seconds and most of a gigabyte: the driver's
    tuples are taken apart at once instead, columns with a result processor are converted once
    per distinct value, and the strings of the `shared` columns (a few distinct values) are
    kept once each. On `connection` when given, else the session's.
    """
    connection = connection if connection is not None else db.session.connection()
    dialect = connection.dialect
    result = connection.execute(stmt)
    keys = list(result.keys())
    selected = list(stmt.selected_columns)
    processors = [column.type.dialect_impl(dialect).result_processor(dialect, None) for column in selected]
    parts: list[list[np.ndarray]] = [[] for _ in keys]
    kept: dict[object, object] = {}
    while rows := result.cursor.fetchmany(FETCH_ROWS):
        for key, part, processor, values in zip(keys, parts, processors, zip(*rows)):
            if key in shared:
                values = [kept.setdefault(value, value) for value in values]
            array = np.empty(len(values), dtype=object)
            array[:] = values
            part.append(map_distinct(pd.Series(array), processor).to_numpy() if processor else array)
        del rows
    result.close()
    frame = {}
    for position, (key, column) in enumerate(zip(keys, selected)):
        values = pd.Series(np.concatenate(parts[position]) if parts[position] else np.empty(0, dtype=object),
                           dtype=object)
        parts[position] = None
        if isinstance(column.type, Integer) and values.notna().all():
            values = values.astype(np.int64)
        frame[key] = values
    return pd.DataFrame(frame, columns=keys, copy=False)


class RawInsert:
    """Rows into a table through the session's DBAPI connection, inside its transaction: values
    converted once per distinct value by the columns' own bind processors, then one binary
    `COPY … FROM STDIN` per call on PostgreSQL and one executemany elsewhere.

    SQLAlchemy Core spends several times sqlite3's own time on 100,000 rows of dicts, and on
    PostgreSQL even a raw executemany is ten times a binary COPY. Columns empty in every row are
    left out of the statement: binding NULLs is not free either. COPY checks the table's
    constraints and fires its triggers as an INSERT does. `connection` (the session's by default)
    lets another thread write while the session is left alone.
    """

    def __init__(self, table, constants: Mapping[str, object], connection=None):
        self.connection = connection if connection is not None else db.session.connection()
        self.dialect, self.table = self.connection.dialect, table
        self.constants = {key: self._converted(key, value) for key, value in constants.items() if value is not None}
        self._copy_types: dict[str, int] | None = None
        self._secured: bool | None = None

    def _processor(self, key: str):
        column_type = self.table.c[key].type
        if isinstance(column_type, db.JSON):  # already JSON text (the caller serialises it)
            return None
        return column_type.dialect_impl(self.dialect).bind_processor(self.dialect)

    def _converted(self, key: str, value: object) -> object:
        processor = self._processor(key)
        return processor(value) if processor else value

    def _values(self, key: str, column: pd.Series) -> list:
        """A column as Python values for the driver, None where missing."""
        if column.dtype.kind in "iu" and not isinstance(column.dtype, pd.Int64Dtype):
            return column.tolist()
        processor = self._processor(key)
        if processor is None or column.dtype.kind in "fi":
            return column.to_numpy(dtype=object, na_value=None).tolist()
        return map_distinct(column, processor).tolist()

    def _table_name(self) -> str:
        return self.dialect.identifier_preparer.format_table(self.table)

    def _column_list(self, keys: list[str]) -> str:
        return ", ".join(map(self.dialect.identifier_preparer.quote, keys))

    def _sql(self, keys: list[str]) -> str:
        mark = "?" if self.dialect.paramstyle == "qmark" else "%s"
        json_mark = f"CAST({mark} AS JSON)" if self.dialect.name == "postgresql" else mark
        marks = [json_mark if isinstance(self.table.c[key].type, db.JSON) else mark for key in keys]
        return f"INSERT INTO {self._table_name()} ({self._column_list(keys)}) VALUES ({', '.join(marks)})"

    def run(self, columns: Mapping[str, pd.Series], size: int) -> None:
        """Insert `size` rows: the constants and the given columns."""
        values = {key: [value] * size for key, value in self.constants.items()}
        values.update({key: self._values(key, column) for key, column in columns.items() if column.notna().any()})
        if not size:
            return
        if self.dialect.name == "postgresql":
            self._copy(values)
        else:
            self._execute_many(values)

    def _execute_many(self, values: dict[str, list]) -> None:
        self.connection.exec_driver_sql(self._sql(list(values)), list(zip(*values.values())))

    def _copy(self, values: dict[str, list]) -> None:
        """One binary COPY of the rows; a driver error is raised as SQLAlchemy's (IntegrityError …).

        PostgreSQL refuses COPY FROM into a table whose row-level security applies to the role
        (the county tables, for the app's role: `models/row_security.py`): the rows are then
        copied into a temporary table of the same columns and moved by one INSERT … SELECT,
        which the county policy checks row by row as it would an INSERT.
        """
        keys = list(values)
        columns = self._column_list(keys)
        staged = "_oversight_copy" if self._row_security() else None
        sql = f"COPY {staged or self._table_name()} ({columns}) FROM STDIN (FORMAT BINARY)"
        types = self._types()
        dbapi = self.dialect.loaded_dbapi
        try:
            with self.connection.connection.cursor() as cursor:
                if staged:
                    cursor.execute(f"CREATE TEMPORARY TABLE {staged} ON COMMIT DROP AS "
                                   f"SELECT {columns} FROM {self._table_name()} WITH NO DATA")
                with cursor.copy(sql) as copy:
                    copy.set_types([types[key] for key in keys])
                    for row in zip(*values.values()):
                        copy.write_row(row)
                if staged:
                    cursor.execute(f"INSERT INTO {self._table_name()} ({columns}) SELECT {columns} FROM {staged}")
                    cursor.execute(f"DROP TABLE {staged}")
        except dbapi.Error as error:
            raise exc.DBAPIError.instance(sql, None, error, dbapi.Error, dialect=self.dialect) from error

    def _row_security(self) -> bool:
        """Whether row-level security applies to the table for the connection's role."""
        if self._secured is None:
            with self.connection.connection.cursor() as cursor:
                cursor.execute("SELECT row_security_active(%s::regclass)", (self._table_name(),))
                self._secured = bool(cursor.fetchone()[0])
        return self._secured

    def _types(self) -> dict[str, int]:
        """The table's column types as the server has them (binary COPY sends each value in its
        column's own format); JSON goes as the text the caller serialised, which is its format."""
        if self._copy_types is None:
            with self.connection.connection.cursor() as cursor:
                cursor.execute(f"SELECT * FROM {self._table_name()} WHERE false")
                text_oid = self.dialect.loaded_dbapi.adapters.types["text"].oid
                json_oid = self.dialect.loaded_dbapi.adapters.types["json"].oid
                self._copy_types = {column.name: text_oid if column.type_code == json_oid else column.type_code
                                    for column in cursor.description}
        return self._copy_types
