"""Secrets at rest: encrypted with a key from DIALER_SECRET_KEY or a 0600 key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from dialer.config import Secret, Settings
from dialer.errors import ConfigError
from dialer.secrets import SecretBox, SecretError, key_file_path, master_key, secret_box


def test_round_trip_and_ciphertext_hides_the_secret() -> None:
    box = SecretBox("a-long-enough-master-key")
    token = box.encrypt("whsec_plain")
    assert b"whsec_plain" not in token
    assert box.decrypt(token) == "whsec_plain"
    assert "master" not in repr(box)


def test_another_key_cannot_decrypt_and_says_why() -> None:
    token = SecretBox("first-master-key-123").encrypt("s3cret-value")
    with pytest.raises(SecretError, match="DIALER_SECRET_KEY"):
        SecretBox("second-master-key-456").decrypt(token)


def test_short_configured_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="DIALER_SECRET_KEY"):
        SecretBox("short")


def test_key_file_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = master_key(settings)
    path = key_file_path(settings.data_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert master_key(settings) == first  # reused, not regenerated
    assert len(first) >= 40
    # A secret stored by one process is readable by the next one using the same folder.
    token = secret_box(settings).encrypt("hello-crm")
    assert SecretBox(master_key(Settings(data_dir=tmp_path / "data"))).decrypt(token) == (
        "hello-crm"
    )
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]  # no temp files left


def test_configured_key_wins_and_no_file_is_written(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key=Secret("configured-key-0123456789"))
    assert master_key(settings) == "configured-key-0123456789"
    assert not key_file_path(tmp_path).exists()


def test_empty_key_file_is_reported(tmp_path: Path) -> None:
    key_file_path(tmp_path).write_text("\n")
    with pytest.raises(ConfigError, match="no usable key"):
        master_key(Settings(data_dir=tmp_path))
