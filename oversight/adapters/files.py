"""The file store: originals (completion logs, register sheets, verification files), their error
reports, attachments and audit bundles.

Files are kept by key, a relative path such as `logs/<sha256>.csv`; originals, attachments and
bundles are keyed by the SHA-256 of their content (`put_content`, `working_file`). `FileStore` is
what the services use, through `uploads_store` / `reports_store`; the backend is chosen by the
setting FILE_STORE: a directory of the server's disk (`LocalFileStore`, the default) or a bucket of
any S3-compatible object store (`S3FileStore`: MinIO, a government cloud's OSS, AWS). A key means
the same file in both: moving to S3 is copying UPLOADS_DIR to `<S3_KEY_PREFIX>` and REPORTS_DIR to
`<S3_KEY_PREFIX>reports/`.

A write is whole or nothing: on disk it goes to a temporary file beside its target, is flushed
and renamed over the target; an S3 object appears only once its upload is complete. A full disk,
an unreachable store or a crash never leaves a truncated file under a key. A failed write raises
`FileStoreError` with the reason in Chinese.
"""
from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from flask import Flask, current_app

_READ_PIECE = 1 << 20
_SHA256_METADATA = "sha256"


class FileStoreError(RuntimeError):
    """A file could not be written or read; `str(error)` says why, in Chinese, for the user."""

    @classmethod
    def of(cls, error: OSError) -> FileStoreError:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            return cls("服务器存储空间已满，文件未能保存；请稍后重试，或联系系统管理员清理空间")
        if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return cls("服务器的文件存储目录不可写，文件未能保存；请联系系统管理员")
        return cls(f"服务器保存文件时出错（{error.strerror or error}），文件未能保存；请稍后重试或联系系统管理员")


def check_key(key: str) -> PurePosixPath:
    """`key` as a relative path; a key leaving the store (`..`, `.`, absolute, empty) is refused."""
    path = PurePosixPath(key)
    if not path.parts or path.is_absolute() or any(part in ("..", ".") for part in path.parts):
        raise ValueError(f"not a file-store key: {key!r}")
    return path


WORKING_PREFIX = ".working-"


@dataclass
class WorkingFile:
    """A local file to fill by its `name`; `key` is where the store keeps it once its block ended."""

    name: str
    key: str | None = None


class FileStore(ABC):
    """Files by key: whole writes, reads, and content-addressed files."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing what was there, whole or not at all."""

    @abstractmethod
    def open(self, key: str) -> IO[bytes]:
        """The stored file for reading, streamed (FileNotFoundError when there is none)."""

    @abstractmethod
    def size(self, key: str) -> int | None:
        """The stored file's size in bytes, None when there is none."""

    @abstractmethod
    def _scratch_folder(self, folder: str) -> Path:
        """The local directory where working files of `folder` are filled."""

    @abstractmethod
    def _keep_file(self, key: str, path: Path, digest: str) -> None:
        """Store the complete local file `path` under `key` (the file may be moved away)."""

    def exists(self, key: str) -> bool:
        """Whether a file is stored under `key`."""
        try:
            return self.size(key) is not None
        except ValueError:  # not a key of this store, so nothing is stored under it
            return False

    def get(self, key: str) -> bytes:
        """The stored file's bytes."""
        with self.open(key) as stored:
            return stored.read()

    def put_content(self, folder: str, data: bytes, suffix: str = "") -> str:
        """Store `data` under `folder/<its SHA-256><suffix>` unless an intact copy is already
        there (a truncated or empty file left by an old failed write is replaced); the key."""
        digest = hashlib.sha256(data).hexdigest()
        key = f"{folder}/{digest}{suffix}"
        if not self._holds(key, digest, len(data)):
            self.put(key, data)
        return key

    @contextmanager
    def working_file(self, folder: str, suffix: str, *, tag: str = "") -> Iterator[WorkingFile]:
        """A new local file to fill (e.g. a large export); when the block ends without an error
        it is stored under `folder/<its SHA-256><suffix>` (`working.key`) and the local file is
        removed either way. Nothing is stored when the block raises. `tag` goes into the local
        file's name, for `discard_working` after a process died with it."""
        check_key(folder)
        temporary = None
        try:
            scratch = self._scratch_folder(folder)
            scratch.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f"{WORKING_PREFIX}{tag}", suffix=suffix, dir=scratch)
            os.close(handle)
            working = WorkingFile(temporary)
            yield working
            digest, size = _file_digest(Path(temporary))
            key = f"{folder}/{digest}{suffix}"
            if not self._holds(key, digest, size):
                self._keep_file(key, Path(temporary), digest)
            working.key = key
        except OSError as error:
            raise FileStoreError.of(error) from error
        finally:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)

    def discard_working(self, folder: str, tag: str) -> int:
        """Remove the working files of `folder` made with `tag` (a killed process's); how many."""
        check_key(folder)
        scratch, removed = self._scratch_folder(folder), 0
        if not tag or not scratch.is_dir():
            return 0
        for leftover in scratch.glob(f"{WORKING_PREFIX}{tag}*"):
            leftover.unlink(missing_ok=True)
            removed += 1
        return removed

    def _holds(self, key: str, digest: str, size: int) -> bool:
        """Whether an intact copy of the content with this digest and size is under `key`."""
        return self.size(key) == size and self._digest(key) == digest

    def _digest(self, key: str) -> str:
        digest = hashlib.sha256()
        with self.open(key) as stored:
            while piece := stored.read(_READ_PIECE):
                digest.update(piece)
        return digest.hexdigest()


