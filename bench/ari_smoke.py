"""Manual check of a real switch: place one call through the dialer's adapter and watch it.

    DIALER_GATEWAY=ari DIALER_ARI_URL=http://pbx:8088/ari DIALER_ARI_USER=dialer \\
    DIALER_ARI_PASSWORD=... python bench/ari_smoke.py --to +15551230000 \\
        --caller-id +15550001111 [--agent PJSIP/1001 | --play sound:hello-world] [--no-amd]

(``DIALER_GATEWAY=esl`` with ``DIALER_ESL_*`` checks FreeSWITCH the same way.)

It connects (and reconciles: stray channels tagged with this ``DIALER_ARI_APP`` are hung
up, so do not share the app name with a running ``dialer serve``), originates one call
with the trunk template, prints every event as the engine would receive it, and when a
human answers either bridges the call to ``--agent`` (talk, then hang up either side),
plays ``--play`` (or the safe-harbor recording) and hangs up, or hangs up after
``--hold`` seconds. It ends with a summary of timings.

``--fake`` (``--fake esl``) runs the same steps against the in-repository fake Asterisk
(FreeSWITCH), no PBX needed, and
``--calls N`` places N calls at once and reports adapter throughput and latencies: a way
to try the script, and a benchmark of the adapter itself.

Not a test: it prints figures (one JSON object with ``--json``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from figures import print_figures

from dialer.config import Settings
from dialer.errors import UsageError
from dialer.gateway import (
    AgentLeg,
    Answered,
    CallEvent,
    Failed,
    Gateway,
    Hangup,
    OriginateRequest,
)
from dialer.telephony.factory import make_gateway, start_gateway
from dialer.timer import LoopTimer


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--to", default="+15550100000", help="callee number, E.164")
    p.add_argument("--caller-id", default="+15550009999", help="caller id, E.164")
    p.add_argument("--ring", type=float, default=25.0, help="ring timeout in seconds (>= 15)")
    p.add_argument("--no-amd", action="store_true", help="skip answering-machine detection")
    p.add_argument("--agent", help="bridge a human answer to this endpoint (e.g. PJSIP/1001)")
    p.add_argument("--play", help="play this to a human answer, then hang up")
    p.add_argument("--hold", type=float, default=5.0, help="seconds before hanging up a human")
    p.add_argument(
        "--fake",
        nargs="?",
        const="ari",
        choices=("ari", "esl"),
        help="use the in-repository fake Asterisk (or FreeSWITCH: --fake esl)",
    )
    p.add_argument("--calls", type=int, default=1, help="calls placed at once (throughput)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p.parse_args()


class Watch:
    """Events of the calls, with their times since the dial."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.started: dict[str, float] = {}
        self.events: dict[str, list[tuple[float, CallEvent]]] = {}
        self.done: dict[str, asyncio.Event] = {}
        self.answered: dict[str, asyncio.Event] = {}

    def add(self, call_id: str) -> None:
        self.started[call_id] = time.monotonic()
        self.events[call_id] = []
        self.done[call_id], self.answered[call_id] = asyncio.Event(), asyncio.Event()

    def __call__(self, event: CallEvent) -> None:
        at = time.monotonic() - self.started[event.call_id]
        self.events[event.call_id].append((at, event))
        if not self.quiet:
            print(f"  +{at:7.3f}s  {event}", flush=True)
        if isinstance(event, Answered):
            self.answered[event.call_id].set()
        if isinstance(event, Hangup | Failed) or type(event).__name__ in ("Busy", "NoAnswer"):
            self.done[event.call_id].set()
            self.answered[event.call_id].set()


