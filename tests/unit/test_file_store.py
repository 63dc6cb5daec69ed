"""The local file store: whole writes or none, content keys, and its failures in Chinese."""
from __future__ import annotations

import errno
import hashlib

import pytest

from oversight.adapters.files import FileStoreError, LocalFileStore
from tests.store_support import FULL_DISK, failing_store

DATA = "任务编号,金额\nA1,5\n".encode()
KEY = f"logs/{hashlib.sha256(DATA).hexdigest()}.csv"


def test_put_content_stores_under_the_sha256_and_reads_back(tmp_path):
    store = LocalFileStore(tmp_path)
    assert store.put_content("logs", DATA, ".csv") == KEY
    assert store.get(KEY) == DATA and store.size(KEY) == len(DATA)
    assert sorted(path.name for path in (tmp_path / "logs").iterdir()) == [KEY.split("/")[1]]


@pytest.mark.parametrize(("step", "code", "said"), [
    ("fsync", errno.ENOSPC, FULL_DISK),
    ("replace", errno.EROFS, "服务器的文件存储目录不可写"),
    ("fsync", errno.EIO, "服务器保存文件时出错"),
])
def test_a_failed_write_leaves_nothing_and_says_why_in_chinese(tmp_path, monkeypatch, step, code, said):
    store = LocalFileStore(tmp_path)
    failing_store(monkeypatch, step, code)
    with pytest.raises(FileStoreError, match=said):
        store.put_content("logs", DATA, ".csv")
    assert list((tmp_path / "logs").iterdir()) == []


def test_a_failed_write_keeps_the_file_it_would_have_replaced(tmp_path, monkeypatch):
    store = LocalFileStore(tmp_path)
    store.put("logs/errors/1.json", b"[1]")
    failing_store(monkeypatch)
    with pytest.raises(FileStoreError):
        store.put("logs/errors/1.json", b"[1, 2]")
    assert store.get("logs/errors/1.json") == b"[1]"
    assert [path.name for path in (tmp_path / "logs" / "errors").iterdir()] == ["1.json"]


@pytest.mark.parametrize("left", [b"", DATA[:5], b"x" * len(DATA)])
def test_an_empty_or_truncated_file_under_a_hash_is_not_trusted(tmp_path, left):
    store = LocalFileStore(tmp_path)
    (tmp_path / "logs").mkdir()
    (tmp_path / KEY).write_bytes(left)
    store.put_content("logs", DATA, ".csv")
    assert store.get(KEY) == DATA


def test_keys_stay_inside_the_store(tmp_path):
    store = LocalFileStore(tmp_path / "store")
    for key in ("../outside", "/etc/passwd", "logs/../../outside", ""):
        with pytest.raises(ValueError):
            store.put(key, b"x")
        assert not store.exists(key)


def test_a_working_file_is_removed_after_use_and_its_failures_are_translated(tmp_path):
    store = LocalFileStore(tmp_path)
    with store.working_file("audit-", ".zip") as working:
        working.write(b"zip")
        kept = open(working.name, "rb")
    assert list(tmp_path.iterdir()) == [] and kept.read() == b"zip"
    kept.close()
    with pytest.raises(FileStoreError, match="存储空间已满"), store.working_file("audit-", ".zip"):
        raise OSError(errno.ENOSPC, "No space left on device")