def _file_digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as local:
        while piece := local.read(_READ_PIECE):
            digest.update(piece)
            size += len(piece)
    return digest.hexdigest(), size


class LocalFileStore(FileStore):
    """Files under one directory of the server's disk."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """Where `key` lives; a key leaving the directory (`..`, absolute) is refused."""
        return self.root.joinpath(*check_key(key).parts)

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

    def size(self, key: str) -> int | None:
        try:
            found = self.path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return found.st_size if stat.S_ISREG(found.st_mode) else None

    def _scratch_folder(self, folder: str) -> Path:
        return self.path(folder)  # beside its target: the rename into place stays on one disk

    def _keep_file(self, key: str, path: Path, digest: str) -> None:
        with path.open("rb+") as local:
            os.fsync(local.fileno())
        target = self.path(key)
        os.replace(path, target)
        _sync_directory(target.parent)


def _sync_directory(folder: Path) -> None:
    """Make the rename itself durable."""
    handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


class S3FileStore(FileStore):
    """Files as objects `<prefix><key>` of one bucket of an S3-compatible store.

    Each object carries its content's SHA-256 as metadata, so that an upload of a file already
    stored costs one HEAD request instead of reading the object back. Working files are filled
    in a local `scratch` directory and uploaded (in parts, when large) when their block ends.
    """

    def __init__(self, client, bucket: str, prefix: str = "", scratch: str | os.PathLike | None = None):
        self.client, self.bucket, self.prefix = client, bucket, prefix
        self.scratch = Path(scratch) if scratch is not None else Path(tempfile.gettempdir())

    def object_name(self, key: str) -> str:
        """The object under which `key` is stored."""
        return self.prefix + str(check_key(key))

    def put(self, key: str, data: bytes) -> None:
        name = self.object_name(key)
        with _s3_errors(writing=True):
            self.client.put_object(Bucket=self.bucket, Key=name, Body=data,
                                   Metadata={_SHA256_METADATA: hashlib.sha256(data).hexdigest()})

    def open(self, key: str) -> IO[bytes]:
        name = self.object_name(key)
        with _s3_errors(writing=False):
            try:
                return self.client.get_object(Bucket=self.bucket, Key=name)["Body"]
            except self.client.exceptions.NoSuchKey:
                raise FileNotFoundError(errno.ENOENT, "no such stored file", key) from None

    def size(self, key: str) -> int | None:
        head = self._head(key)
        return None if head is None else head["ContentLength"]

    def _head(self, key: str, *, writing: bool = False) -> dict | None:
        from botocore.exceptions import ClientError

        name = self.object_name(key)
        with _s3_errors(writing=writing):
            try:
                return self.client.head_object(Bucket=self.bucket, Key=name)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return None
                raise

    def _holds(self, key: str, digest: str, size: int) -> bool:
        head = self._head(key, writing=True)  # asked before a write: a failure means nothing is saved
        if head is None or head["ContentLength"] != size:
            return False
        # Objects copied in from a disk store have no digest of their own: read them once.
        return head.get("Metadata", {}).get(_SHA256_METADATA, "") == digest or self._digest(key) == digest

    def _scratch_folder(self, folder: str) -> Path:
        return self.scratch

    def _keep_file(self, key: str, path: Path, digest: str) -> None:
        name = self.object_name(key)
        with _s3_errors(writing=True):
            self.client.upload_file(str(path), self.bucket, name, ExtraArgs={"Metadata": {_SHA256_METADATA: digest}})


@contextmanager
def _s3_errors(*, writing: bool) -> Iterator[None]:
    """The store's failures (unreachable, refused, missing bucket) as a FileStoreError in Chinese."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    outcome = "文件未能保存" if writing else "文件暂时无法读取"
    try:
        yield
    except EndpointConnectionError as error:
        raise FileStoreError(f"无法连接对象存储服务，{outcome}；请稍后重试或联系系统管理员") from error
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            raise FileStoreError(f"对象存储拒绝访问（{code}），{outcome}；请联系系统管理员检查存储凭据") from error
        if code == "NoSuchBucket":
            raise FileStoreError(f"对象存储中没有配置的存储桶，{outcome}；请联系系统管理员") from error
        raise FileStoreError(f"对象存储出错（{code or error}），{outcome}；请稍后重试或联系系统管理员") from error
    except (BotoCoreError, S3UploadFailedError) as error:
        raise FileStoreError(f"对象存储出错（{error}），{outcome}；请稍后重试或联系系统管理员") from error


