"""Running the app unattended: SQLite backup and restore."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from sqlalchemy.engine import Engine


def sqlite_path(engine: Engine) -> Path:
    if engine.dialect.name != "sqlite" or not engine.url.database:
        raise ValueError("备份与恢复命令只用于默认的 SQLite 数据库；PostgreSQL 请使用 pg_dump / pg_restore")
    return Path(engine.url.database)


def _copy_database(source_path: Path, target_path: Path) -> None:
    """Page-by-page copy through SQLite's backup API: consistent even while the source is in use."""
    source, destination = sqlite3.connect(source_path), sqlite3.connect(target_path)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()


def backup_sqlite(engine: Engine, target: Path) -> Path:
    """A consistent online copy of the app's SQLite database (safe while the app runs)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy_database(sqlite_path(engine), target)
    return target


def restore_sqlite(engine: Engine, backup: Path) -> str:
    """Replace the database with a checked backup; the current file is kept beside it. The
    backup's SHA-256 (the caller records the restore in the audit log)."""
    check = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise ValueError("备份文件已损坏")
        tables = {row[0] for row in check.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "audit_events" not in tables:
            raise ValueError("这不是履约监管的数据库备份")
    except sqlite3.DatabaseError as error:
        raise ValueError(f"无法读取备份文件：{error}") from None
    finally:
        check.close()
    engine.dispose()
    live = sqlite_path(engine)
    if live.exists():
        backup_sqlite(engine, live.with_suffix(".before-restore.sqlite"))
    _copy_database(backup, live)
    digest = hashlib.sha256()
    with open(backup, "rb") as handle:
        for piece in iter(lambda: handle.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()
