"""FreeSWITCH command text: channel variables in ``{...}`` and the ``originate`` line.

Values go inside ``{k=v,...}``: a comma would start the next variable, braces and quotes
would end the block, so commas are escaped and the rest of those characters dropped;
a value with spaces is single-quoted.
"""

from __future__ import annotations

from dialer.gateway import OriginateRequest

_DROP = set("{}[]'\"\r\n")


def fs_value(value: str) -> str:
    text = "".join(c for c in str(value) if c not in _DROP).replace(",", "\\,")
    return f"'{text}'" if " " in text else text


def channel_vars(request: OriginateRequest, app: str) -> dict[str, str]:
    """Our tag, the call id and the engine's ids (``dialer_<name>``) for the callee leg."""
    variables = {
        "ignore_early_media": "true",
        "dialer_app": app,
        "dialer_call_id": request.call_id,
        "dialer_amd": "1" if request.amd else "0",
    }
    for key, value in request.variables:
        name = "".join(c if c.isalnum() else "_" for c in key).lower()
        variables[f"dialer_{name}"] = str(value)
    return variables


def originate_command(variables: dict[str, str], dial: str, target: str) -> str:
    """``originate {k=v,...}<dial string> <target>`` (target: ``&park()`` or an extension)."""
    inner = ",".join(f"{key}={fs_value(value)}" for key, value in variables.items())
    return f"originate {{{inner}}}{dial} {target}"
