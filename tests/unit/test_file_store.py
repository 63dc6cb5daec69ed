"""The file store's contract, on a local directory and on an S3 server alike (the same keys for
the same content); whole writes or none, and failures in Chinese."""
from __future__ import annotations

import errno
import hashlib
import io
import zipfile

import pytest

from oversight.adapters.files import FileStoreError, LocalFileStore, S3FileStore
from tests.s3_support import PREFIX, client_of, object_names, s3_endpoint, s3_settings, s3_store  # noqa: F401
from tests.store_support import FULL_DISK, failing_store

DATA = "任务编号,金额\nA1,5\n".encode()
KEY = f"logs/{hashlib.sha256(DATA).hexdigest()}.csv"


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    """Each contract test runs on both backends."""
    if request.param == "local":
        return LocalFileStore(tmp_path / "store")
    return request.getfixturevalue("s3_store")


def stored_keys(store) -> list[str]:
    """Every key the store holds (what the test can see of it from outside)."""
    if isinstance(store, LocalFileStore):
        return sorted(str(path.relative_to(store.root)) for path in store.root.rglob("*") if path.is_file())
    return [name.removeprefix(PREFIX) for name in object_names(store.client, store.bucket)]


def test_content_is_stored_under_its_sha256_and_read_back_streamed(store):
    assert store.put_content("logs", DATA, ".csv") == KEY
    assert stored_keys(store) == [KEY]
    assert store.get(KEY) == DATA and store.size(KEY) == len(DATA) and store.exists(KEY)
    with store.open(KEY) as stored:
        assert stored.read(4) + stored.read() == DATA


def test_storing_the_same_content_again_keeps_one_copy(store):
    assert store.put_content("logs", DATA, ".csv") == store.put_content("logs", DATA, ".csv") == KEY
    assert stored_keys(store) == [KEY]


def test_put_replaces_what_was_under_the_key(store):
    store.put("logs/errors/1.json", b"[1]")
    store.put("logs/errors/1.json", b"[1, 2]")
    assert store.get("logs/errors/1.json") == b"[1, 2]" and stored_keys(store) == ["logs/errors/1.json"]


def test_a_missing_file_is_absent_everywhere(store):
    assert store.size(KEY) is None and not store.exists(KEY)
    with pytest.raises(FileNotFoundError):
        store.open(KEY)


def test_keys_leaving_the_store_are_refused(store):
    for key in ("../outside", "/etc/passwd", "logs/../../outside", ""):
        with pytest.raises(ValueError):
            store.put(key, b"x")
        assert not store.exists(key)
    assert stored_keys(store) == []


def test_a_working_file_is_kept_under_its_sha256_and_leaves_no_local_copy(store, tmp_path):
    with store.working_file("bundles", ".zip") as working:
        with zipfile.ZipFile(working.name, "w") as archive:
            archive.writestr("说明.txt", "审计包")
        assert working.key is None  # stored only once the block has ended
    made = open_bytes(store, working.key)
    assert working.key == f"bundles/{hashlib.sha256(made).hexdigest()}.zip" and stored_keys(store) == [working.key]
    assert zipfile.ZipFile(io.BytesIO(made)).read("说明.txt").decode() == "审计包"
    scratch = store.root / "bundles" if isinstance(store, LocalFileStore) else store.scratch
    assert [path.name for path in scratch.iterdir()] == [working.key.split("/")[1]] * isinstance(store, LocalFileStore)


def test_a_working_file_whose_block_fails_stores_nothing(store):
    with pytest.raises(RuntimeError), store.working_file("bundles", ".zip") as working:
        with open(working.name, "wb") as out:
            out.write(b"half a zip")
        raise RuntimeError("the export failed")
    assert stored_keys(store) == []


def open_bytes(store, key: str) -> bytes:
    with store.open(key) as stored:
        return stored.read()


def test_an_object_under_a_hash_with_other_bytes_is_replaced(s3_store):
    s3_store.client.put_object(Bucket=s3_store.bucket, Key=PREFIX + KEY, Body=DATA[:5])
    s3_store.client.put_object(Bucket=s3_store.bucket, Key=PREFIX + "logs/same-size", Body=b"x" * len(DATA))
    s3_store.put_content("logs", DATA, ".csv")
    assert s3_store.get(KEY) == DATA


def test_an_object_copied_in_without_a_digest_is_read_once_and_kept(s3_store):
    s3_store.client.put_object(Bucket=s3_store.bucket, Key=PREFIX + KEY, Body=DATA)
    before = s3_store.client.head_object(Bucket=s3_store.bucket, Key=PREFIX + KEY)["LastModified"]
    assert s3_store.put_content("logs", DATA, ".csv") == KEY
    assert s3_store.client.head_object(Bucket=s3_store.bucket, Key=PREFIX + KEY)["LastModified"] == before


def test_an_unreachable_or_missing_bucket_says_so_in_chinese(s3_settings, tmp_path):
    client = client_of({**s3_settings, "S3_ENDPOINT_URL": "http://127.0.0.1:9"})
    with pytest.raises(FileStoreError, match="无法连接对象存储服务，文件未能保存"):
        S3FileStore(client, "any", scratch=tmp_path).put_content("logs", DATA)
    missing = S3FileStore(client_of(s3_settings), "no-such-bucket", scratch=tmp_path)
    with pytest.raises(FileStoreError, match="对象存储中没有配置的存储桶，文件未能保存"):
        missing.put("logs/x", DATA)
    with pytest.raises(FileStoreError, match="文件暂时无法读取"):
        missing.open("logs/x")


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


def test_a_working_file_on_a_full_disk_is_refused_in_chinese(tmp_path):
    store = LocalFileStore(tmp_path)
    with pytest.raises(FileStoreError, match="存储空间已满"), store.working_file("bundles", ".zip"):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert [path.name for path in (tmp_path / "bundles").iterdir()] == []
