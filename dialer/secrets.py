"""Secrets at rest (webhook secrets, gateway credentials): encrypted with Fernet.

The key comes from ``DIALER_SECRET_KEY`` or, when that is unset, from
``$DIALER_DATA_DIR/secret.key``, generated once with mode 0600. Every process that shares a
database must use the same key (set ``DIALER_SECRET_KEY`` when processes run on several
machines); a secret encrypted under another key cannot be read and says so.
Neither the key nor a decrypted secret is ever logged.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import logging
import os
import secrets
import stat
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dialer.config import Settings
from dialer.errors import ConfigError, DialerError

log = logging.getLogger(__name__)

KEY_FILE = "secret.key"
MIN_KEY_CHARS = 16
_INFO = b"dialer secrets v1"


class SecretError(DialerError):
    """A stored secret cannot be decrypted with this process's key."""


class SecretBox:
    """Encrypts and decrypts short secrets with a key derived from the master key."""

    def __init__(self, master_key: str) -> None:
        if len(master_key) < MIN_KEY_CHARS:
            raise ConfigError(
                f"DIALER_SECRET_KEY must be at least {MIN_KEY_CHARS} characters",
                field="DIALER_SECRET_KEY",
            )
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            master_key.encode("utf-8")
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def encrypt(self, plaintext: str) -> bytes:
        return self.encrypt_bytes(plaintext.encode("utf-8"))

    def decrypt(self, ciphertext: bytes) -> str:
        return self.decrypt_bytes(ciphertext).decode("utf-8")

    def encrypt_bytes(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt_bytes(self, ciphertext: bytes) -> bytes:
        try:
            return self._fernet.decrypt(bytes(ciphertext))
        except InvalidToken:
            raise SecretError(
                "a stored secret cannot be decrypted: it was encrypted under another "
                "DIALER_SECRET_KEY (every process sharing the database needs the same key)"
            ) from None


def key_file_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def _read_key_file(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning(
            "secret key file is readable by other users; chmod 600 it",
            extra={"path": str(path), "mode": oct(mode)},
        )
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < MIN_KEY_CHARS:
        raise ConfigError(
            f"{path} holds no usable key; delete it only if no secret was stored with it",
            field="DIALER_SECRET_KEY",
        )
    return key


def _create_key_file(path: Path) -> None:
    """Write a fresh random key atomically, mode 0600; lose gracefully to a concurrent writer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".secret-", dir=path.parent)  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_urlsafe(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # another process created it first
            os.link(tmp, path)
            log.info("generated a secret key", extra={"path": str(path)})
    finally:
        os.unlink(tmp)


def master_key(settings: Settings) -> str:
    """``DIALER_SECRET_KEY``, or the data directory's key file (created on first use)."""
    return _master_key(_revealed(settings), settings.data_dir)


def _revealed(settings: Settings) -> str | None:
    return settings.secret_key.reveal() if settings.secret_key is not None else None


def _master_key(secret_key: str | None, data_dir: Path) -> str:
    if secret_key:
        return secret_key
    path = key_file_path(data_dir)
    if not path.exists():
        _create_key_file(path)
    return _read_key_file(path)


@functools.cache
def _box(secret_key: str | None, data_dir: Path) -> SecretBox:
    return SecretBox(_master_key(secret_key, data_dir))


def secret_box(settings: Settings) -> SecretBox:
    """The process's box for these settings (the key is read or created only once)."""
    return _box(_revealed(settings), settings.data_dir.resolve())
