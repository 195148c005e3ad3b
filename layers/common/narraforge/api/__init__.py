"""FastAPI routers, dependencies and the HTTP mapping of domain errors."""
