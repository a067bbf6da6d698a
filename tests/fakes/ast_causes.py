"""How Asterisk's chan_pjsip turns a SIP final response into a Q.850 cause, for the fake.

From ``ast_sip_hangup_sip2cause`` in ``res/res_pjsip.c`` (asterisk/asterisk at commit
f0c1c1a7b79b0f8cc0311649bf36824cbeee30a9, GPLv2), with the values of
``include/asterisk/causes.h``. ``ChannelDestroyed`` carries the result as ``cause`` and the
SIP status itself as ``tech_cause``.
"""

from __future__ import annotations

SIP_TO_CAUSE: dict[int, int] = {
    302: 23,
    401: 21,
    403: 21,
    404: 1,
    405: 127,
    407: 21,
    408: 18,
    409: 41,
    410: 22,
    411: 127,
    413: 127,
    414: 127,
    415: 127,
    420: 3,
    480: 19,
    481: 127,
    482: 127,
    483: 19,
    484: 28,
    485: 1,
    486: 17,
    487: 127,
    488: 58,
    491: 127,
    493: 127,
    500: 38,  # AST_CAUSE_FAILURE is AST_CAUSE_NETWORK_OUT_OF_ORDER
    501: 29,
    502: 27,
    503: 34,
    504: 102,
    505: 127,
    600: 17,
    603: 21,
    604: 1,
    606: 58,
}


def ast_cause_for_sip(status: int) -> int:
    if status in SIP_TO_CAUSE:
        return SIP_TO_CAUSE[status]
    if 400 <= status < 500 or 600 <= status < 700:
        return 127
    if 500 <= status < 600:
        return 34
    return 16
