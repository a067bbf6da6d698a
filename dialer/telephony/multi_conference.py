"""Transfers and conferences across several switches: a call's legs are placed on the
switch that carries the call (``gateway.Conferencing``), a mixin of ``MultiSwitchGateway``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialer.gateway import Conferencing, EventSink, GatewayError, LegRequest

if TYPE_CHECKING:
    from dialer.telephony.multi import Switch


class MultiConferencing:
    if TYPE_CHECKING:

        def _switch(self, call_id: str) -> Switch: ...

    def _conferencing(self, call_id: str) -> Conferencing:
        switch = self._switch(call_id)
        if not isinstance(switch.gateway, Conferencing):
            raise GatewayError(f"switch {switch.name} cannot transfer calls")
        return switch.gateway

    async def hold(self, call_id: str) -> None:
        await self._conferencing(call_id).hold(call_id)

    async def unhold(self, call_id: str) -> None:
        await self._conferencing(call_id).unhold(call_id)

    async def add_leg(self, request: LegRequest, on_event: EventSink) -> None:
        await self._conferencing(request.call_id).add_leg(request, on_event)

    async def drop_leg(self, call_id: str, leg_id: str) -> None:
        await self._conferencing(call_id).drop_leg(call_id, leg_id)

    async def drop_agent(self, call_id: str) -> None:
        await self._conferencing(call_id).drop_agent(call_id)
