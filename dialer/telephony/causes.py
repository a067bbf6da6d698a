"""Hangup causes (ITU-T Q.850 and FreeSWITCH's extensions) and what they mean to a dialer.

Asterisk reports a cause as a number (ARI ``ChannelDestroyed.cause``); FreeSWITCH as a name
(``Hangup-Cause: USER_BUSY``) with the number beside it (``variable_hangup_cause_q850``).
Both come here, so the two adapters agree on what "busy", "no answer" and "congestion"
are: an unanswered call becomes ``Busy``, ``NoAnswer`` or ``Failed(reason)``; an answered
one is attributed to the callee or to the network.
"""

from __future__ import annotations

from dialer.gateway import Busy, Failed, HangupBy, NoAnswer

# Q.850 cause values (1-127) and FreeSWITCH's own (>= 487), named as FreeSWITCH names them.
CAUSE_NAMES: dict[int, str] = {
    0: "NONE",
    1: "UNALLOCATED_NUMBER",
    2: "NO_ROUTE_TRANSIT_NET",
    3: "NO_ROUTE_DESTINATION",
    6: "CHANNEL_UNACCEPTABLE",
    7: "CALL_AWARDED_DELIVERED",
    16: "NORMAL_CLEARING",
    17: "USER_BUSY",
    18: "NO_USER_RESPONSE",
    19: "NO_ANSWER",
    20: "SUBSCRIBER_ABSENT",
    21: "CALL_REJECTED",
    22: "NUMBER_CHANGED",
    23: "REDIRECTION_TO_NEW_DESTINATION",
    25: "EXCHANGE_ROUTING_ERROR",
    26: "ANSWERED_ELSEWHERE",
    27: "DESTINATION_OUT_OF_ORDER",
    28: "INVALID_NUMBER_FORMAT",
    29: "FACILITY_REJECTED",
    30: "RESPONSE_TO_STATUS_ENQUIRY",
    31: "NORMAL_UNSPECIFIED",
    34: "NORMAL_CIRCUIT_CONGESTION",
    38: "NETWORK_OUT_OF_ORDER",
    41: "NORMAL_TEMPORARY_FAILURE",
    42: "SWITCH_CONGESTION",
    43: "ACCESS_INFO_DISCARDED",
    44: "REQUESTED_CHAN_UNAVAIL",
    45: "PRE_EMPTED",
    50: "FACILITY_NOT_SUBSCRIBED",
    52: "OUTGOING_CALL_BARRED",
    54: "INCOMING_CALL_BARRED",
    57: "BEARERCAPABILITY_NOTAUTH",
    58: "BEARERCAPABILITY_NOTAVAIL",
    63: "SERVICE_UNAVAILABLE",
    65: "BEARERCAPABILITY_NOTIMPL",
    66: "CHAN_NOT_IMPLEMENTED",
    69: "FACILITY_NOT_IMPLEMENTED",
    79: "SERVICE_NOT_IMPLEMENTED",
    81: "INVALID_CALL_REFERENCE",
    88: "INCOMPATIBLE_DESTINATION",
    95: "INVALID_MSG_UNSPECIFIED",
    96: "MANDATORY_IE_MISSING",
    97: "MESSAGE_TYPE_NONEXIST",
    98: "WRONG_MESSAGE",
    99: "IE_NONEXIST",
    100: "INVALID_IE_CONTENTS",
    101: "WRONG_CALL_STATE",
    102: "RECOVERY_ON_TIMER_EXPIRE",
    103: "MANDATORY_IE_LENGTH_ERROR",
    111: "PROTOCOL_ERROR",
    127: "INTERWORKING",
    142: "SUCCESS",
    487: "ORIGINATOR_CANCEL",
    700: "CRASH",
    701: "SYSTEM_SHUTDOWN",
    702: "LOSE_RACE",
    703: "MANAGER_REQUEST",
    800: "BLIND_TRANSFER",
    801: "ATTENDED_TRANSFER",
    802: "ALLOTTED_TIMEOUT",
    803: "USER_CHALLENGE",
    804: "MEDIA_TIMEOUT",
    805: "PICKED_OFF",
    806: "USER_NOT_REGISTERED",
    807: "PROGRESS_TIMEOUT",
    808: "INVALID_GATEWAY",
    809: "GATEWAY_DOWN",
    810: "INVALID_URL",
    811: "INVALID_PROFILE",
    812: "NO_PICKUP",
    813: "SRTP_READ_ERROR",
    814: "BOWOUT",
    815: "BUSY_EVERYWHERE",
    816: "DECLINE",
    817: "DOES_NOT_EXIST_ANYWHERE",
    818: "NOT_ACCEPTABLE",
    819: "UNWANTED",  # SIP 607: the callee (or its carrier's analytics) flagged the caller
    820: "NO_IDENTITY",  # SIP 428: STIR/SHAKEN Identity header required
    821: "BAD_IDENTITY_INFO",  # SIP 429
    822: "UNSUPPORTED_CERTIFICATE",  # SIP 437
    823: "INVALID_IDENTITY",  # SIP 438
    824: "STALE_DATE",  # SIP 403 "Stale Date" (STIR/SHAKEN)
    825: "REJECT_ALL",
}
CAUSE_CODES: dict[str, int] = {name: code for code, name in CAUSE_NAMES.items()}

