"""Privacy: erase a person (request or retention), keep a hashed suppression so they are
not imported again, and export everything held about a person (subject access request).
See docs/privacy.md."""