_clients_lock = threading.Lock()
_CLIENT_KEY = "oversight.s3_client"


def s3_client(app: Flask):
    """The app's boto3 S3 client (thread-safe, made once per app from the S3_* settings)."""
    with _clients_lock:
        client = app.extensions.get(_CLIENT_KEY)
        if client is None:
            import boto3
            from botocore.config import Config

            config = app.config
            client = boto3.session.Session().client(
                "s3", endpoint_url=config["S3_ENDPOINT_URL"] or None, region_name=config["S3_REGION"] or None,
                aws_access_key_id=config["S3_ACCESS_KEY_ID"] or None,
                aws_secret_access_key=config["S3_SECRET_ACCESS_KEY"] or None,
                config=Config(s3={"addressing_style": config["S3_ADDRESSING_STYLE"]},
                              retries={"max_attempts": 3, "mode": "standard"},
                              connect_timeout=5, read_timeout=60))
            app.extensions[_CLIENT_KEY] = client
    return client


def _store(directory_setting: str, s3_folder: str) -> FileStore:
    app = current_app._get_current_object()
    kind = app.config["FILE_STORE"]
    if kind == "local":
        return LocalFileStore(app.config[directory_setting])
    if kind == "s3":
        if not app.config["S3_BUCKET"]:
            raise FileStoreError("对象存储未配置存储桶（S3_BUCKET），文件无法保存或读取；请联系系统管理员")
        return S3FileStore(s3_client(app), app.config["S3_BUCKET"], app.config["S3_KEY_PREFIX"] + s3_folder,
                           scratch=app.config["REPORTS_DIR"])
    raise ValueError(f"FILE_STORE must be 'local' or 's3', not {kind!r}")


def uploads_store() -> FileStore:
    """The store of originals, error reports and attachments (`UPLOADS_DIR`, or the bucket)."""
    return _store("UPLOADS_DIR", "")


def reports_store() -> FileStore:
    """The store of audit bundles (`REPORTS_DIR`, or `reports/` in the bucket)."""
    return _store("REPORTS_DIR", "reports/")
