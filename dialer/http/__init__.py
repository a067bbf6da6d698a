"""What the two HTTP front ends (``api/`` and ``ui/``) share: the typed application keys the
composition root fills, JSON helpers, uploads and the agent event stream."""
