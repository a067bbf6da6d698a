"""Agents: their state machine, storage, the cross-process agent bus, simulated agents."""
