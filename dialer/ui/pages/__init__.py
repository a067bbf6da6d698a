"""Console pages, one module per area; each declares a ``routes = UiRoutes()`` table."""