BUSY = frozenset({17, 815})
NO_ANSWER = frozenset({18, 19, 20, 802, 807, 812})
# Causes that, before an answer, say nothing beyond "it ended": a ringing call ending
# this way was not picked up.
UNSPECIFIC = frozenset({0, 16, 31, 127, 487})
FAILED_REASONS: dict[int, str] = {
    1: "unallocated",
    2: "no_route",
    3: "no_route",
    21: "rejected",
    22: "number_changed",
    27: "destination_out_of_order",
    28: "invalid_number",
    34: "congestion",
    42: "congestion",
    44: "congestion",
    38: "network",
    41: "network",
    102: "network",
    111: "network",
    808: "gateway",
    809: "gateway",
    806: "unregistered",
    816: "rejected",
    817: "unallocated",
    819: "unwanted",
    820: "identity_rejected",
    821: "identity_rejected",
    822: "identity_rejected",
    823: "identity_rejected",
    824: "identity_rejected",
    825: "rejected",
}
# The SIP final response, when the switch reports it, decides over the cause: Asterisk and
# FreeSWITCH map the same response to different causes (408: NO_USER_RESPONSE on Asterisk,
# RECOVERY_ON_TIMER_EXPIRE on FreeSWITCH; 503: congestion vs NORMAL_TEMPORARY_FAILURE).
SIP_OUTCOMES: dict[int, str] = {
    404: "unallocated",
    410: "number_changed",
    484: "invalid_number",
    485: "unallocated",
    604: "unallocated",
    408: "no_answer",
    480: "no_answer",
    486: "busy",
    600: "busy",
    503: "congestion",
    603: "rejected",
    607: "unwanted",
    608: "unwanted",  # RFC 8688 "Rejected": an intermediary's call analytics refused it
    428: "identity_rejected",
    429: "identity_rejected",
    437: "identity_rejected",
    438: "identity_rejected",
}
# (The reasons the engine acts on, robocall rejections and bad numbers, are listed with
# ``Failed`` in dialer.gateway: RETIRING_REASONS, ROBOCALL_REASONS.)
# After an answer, these mean the line or a switch dropped the call, not the callee.
NETWORK = frozenset({27, 34, 38, 41, 42, 44, 102, 111, 127, 700, 701, 804, 809})


def cause_code(value: int | str | None) -> int:
    """A cause as its number, from a number, a numeric string or a FreeSWITCH name."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = value.strip()
    if text.isdigit():
        return int(text)
    return CAUSE_CODES.get(text.upper(), 0)


def cause_label(code: int) -> str:
    """The short text stored with a hangup: ``normal`` for normal clearing, else the name."""
    if code == 16:
        return "normal"
    return CAUSE_NAMES.get(code, f"cause_{code}").lower()


def sip_status(value: object) -> int | None:
    """A SIP final response code (300-699) from an event field, else None."""
    try:
        status = int(str(value).strip())
    except ValueError:
        return None
    return status if 300 <= status < 700 else None


def unanswered_event(
    call_id: str, t: float, code: int, *, rang: bool, rang_out: bool, sip: int | None = None
) -> Busy | NoAnswer | Failed:
    """The final event of a call that ended before anyone answered.

    ``rang``: the callee's phone was ringing; ``rang_out``: the ring timeout had passed;
    ``sip``: the SIP final response, when the switch reports it (it decides over ``code``).
    """
    outcome = SIP_OUTCOMES.get(sip) if sip is not None else None
    if outcome == "busy":
        return Busy(call_id, t)
    if outcome == "no_answer":
        return NoAnswer(call_id, t)
    if outcome is not None:
        return Failed(call_id, t, outcome)
    if code in BUSY:
        return Busy(call_id, t)
    if code in NO_ANSWER or rang_out or (code in UNSPECIFIC and rang):
        return NoAnswer(call_id, t)
    return Failed(call_id, t, FAILED_REASONS.get(code, cause_label(code)))


def hangup_party(code: int) -> HangupBy:
    """Who ended an answered call the dialer did not hang up itself."""
    return "network" if code in NETWORK else "callee"
