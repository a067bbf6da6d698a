"""Which library parses phone numbers: ``phonenumbers``, or the ``rphonenumbers`` accelerator.

``rphonenumbers`` (``pip install 'dialer[fast]'``) offers phonenumbers' API over the
rlibphonenumber Rust crate and parses and validates several times faster. It is young, so it
earns its place case by case: it only ever *accepts* a number, and only when its libphonenumber
metadata and the installed phonenumbers release are a pair checked by the differential test
(``tests/unit/leads/test_phone_parity.py``). Every number it rejects, and every number of a
country code where the pair disagrees, is read again by phonenumbers, so rejections, their
details and all results are the same whichever backend runs. Place and time zones always come
from phonenumbers' own tables (``dialer.compliance.place``), given a phonenumbers
``PhoneNumber`` built from the accelerator's fields.

``DIALER_PHONE_BACKEND``: ``auto`` (the accelerator when installed and verified),
``phonenumbers`` or ``rphonenumbers`` (required: fails when it is missing).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType

import phonenumbers

from dialer.errors import UsageError

log = logging.getLogger(__name__)

AUTO = "auto"
PHONENUMBERS = "phonenumbers"
RPHONENUMBERS = "rphonenumbers"
BACKENDS = (AUTO, PHONENUMBERS, RPHONENUMBERS)

# (rphonenumbers' libphonenumber metadata release, phonenumbers release) → country calling
# codes left to phonenumbers because the two releases' metadata disagree there. Found by the
# differential test, which fails for a pair missing here or a disagreement outside the set.
VERIFIED: dict[tuple[str, str], frozenset[int]] = {
    ("9.0.41", "9.0.41"): frozenset(),
    # phonenumbers 9.0.43 changed Zimbabwe's ranges (+263 2020… is valid in 9.0.41 only).
    ("9.0.41", "9.0.43"): frozenset({263}),
}


@dataclass(frozen=True, slots=True)
class Backend:
    """The parser in use: ``fast`` is the accelerator module (None: phonenumbers only)."""

    name: str
    fast: ModuleType | None = None
    fallback_codes: frozenset[int] = frozenset()
    note: str = ""


def _import_fast() -> ModuleType | None:
    try:
        import rphonenumbers  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return rphonenumbers  # type: ignore[no-any-return,unused-ignore]


def version_pair(fast: ModuleType) -> tuple[str, str]:
    """(the accelerator's metadata release, the installed phonenumbers release)."""
    return (str(getattr(fast, "__phonenumbers_version__", "?")), str(phonenumbers.__version__))


def choose(name: str) -> Backend:
    """The backend ``DIALER_PHONE_BACKEND=name`` asks for on this installation."""
    if name not in BACKENDS:
        raise UsageError(f"phone backend must be one of {', '.join(BACKENDS)} (got {name!r})")
    if name == PHONENUMBERS:
        return Backend(PHONENUMBERS, note="chosen by DIALER_PHONE_BACKEND")
    fast = _import_fast()
    if fast is None:
        if name == RPHONENUMBERS:
            raise UsageError(
                "DIALER_PHONE_BACKEND=rphonenumbers but rphonenumbers is not installed: "
                "pip install 'dialer[fast]' or set DIALER_PHONE_BACKEND=auto"
            )
        return Backend(PHONENUMBERS, note="rphonenumbers not installed")
    pair = version_pair(fast)
    codes = VERIFIED.get(pair)
    if codes is None:
        note = f"metadata pair rphonenumbers {pair[0]} / phonenumbers {pair[1]} not verified"
        if name == AUTO:
            return Backend(PHONENUMBERS, note=note)
        # Required by the operator: accepted numbers still need its validity verdict only
        # where the pair agrees, so without a verified set nothing but rejections fall back.
        return Backend(RPHONENUMBERS, fast, frozenset(), note)
    return Backend(RPHONENUMBERS, fast, codes, f"metadata {pair[0]}, phonenumbers {pair[1]}")


_active: Backend | None = None


def active() -> Backend:
    """The backend of this process (``auto`` until ``select`` says otherwise)."""
    global _active
    if _active is None:
        _active = choose(AUTO)
    return _active


def select(name: str) -> Backend:
    """Use backend ``name`` in this process from now on (worker start, composition root)."""
    global _active
    backend = choose(name)
    if _active is None or _active != backend:
        log.info("phone numbers parsed with %s (%s)", backend.name, backend.note)
    _active = backend
    return backend


@contextmanager
def using(name: str) -> Iterator[Backend]:
    """Backend ``name`` for the duration of a block (differential checks), then the one before."""
    global _active
    before = _active
    _active = choose(name)
    try:
        yield _active
    finally:
        _active = before
