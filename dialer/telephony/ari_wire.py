"""What the ARI adapter sends and how it reads Asterisk's answers: channel variables, AMD
verdicts, error bodies and what an originate refusal means."""

from __future__ import annotations

from typing import Any

from dialer.gateway import AnswerKind, GatewayError, GatewayUnavailable, OriginateRequest

AMD_KINDS: dict[str, AnswerKind] = {
    "HUMAN": "human",
    "NOTSURE": "human",
    "MACHINE": "machine",
    "FAX": "fax",
}


def channel_variables(request: OriginateRequest, app: str) -> dict[str, str]:
    """What the callee channel carries: our tag, the call id and the engine's ids."""
    variables = {
        "DIALER_APP": app,
        "DIALER_CALL_ID": request.call_id,
        "DIALER_AMD": "1" if request.amd else "0",
    }
    for key, value in request.variables:
        name = "".join(c if c.isalnum() else "_" for c in key).upper()
        variables[f"DIALER_{name}"] = str(value)
    return variables


def error_text(data: Any) -> str:
    """The text of an ARI error body: ``{"message": ...}``, or ``{"error": ...}`` (what
    ``ast_ari_response_alloc_failed`` sends with its HTTP 500)."""
    if not isinstance(data, dict):
        return ""
    return str(data.get("message") or data.get("error") or "")


def refusal(status: int, data: Any) -> GatewayError:
    """The error for an originate Asterisk answered with ``status``.

    HTTP 500 is what ARI answers when it cannot create this one channel (``ast_dial_prerun``
    failed: an unknown endpoint, a channel driver refusing it; body ``{"error": "Allocation
    failed"}``): that call fails, the switch is not down. Other 5xx (a proxy's 502/503/504)
    mean Asterisk cannot be reached."""
    text = f"Asterisk refused the call (HTTP {status}: {error_text(data)})"
    if status >= 500 and status != 500:
        return GatewayUnavailable(text)
    if status == 500:
        text += "; check the endpoint (DIALER_ARI_TRUNK) in pjsip.conf"
    return GatewayError(text)
