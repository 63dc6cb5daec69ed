"""Making the file store fail as a full or read-only disk does."""
from __future__ import annotations

import errno
import os

from oversight.adapters import files

FULL_DISK = "服务器存储空间已满，文件未能保存"


def failing_store(monkeypatch, step: str = "fsync", code: int = errno.ENOSPC) -> None:
    """Every store write fails at `step` (`os.fsync`: a full disk found when flushing, or
    `os.replace`) with `code`, until the monkeypatch is undone."""
    def fail(*_args, **_kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(files.os, step, fail)
