"""HTTP API: one module per resource, JSON in and out, described by an OpenAPI document."""
