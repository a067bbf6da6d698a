"""A person as the privacy requests name them: a number (any format) at one client."""

from __future__ import annotations

from dialer.auth.roles import Principal
from dialer.errors import ValidationError
from dialer.leads.phones import Rejection, check_region, normalise_number


def e164_of(phone: object, region: str | None = None) -> str:
    """The E.164 form of a number typed in any format (``region`` for national formats)."""
    if not isinstance(phone, str) or not phone.strip():
        raise ValidationError("phone is required: the person's number", field="phone")
    try:
        country = check_region(region)
    except ValueError as exc:
        raise ValidationError(str(exc), field="default_region") from None
    number = normalise_number(phone, country)
    if isinstance(number, Rejection):
        raise ValidationError(f"phone: {number.detail}", field="phone")
    return number.e164


def client_of(who: Principal, client_id: object) -> int:
    """The client a request is about: a client-limited principal's own, else ``client_id``."""
    if client_id is None or client_id == "":
        if who.client_id is None:
            raise ValidationError("client_id is required: whose leads to search", field="client_id")
        return who.client_id
    try:
        value = int(str(client_id))
    except ValueError:
        raise ValidationError("client_id must be a client's id", field="client_id") from None
    return value
