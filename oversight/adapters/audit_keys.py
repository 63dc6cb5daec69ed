"""Where the audit chain's keys and anchors live: files in the instance folder (or a setting).

The key ring is one JSON file, readable by its owner only (0600), created on first use:
`{"format": "oversight-audit-keys/1", "current": "<id>", "keys": [{"id", "secret", "created_at"}]}`.
Rotation adds a key and makes it current; old keys stay, so old events keep verifying. Writes go
to a temporary file beside it, fsynced, and are renamed over it under a lock, so that two
processes never both create a ring or lose a rotation.

The anchors file is append-only JSON lines, one signed anchor per line, fsynced.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..clock import utcnow

KEYS_FORMAT = "oversight-audit-keys/1"
SECRET_BYTES = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,32}$")


class AuditKeyError(RuntimeError):
    """The key ring cannot be read, created or changed; the message is Chinese."""


@dataclass(frozen=True)
class KeyRing:
    """Every audit key by id, and the one new events and anchors are signed with."""

    current_id: str
    keys: Mapping[str, bytes]
    source: str  # the file, or "setting"

    @property
    def current_secret(self) -> bytes:
        return self.keys[self.current_id]


def new_key_id(now: datetime | None = None) -> str:
    """A fresh key id: the UTC day and 8 random hex digits (20261201-3fa9c2d1)."""
    now = now or utcnow()
    return f"{now:%Y%m%d}-{secrets.token_hex(4)}"


def _secret(text: object, where: str) -> bytes:
    try:
        secret = bytes.fromhex(str(text))
    except ValueError:
        raise AuditKeyError(f"{where}的密钥不是十六进制文本") from None
    if len(secret) < 16:
        raise AuditKeyError(f"{where}的密钥太短（至少 16 字节，即 32 个十六进制字符）")
    return secret


def ring_from_setting(keys: object, current_id: str | None) -> KeyRing:
    """The ring given by the AUDIT_KEYS setting ({id: hex secret}) and AUDIT_KEY_ID."""
    if not isinstance(keys, Mapping) or not keys:
        raise AuditKeyError("AUDIT_KEYS 应为 JSON 对象 {\"密钥ID\": \"十六进制密钥\"}，且至少有一个密钥")
    ring = {}
    for key_id, secret in keys.items():
        if not _KEY_ID.match(str(key_id)):
            raise AuditKeyError(f"AUDIT_KEYS 中的密钥ID“{key_id}”无效（1–32 个字母、数字、. _ -）")
        ring[str(key_id)] = _secret(secret, f"AUDIT_KEYS 中“{key_id}”")
    if current_id is None:
        if len(ring) > 1:
            raise AuditKeyError("AUDIT_KEYS 中有多个密钥时，须用 AUDIT_KEY_ID 指明当前使用哪一个")
        current_id = next(iter(ring))
    if current_id not in ring:
        raise AuditKeyError(f"AUDIT_KEY_ID“{current_id}”不在 AUDIT_KEYS 中")
    return KeyRing(current_id, ring, "setting")


def _parse(path: Path, raw: str) -> KeyRing:
    try:
        data = json.loads(raw)
        if data.get("format") != KEYS_FORMAT:
            raise ValueError(f"不是 {KEYS_FORMAT} 格式")
        keys = {entry["id"]: _secret(entry["secret"], f"密钥文件 {path} 中“{entry['id']}”")
                for entry in data["keys"]}
        current = data["current"]
    except AuditKeyError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise AuditKeyError(f"审计密钥文件 {path} 已损坏（{error}）") from None
    if current not in keys:
        raise AuditKeyError(f"审计密钥文件 {path} 的当前密钥“{current}”不在其中")
    return KeyRing(current, keys, str(path))


def read_ring(path: Path) -> KeyRing:
    """The key ring in `path` (AuditKeyError when missing or damaged)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AuditKeyError(f"审计密钥文件 {path} 不存在") from None
    except OSError as error:
        raise AuditKeyError(f"无法读取审计密钥文件 {path}（{error.strerror or error}）") from None
    return _parse(path, raw)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _write_private(path: Path, data: dict) -> None:
    """Whole or nothing, owner-only: a 0600 temporary file beside `path`, fsynced, renamed over it."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        temporary = None
        folder = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def _entry(key_id: str, now: datetime) -> dict:
    return {"id": key_id, "secret": secrets.token_hex(SECRET_BYTES),
            "created_at": now.isoformat(timespec="seconds") + "Z"}


def load_or_create_ring(path: Path) -> KeyRing:
    """The ring in `path`, created (one fresh key, mode 0600) when there is none yet."""
    if path.exists():
        return read_ring(path)
    try:
        with _locked(path):
            if not path.exists():
                now = utcnow()
                key_id = new_key_id(now)
                _write_private(path, {"format": KEYS_FORMAT, "current": key_id, "keys": [_entry(key_id, now)]})
    except OSError as error:
        raise AuditKeyError(f"无法创建审计密钥文件 {path}（{error.strerror or error}）") from None
    return read_ring(path)


def rotate_ring(path: Path) -> tuple[str, KeyRing]:
    """Add a fresh key to the ring in `path` and make it current; (the old current id, the new ring)."""
    try:
        with _locked(path):
            ring = read_ring(path)
            data = json.loads(path.read_text(encoding="utf-8"))
            now = utcnow()
            key_id = new_key_id(now)
            while key_id in ring.keys:
                key_id = new_key_id(now)
            data["keys"].append(_entry(key_id, now))
            data["current"] = key_id
            _write_private(path, data)
    except OSError as error:
        raise AuditKeyError(f"无法写入审计密钥文件 {path}（{error.strerror or error}）") from None
    return ring.current_id, read_ring(path)


def file_state(path: Path) -> tuple | None:
    """What changes when the file is replaced (inode, size, mtime); None when there is none."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


# --- anchors ----------------------------------------------------------------------------------


def append_anchor(path: Path, anchor: dict) -> None:
    """Append one anchor as a JSON line, fsynced (the file is created 0600)."""
    line = (json.dumps(anchor, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            os.write(handle, line)
            os.fsync(handle)
        finally:
            os.close(handle)
    except OSError as error:
        raise AuditKeyError(f"无法写入审计锚点文件 {path}（{error.strerror or error}）") from None


def read_anchor_lines(path: Path) -> list[tuple[int, object]]:
    """(line number, parsed JSON or the ValueError it raised) for every non-empty line; [] when no file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as error:
        raise AuditKeyError(f"无法读取审计锚点文件 {path}（{error.strerror or error}）") from None
    lines = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            lines.append((number, json.loads(line.decode("utf-8"))))
        except ValueError as error:
            lines.append((number, error))
    return lines
