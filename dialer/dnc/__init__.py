"""Do-not-call lists: internal requests, CRM requests and national registries."""
