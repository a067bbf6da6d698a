"""Passwords (argon2id) and the optional TOTP second factor. Pure apart from hashing.

Passwords are stored only as argon2id PHC strings (``argon2-cffi``'s defaults, RFC 9106's
low-memory profile); a hash made with weaker parameters is re-made at the next sign-in.
TOTP secrets (RFC 6238, 30 s steps, 6 digits) are stored encrypted; a code is accepted
one step either side of the clock's time.
"""

from __future__ import annotations

from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dialer.errors import ValidationError

MIN_PASSWORD = 10
MAX_PASSWORD = 200
ISSUER = "Dialer"
_HASHER = PasswordHasher()  # argon2id
# Verifying against this when the user does not exist keeps the answer's timing alike.
_DUMMY = _HASHER.hash("not a password of anyone")


def check_password(password: object, field: str = "password") -> str:
    """A password a user may choose: 10-200 characters, not only spaces."""
    if not isinstance(password, str) or not password.strip():
        raise ValidationError("password must not be empty", field=field)
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationError(
            f"password must be {MIN_PASSWORD}-{MAX_PASSWORD} characters long", field=field
        )
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (None: no such user, still spends the time)."""
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, user_name: str) -> str:
    """The ``otpauth://`` address an authenticator app scans (as a QR code) or imports."""
    return pyotp.TOTP(secret).provisioning_uri(name=user_name, issuer_name=ISSUER)


def totp_valid(secret: str, code: object, *, now: datetime) -> bool:
    """Whether ``code`` is the current 6-digit code (one 30 s step of drift allowed)."""
    if not isinstance(code, str):
        return False
    digits = code.replace(" ", "")
    if len(digits) != 6 or not digits.isdigit():
        return False
    return pyotp.TOTP(secret).verify(digits, for_time=now, valid_window=1)