async def _one_call(gateway: Gateway, watch: Watch, args: argparse.Namespace, n: int) -> str:
    call_id = str(uuid.uuid4())
    watch.add(call_id)
    number = args.to if args.calls == 1 else args.to[:-4] + f"{n % 7:04d}"
    request = OriginateRequest(call_id, number, args.caller_id, args.ring, not args.no_amd)
    await gateway.originate(request, watch)
    await watch.answered[call_id].wait()
    answer = next((e for _, e in watch.events[call_id] if isinstance(e, Answered)), None)
    if answer is not None and not watch.done[call_id].is_set():
        if answer.kind == "human" and args.agent:
            await gateway.bridge(call_id, AgentLeg(0, args.agent))
        elif answer.kind == "human" and args.play:
            await gateway.play(call_id, args.play)
            await gateway.hangup(call_id)
        elif answer.kind == "human":
            try:
                await asyncio.wait_for(watch.done[call_id].wait(), args.hold)
            except TimeoutError:
                await gateway.hangup(call_id)
        else:
            await gateway.hangup(call_id)
    await asyncio.wait_for(watch.done[call_id].wait(), args.ring + 3600)
    return call_id


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    fake: Any = None
    env = dict(os.environ)
    if args.fake == "ari":
        from tests.fakes.ari_server import FakeAsterisk

        fake = FakeAsterisk(time_scale=0.01)
        await fake.start()
        env |= {
            "DIALER_GATEWAY": "ari",
            "DIALER_ARI_URL": fake.url,
            "DIALER_ARI_USER": fake.user,
            "DIALER_ARI_PASSWORD": fake.password,
        }
    elif args.fake == "esl":
        from tests.fakes.esl_server import FakeFreeSwitch

        fake = FakeFreeSwitch(time_scale=0.01)
        await fake.start()
        env |= {
            "DIALER_GATEWAY": "esl",
            "DIALER_ESL_PORT": str(fake.port),
            "DIALER_ESL_PASSWORD": fake.password,
        }
    settings = Settings.from_env(env)
    if settings.gateway == "sim":
        raise UsageError("set DIALER_GATEWAY=ari (or esl) and its DIALER_* settings, or --fake")
    gateway = make_gateway(settings, LoopTimer())
    watch = Watch(quiet=args.json or args.calls > 1)
    try:
        t0 = time.monotonic()
        await start_gateway(gateway)
        connect_s = time.monotonic() - t0
        t1 = time.monotonic()
        calls = await asyncio.gather(
            *(_one_call(gateway, watch, args, n) for n in range(args.calls))
        )
        wall_s = time.monotonic() - t1
    finally:
        await gateway.close()
        if fake is not None:
            await fake.stop()
    return _summary(watch, calls, connect_s, wall_s, settings.gateway)


def _summary(
    watch: Watch, calls: list[str], connect_s: float, wall_s: float, kind: str
) -> dict[str, Any]:
    def first(call_id: str, name: str) -> float | None:
        return next((t for t, e in watch.events[call_id] if type(e).__name__ == name), None)

    ring = [t for c in calls if (t := first(c, "Ringing")) is not None]
    answer = [t for c in calls if (t := first(c, "Answered")) is not None]
    finals = [type(watch.events[c][-1][1]).__name__ for c in calls]
    result: dict[str, Any] = {
        "gateway": kind,
        "calls": len(calls),
        "connect_s": round(connect_s, 3),
        "wall_s": round(wall_s, 3),
        "calls_per_s": round(len(calls) / wall_s, 1) if wall_s else None,
        "ringing_p50_s": round(statistics.median(ring), 3) if ring else None,
        "answered_p50_s": round(statistics.median(answer), 3) if answer else None,
        "finals": {name: finals.count(name) for name in sorted(set(finals))},
    }
    if len(calls) == 1:
        result["events"] = [f"+{t:.3f}s {e}" for t, e in watch.events[calls[0]]]
    return result


def main() -> int:
    args = _args()
    try:
        result = asyncio.run(_run(args))
    except UsageError as exc:
        print(f"ari_smoke: error: {exc.message}", file=sys.stderr)
        return 2
    print_figures(result, as_json=args.json, skip=("events",))
    return 0


if __name__ == "__main__":
    sys.exit(main())
