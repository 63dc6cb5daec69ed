"""The audit keys the app signs with: from the AUDIT_KEYS setting, or the instance key file.

The ring is read once per process and again whenever the key file is replaced (a rotation by
`flask rotate-audit-key` in another process), so that every event after a rotation is keyed
with the new key; a stat of the file per append is all this costs.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path

from flask import current_app

from ..adapters.audit_keys import AuditKeyError, KeyRing, file_state, load_or_create_ring, ring_from_setting, rotate_ring

__all__ = ["AuditKeyError", "KeyRing", "keyring", "rotate_file_key", "forget_cached_rings"]

_cache: dict[object, tuple[object, KeyRing]] = {}
_lock = threading.Lock()


def _config(config: Mapping | None) -> Mapping:
    return current_app.config if config is None else config


def _setting(config: Mapping) -> object:
    keys = config.get("AUDIT_KEYS")
    if isinstance(keys, str):
        try:
            keys = json.loads(keys)
        except ValueError:
            raise AuditKeyError("AUDIT_KEYS 不是有效的 JSON 对象") from None
    return keys


def keyring(config: Mapping | None = None) -> KeyRing:
    """The current key ring (the key file is created, 0600, on first use)."""
    config = _config(config)
    keys = _setting(config)
    if keys:
        marker = ("setting", json.dumps(keys, sort_keys=True), config.get("AUDIT_KEY_ID"))
        cached = _cache.get(marker)
        if cached is None:
            cached = (None, ring_from_setting(keys, config.get("AUDIT_KEY_ID")))
            _cache[marker] = cached
        return cached[1]
    path = Path(config["AUDIT_KEY_FILE"])
    state = file_state(path)
    cached = _cache.get(str(path))
    if cached is not None and state is not None and cached[0] == state:
        return cached[1]
    with _lock:
        ring = load_or_create_ring(path)
        _cache[str(path)] = (file_state(path), ring)
    return ring


def rotate_file_key(config: Mapping | None = None) -> tuple[str, KeyRing]:
    """Add a new key to the key file and make it current; (the old key id, the new ring)."""
    config = _config(config)
    if _setting(config):
        raise AuditKeyError("审计密钥来自设置 AUDIT_KEYS，无法在此轮换：请在 AUDIT_KEYS 中加入新密钥（保留旧密钥），"
                            "再把 AUDIT_KEY_ID 改为新密钥的ID")
    path = Path(config["AUDIT_KEY_FILE"])
    keyring(config)  # a ring to rotate, created if there is none yet
    with _lock:
        old_id, ring = rotate_ring(path)
        _cache[str(path)] = (file_state(path), ring)
    return old_id, ring


def forget_cached_rings() -> None:
    """Read the rings afresh on next use (tests that swap key files)."""
    _cache.clear()
