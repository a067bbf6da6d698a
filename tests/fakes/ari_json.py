"""ARI JSON as Asterisk writes it: the ``Channel`` and ``Bridge`` models and the event envelope.

Field for field from ``rest-api/api-docs`` (``channels.json``, ``bridges.json``,
``events.json``) and ``ast_channel_snapshot_to_json``: ``channelvars`` appears only when
ari.conf names some (``channelvars = ...``); every event carries ``type``, ``timestamp``,
``asterisk_id`` and ``application``.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.calls import Leg, ts

Json = dict[str, Any]


def channel_json(leg: Leg, channelvars: tuple[str, ...] = ()) -> Json:
    data: Json = {
        "id": leg.id,
        "name": leg.name,
        "state": leg.state,
        "protocol_id": "",
        "caller": {"name": "", "number": leg.caller},
        "connected": {"name": "", "number": ""},
        "accountcode": "",
        "dialplan": {
            "context": leg.context,
            "exten": leg.exten,
            "priority": leg.priority,
            "app_name": leg.app_name,
            "app_data": leg.app_data,
        },
        "creationtime": leg.created,
        "language": "en",
    }
    if channelvars:
        data["channelvars"] = {k: leg.variables.get(k, "") for k in channelvars}
    return data


def bridge_json(bridge_id: str, bridge_type: str, name: str) -> Json:
    return {
        "id": bridge_id,
        "technology": "simple_bridge",
        "bridge_type": bridge_type,
        "bridge_class": "stasis",
        "creator": "Stasis",
        "name": name,
        "channels": [],
        "creationtime": ts(),
        "video_mode": "none",
    }


def envelope(app: str, kind: str, asterisk_id: str, **fields: Any) -> Json:
    return {
        "type": kind,
        "timestamp": ts(),
        **fields,
        "asterisk_id": asterisk_id,
        "application": app,
    }
