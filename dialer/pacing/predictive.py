"""Predictive pacer: dial ahead of free agents, as far as the abandon budget allows.

Design (the maths, figures and limits are in ``docs/pacing.md``):

1. **Learn the call** online: ``p`` = P(human answer) with a 20-minute half-life (answer
   rates drift through the day), the answer-time distribution of humans and the
   resolution-time distribution of everything else, learnt by dial cohort so the quick
   outcomes of the first minute do not bias them; talk and wrap-up durations through
   Kaplan-Meier estimates that count calls still running as censored (Kaplan & Meier
   1958). Until 10 humans and 50 settled dials have been seen the pacer is progressive.
2. **Forecast** (``outlook.py``), for horizons ``tau_k`` = quantiles of the human answer
   time: humans due from the calls in flight, each through the answer hazard of its age
   (``p g(a+tau) - p g(a)`` over the chance ``S(a)`` it is still ringing), and agents
   free by ``tau_k + 2 s``, each wrap-up and each call through the hazard of its elapsed
   time ("agents about to free up count"). Both are sums of Bernoulli trials, handled by
   their means and variances with a normal approximation - the many-server,
   square-root-staffing view of Erlang-type queues (Halfin & Whitt 1981; Garnett,
   Mandelbaum & Reiman 2002), applied to Samuelson's (1999) framing of predictive
   dialling as forecasting answers against agents freeing up.
3. **Price the marginal call.** With humans answering at times ``s`` and agents freeing
   at times ``a``, the abandons are ``max over tau of (humans by tau - agents by tau+2s)+``
   (Hall's marriage theorem on this nested structure). A new call answering at
   ``tau_k`` therefore adds an abandon when humans catch up with agents at any horizon
   from ``tau_k`` on - its own wait, or a later human it displaces. We average that
   probability over the ``K`` equally likely answer times, adding the uncertainty of
   ``p`` itself to the variance, so the margin shrinks as evidence grows.
4. **Dial** the largest number of calls whose marginal risk is at most a threshold
   ``theta``: the Lagrangian (price) form of "maximise talk time subject to an abandon
   rate" (Gans, Koole & Mandelbaum 2003 survey such models; Fourati & Tabbane 2010 and
   Linden 2010 tune a dial rate against occupancy and abandons) - and never fewer than
   progressive would.
5. **Control the budget** (``budget.py``): ``theta`` comes from a feedback loop on the
   legal abandon count, spending abandons while under a budget line a little below the
   limit and falling back to progressive when it is used up. The counts come from the
   state, so the budget survives restarts. Agents who asked to pause when they free up
   (``agents_pausing``) are taken off the agents due.
6. **Guard the window** (``_within_headroom``): one more abandon must fit; a thin headroom
   caps the calls no free agent covers (exact binomial tail); from 10 agents, a burst the
   window cannot absorb may come with at most ``burst_eps`` at every horizon
   (``horizons.deficit_tail``).

Cost: O(K) per event and decision (x log n for big batches); O(agents) rebuild each second.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from dialer.pacing.base import (
    Abandoned,
    AnsweredHuman,
    AnsweredMachine,
    CallEnded,
    Connected,
    Dialed,
    PacingEvent,
    PacingState,
    Unanswered,
    WrapEnded,
    clamp_launch,
    line_cap,
)
from dialer.pacing.budget import (
    AbandonBudget,
    largest_below,
    safe_uncovered,
    uncommitted_agents,
)
from dialer.pacing.horizons import (
    BurstSettings,
    Horizon,
    burst_cap,
    expected_overflow,
    marginal_risk,
)
from dialer.pacing.outlook import NH, AgentModel, CallModel, Outlook
from dialer.pacing.tracking import InFlightTracker, StartTimes


class PredictivePacer:
    """Model-based dialling under an explicit abandon budget (see the module docstring).

    Tuning (defaults set with ``bench/pacing_bench.py``): ``max_abandon_rate`` the limit;
    ``max_wait_s`` the answer-to-agent limit (2 s); ``theta`` a fixed risk threshold (for
    experiments); ``reserve``, ``buffer``, ``gain``, ``min_scale``, ``learn`` the budget
    loop (``AbandonBudget``); ``half_life_s`` the answer rate's memory; ``min_humans``,
    ``min_resolved`` the evidence needed to dial ahead; ``max_dial_level`` a breaker on
    calls per agent; ``guard_*`` the slack guard (``_within_headroom``,
    ``budget.window_can_absorb``); ``burst_*`` the burst cap (``BurstSettings``);
    ``shared_p`` the rate assumed for shared agents' calls.
    """

    def __init__(
        self,
        *,
        max_abandon_rate: float = 0.03,
        max_lines: int | None = None,
        max_wait_s: float = 2.0,
        theta: float | None = None,
        reserve: float = 0.5,
        buffer: float = 3.0,
        gain: float = 0.35,
        min_scale: float = 1.0,
        learn: float = 0.1,
        half_life_s: float = 1200.0,
        min_humans: int = 10,
        min_resolved: int = 50,
        refresh_s: float = 1.0,
        tables_every_s: float = 60.0,
        variance_floor: float = 0.05,
        max_dial_level: float = 20.0,
        guard_safety: float = 1.5,
        guard_thin: float = 5.0,
        guard_burst: float = 0.0,
        guard_due_z: float = 1.0,
        shared_p: float = 0.5,
        young: float = 0.5,
        guard_eps: float = 0.05,
        guard_tail_k: float = math.inf,
        burst_eps: float = 0.001,
        burst_spread: float = 3.0,
        burst_min_agents: int = 10,
        **end: float,  # end_ramp, end_keep, end_eps, end_from: the shift's end (AbandonBudget)
    ) -> None:
        self.max_lines = max_lines
        self.max_wait_s = max_wait_s
        self.fixed_theta = theta
        self.min_humans = min_humans
        self.min_resolved = min_resolved
        self.refresh_s = refresh_s
        self.tables_every_s = tables_every_s
        self.variance_floor = variance_floor
        self.max_dial_level = max_dial_level
        self.guard_safety = guard_safety
        self.guard_thin = guard_thin
        self.guard_due_z = guard_due_z
        self.shared_p = shared_p
        self.guard_eps = guard_eps
        self.guard_tail_k = guard_tail_k
        self.burst = BurstSettings(burst_eps, burst_spread, burst_min_agents)
        self.budget = AbandonBudget(
            limit=max_abandon_rate,
            reserve=reserve,
            buffer=buffer,
            gain=gain,
            min_scale=min_scale,
            learn=learn,
            guard_burst=guard_burst,
            young=young,
            **end,
        )
        self.calls = CallModel(half_life_s=half_life_s, prior_p=0.2, prior_weight=10.0)
        self.agents = AgentModel()
        self.outlook = Outlook()
        self.in_flight = InFlightTracker()
        self.on_call = StartTimes()
        self.wrapping = StartTimes()
        self.theta = 0.0
        self._next_refresh = self._next_tables = -math.inf
        self._tables_ready = False
        self._handlers = {
            Dialed: self._on_dialed,
            AnsweredHuman: self._on_human,
            AnsweredMachine: self._on_machine,
            Unanswered: self._on_unanswered,
            Connected: self._on_connected,
            CallEnded: self._on_call_ended,
            WrapEnded: self._on_wrap_ended,
            Abandoned: self._on_abandoned,
        }

    # -- learning ------------------------------------------------------------------
    def observe(self, event: PacingEvent) -> None:
        """Update the estimates, the trackers and the outlook from one event."""
        self._handlers[type(event)](event)  # type: ignore[operator]

    def _on_dialed(self, e: Dialed) -> None:
        self.in_flight.add(e.t)
        self.outlook.call_added(0.0)

    def _resolved(self, t: float, age: float, human: bool) -> None:
        self.calls.resolved(t - age, human, age)
        if self.in_flight.remove(t - age) is not None:
            self.outlook.call_resolved(age)

    def _on_human(self, e: AnsweredHuman) -> None:
        self._resolved(e.t, e.ring_s, True)

    def _on_machine(self, e: AnsweredMachine) -> None:
        self._resolved(e.t, e.ring_s + e.amd_s, False)

    def _on_unanswered(self, e: Unanswered) -> None:
        self._resolved(e.t, e.ring_s, False)

    def _on_connected(self, e: Connected) -> None:
        self.on_call.add(e.t)
        self.outlook.talk_started()

    def _on_call_ended(self, e: CallEnded) -> None:
        self.on_call.remove(e.t - e.talk_s)
        self.wrapping.add(e.t)
        self.agents.talk.add(e.talk_s)
        self.outlook.talk_ended(e.talk_s)

    def _on_wrap_ended(self, e: WrapEnded) -> None:
        self.wrapping.remove(e.t - e.wrap_s)
        self.agents.wrap.add(e.wrap_s)
        self.outlook.wrap_ended(e.wrap_s)

    def _on_abandoned(self, e: Abandoned) -> None:
        """Abandons are counted by the engine (``window_abandoned``), not here."""

    # -- deciding ------------------------------------------------------------------
    def calls_to_launch(self, state: PacingState) -> int:
        """Progressive's count, or more while the marginal call's risk stays under θ."""
        shared = state.shared_calls_in_flight
        n_prog = max(0, state.agents_available - state.calls_in_flight - shared)
        self._refresh(state)
        theta = self._threshold(state)
        self.theta = theta
        if theta <= 0.0 or not self._tables_ready:
            return clamp_launch(n_prog, state, self.max_lines)
        cap = line_cap(state, self.max_lines)
        breaker = math.ceil(self.max_dial_level * max(state.agents_logged_in, 1))
        cap = breaker if cap is None else min(cap, breaker)
        room = cap - state.calls_in_flight
        risk = self._risk_function(state)
        n = n_prog
        if n < room and risk(n + 1) <= theta:
            n = largest_below(risk, theta, n + 1, room)
            n = self._within_headroom(risk, state, n_prog, n)
        return clamp_launch(n, state, self.max_lines)

    def _within_headroom(
        self, risk: Callable[[int], float], state: PacingState, n_prog: int, n: int
    ) -> int:
        """Cut the batch so its abandons fit the window's headroom (the slack guard).

        Each call beyond progressive adds ``p x risk`` expected abandons; together they
        may use at most ``1 / guard_safety`` of what the window can still absorb. While
        that headroom is thin (a young or small campaign), a model learnt from minutes
        of data is not trusted either: the humans expected from calls no free agent
        covers, at an upper bound of ``p``, less the agents due to free up, must fit too.
        """
        pm = self.calls.p_human
        allowance = self.budget.allowance(self.guard_safety)
        cap = self._thin_cap(state, n_prog)
        if cap is not None:
            n = min(n, cap)
        if self.burst.eps > 0.0 and n > n_prog and state.agents_logged_in >= self.burst.min_agents:
            n = self._burst_cap(state, n_prog, n)
        if (n - n_prog) * pm.mean * self.theta <= allowance:
            return n
        spent = 0.0
        for k in range(n_prog + 1, n + 1):
            spent += pm.mean * risk(k)
            if spent > allowance:
                return k - 1
        return n

    def _thin_cap(self, state: PacingState, n_prog: int) -> int | None:
        """The most calls the thin-headroom cuts allow (``None``: the headroom is not thin).

        The humans expected from calls no free agent covers, at ``p + 2 se(p)``, less a low
        bound on the agents due, must fit the allowance; and more humans than the window
        absorbs (plus the agents due) may come only with probability ``guard_eps``.
        """
        allowance = self.budget.allowance(self.guard_safety)
        if allowance >= self.guard_thin:
            return None
        pm = self.calls.p_human
        p_hi = min(1.0, pm.mean + 2.0 * pm.stderr)
        due = _free_after_pauses(self.outlook.a[NH - 1], state)
        due = max(0.0, due - self.guard_due_z * math.sqrt(due))  # a low bound
        covered = uncommitted_agents(state)
        cap = covered + math.floor((allowance + due) / p_hi)
        absorbable = math.floor(
            self.budget.limit * state.window_human_answers - state.window_abandoned + 1e-9
        )
        if absorbable < self.guard_tail_k:  # (default: whenever the headroom is thin)
            eps = self.budget.tail_eps(self.guard_eps)
            cap = min(cap, covered + safe_uncovered(pm.mean, absorbable + math.floor(due), eps))
        return max(n_prog, cap)

    def _burst_cap(self, state: PacingState, n_prog: int, n: int) -> int:
        """``n`` cut so a burst beyond what the window absorbs stays within ``burst_eps``."""
        absorbable = self.budget.limit * state.window_human_answers - state.window_abandoned
        rows, shared = self._horizons(state), self._shared_weight(state)
        spread = (self._rel2(), self.burst.spread)
        return burst_cap(rows, shared, absorbable, n_prog, n, self.burst.eps, *spread)

    def _horizons(self, state: PacingState) -> list[Horizon]:
        """The outlook's horizons, last first (``horizons.Horizon``)."""
        ol = self.outlook
        h, a = ol.h, ol.a
        base = state.calls_waiting - state.agents_available
        return [
            Horizon(
                ol.p_by_tau[k],
                h[k],
                base + h[k] - _free_after_pauses(a[k], state),
                max(h[NH + k] + a[NH + k], 0.0) + self.variance_floor,
            )
            for k in range(NH - 1, -1, -1)
        ]

    def _rel2(self) -> float:
        """Squared relative error of P(human)."""
        p = self.calls.p_human
        return (p.stderr / max(p.mean, 1e-3)) ** 2

    def diagnostics(self) -> dict[str, float]:
        """Numbers worth exporting as metrics."""
        return {
            "threshold": self.theta,
            "p_human": self.calls.p_human.mean,
            "abandon_slack": self.budget.slack,
            "expected_humans": self.outlook.h[NH - 1],
            "expected_free_agents": self.outlook.a[NH - 1],
        }

    def _threshold(self, state: PacingState) -> float:
        if self.fixed_theta is not None:
            return self.fixed_theta
        return self.budget.threshold(
            state.t,
            state.window_human_answers,
            state.window_abandoned,
            self._pending_abandons(state),
            state.shift_left_s,
        )

    def _pending_abandons(self, state: PacingState) -> float:
        """E[(humans due - agents due)+] over the whole ring window, normal approximation."""
        h, a = self.outlook.h, self.outlook.a
        shared = self._shared_weight(state) * self.outlook.p_by_tau[NH - 1]
        due = _free_after_pauses(a[NH - 1], state)
        mu = state.calls_waiting + h[NH - 1] + shared - state.agents_available - due
        return expected_overflow(mu, max(h[-1] + a[-1], 0.0) + self.variance_floor)

    def _shared_weight(self, state: PacingState) -> float:
        """Another campaign's calls in units of our new calls: their answer rate is not
        ours and may be far higher, so each counts as answering at ``shared_p`` at least."""
        p = self.calls.p_human.mean
        return state.shared_calls_in_flight * max(1.0, self.shared_p / max(p, 1e-3))

    def _refresh(self, state: PacingState) -> None:
        t = state.t
        changed = self._reconcile(state)
        self.calls.settle(t)
        ready = self.calls.ready(self.min_humans, self.min_resolved)
        if ready and (t >= self._next_tables or not self._tables_ready):
            self._tables_ready = True
            self._next_tables = t + self.tables_every_s
            self.outlook.set_tables(
                t,
                self.calls,
                self.agents,
                (self.on_call, self.wrapping),
                self.max_wait_s,
                min_samples=5,
            )
            changed = True
        if changed or t >= self._next_refresh:
            self._next_refresh = t + self.refresh_s
            self.in_flight.forget_older_than(t - 600.0)
            self.outlook.rebuild(t, self.in_flight, self.on_call, self.wrapping)

    def _reconcile(self, state: PacingState) -> bool:
        """Make the trackers agree with the state's counts (the engine's truth).

        Elapsed times supplied by the engine replace our own once per refresh, or at once
        when the counts disagree; in between, events keep the trackers up to date.
        """
        t = state.t
        due = t >= self._next_refresh
        changed = self.in_flight.reconcile(state.calls_in_flight, t)
        for tracker, count, elapsed in (
            (self.on_call, state.agents_on_call, state.busy_agent_elapsed_s),
            (self.wrapping, state.agents_wrap_up, state.wrap_agent_elapsed_s),
        ):
            if elapsed and len(elapsed) == count and (due or len(tracker) != count):
                tracker.replace(t, elapsed)
                changed = True
            else:
                changed |= tracker.reconcile(count, t)
        return changed

    def _risk_function(self, state: PacingState) -> Callable[[int], float]:
        """``risk(n)``: P(the n-th new call, if a human, adds an abandon)."""
        rows, rel2 = self._horizons(state), self._rel2()
        shared = self._shared_weight(state)  # another campaign's calls, as if new
        return lambda n: marginal_risk(rows, n - 1 + shared, rel2)


def _free_after_pauses(due: float, state: PacingState) -> float:
    """Agents expected to free up, less those who asked to pause when they do (the first
    ones to free up go to their pause, not to a call)."""
    return max(0.0, due - state.agents_pausing)  # (nudges can leave ``due`` a hair below 0)
