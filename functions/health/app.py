"""Lambda entry point for /health/* and the combined API docs. Wiring only."""

from narraforge.api import docs
from narraforge.api.app_factory import create_app, lambda_handler
from narraforge.api.routers import health

app = create_app([health.router, docs.router])
handler = lambda_handler(app)
