"""The file store: uploaded files, their error reports, attachments and report working files.

Files are kept by key, a relative path such as `logs/<sha256>.csv`; uploads are keyed by the
SHA-256 of their content (`put_content`). `FileStore` is what the services use; the local
directory (`LocalFileStore`) is the only backend today, and another one (an S3 bucket) slots in
behind the same methods and `uploads_store` / `reports_store`.

A write is whole or nothing: it goes to a temporary file beside its target, is flushed to disk
and renamed over the target, so that a full disk or a crash never leaves a truncated file
under a key. A failed write raises `FileStoreError` with the reason in Chinese.
"""
from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

from flask import current_app

_READ_PIECE = 1 << 20


class FileStoreError(RuntimeError):
    """A file could not be written or read; `str(error)` says why, in Chinese, for the user."""

    @classmethod
    def of(cls, error: OSError) -> FileStoreError:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            return cls("服务器存储空间已满，文件未能保存；请稍后重试，或联系系统管理员清理空间")
        if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return cls("服务器的文件存储目录不可写，文件未能保存；请联系系统管理员")
        return cls(f"服务器保存文件时出错（{error.strerror or error}），文件未能保存；请稍后重试或联系系统管理员")


class FileStore(ABC):
    """Files by key: whole writes, reads, and content-addressed uploads."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing what was there, whole or not at all."""

    @abstractmethod
    def open(self, key: str) -> IO[bytes]:
        """The stored file for reading (FileNotFoundError when there is none)."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether a file is stored under `key`."""

    @abstractmethod
    def size(self, key: str) -> int | None:
        """The stored file's size in bytes, None when there is none."""

    @abstractmethod
    @contextmanager
    def working_file(self, prefix: str, suffix: str) -> Iterator[IO[bytes]]:
        """A new temporary file to fill and read back (e.g. a large export), removed when the
        block ends; the file object stays usable by whoever still holds it open."""

    def get(self, key: str) -> bytes:
        """The stored file's bytes."""
        with self.open(key) as stored:
            return stored.read()

    def put_content(self, folder: str, data: bytes, suffix: str = "") -> str:
        """Store `data` under `folder/<its SHA-256><suffix>` unless an intact copy is already
        there (a truncated or empty file left by an old failed write is replaced); the key."""
        digest = hashlib.sha256(data).hexdigest()
        key = f"{folder}/{digest}{suffix}"
        if self.size(key) != len(data) or self._digest(key) != digest:
            self.put(key, data)
        return key

    def _digest(self, key: str) -> str:
        digest = hashlib.sha256()
        with self.open(key) as stored:
            while piece := stored.read(_READ_PIECE):
                digest.update(piece)
        return digest.hexdigest()


class LocalFileStore(FileStore):
    """Files under one directory of the server's disk."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """Where `key` lives; a key leaving the directory (`..`, absolute) is refused."""
        parts = PurePosixPath(key).parts
        if not parts or PurePosixPath(key).is_absolute() or any(part in ("..", ".") for part in parts):
            raise ValueError(f"not a file-store key: {key!r}")
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes) -> None:
        target = self.path(key)
        temporary = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
            temporary = None
            _sync_directory(target.parent)
        except OSError as error:
            raise FileStoreError.of(error) from error
        finally:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)

    def open(self, key: str) -> IO[bytes]:
        return self.path(key).open("rb")

    def exists(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except ValueError:  # not a key of this store, so nothing is stored under it
            return False

    def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            return None

    @contextmanager
    def working_file(self, prefix: str, suffix: str) -> Iterator[IO[bytes]]:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            working = tempfile.NamedTemporaryFile(prefix=prefix, suffix=suffix, dir=self.root)
        except OSError as error:
            raise FileStoreError.of(error) from error
        with working:
            try:
                yield working
            except OSError as error:
                raise FileStoreError.of(error) from error


def _sync_directory(folder: Path) -> None:
    """Make the rename itself durable."""
    handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def uploads_store() -> FileStore:
    """The store of uploads, error reports and attachments (config `UPLOADS_DIR`)."""
    return LocalFileStore(current_app.config["UPLOADS_DIR"])


def reports_store() -> FileStore:
    """The store where large reports are assembled (config `REPORTS_DIR`)."""
    return LocalFileStore(current_app.config["REPORTS_DIR"])
