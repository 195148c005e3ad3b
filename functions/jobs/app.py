"""Lambda entry point for /jobs/*. Wiring only."""

from narraforge.api.app_factory import create_app, lambda_handler
from narraforge.api.routers import jobs

app = create_app([jobs.router])
handler = lambda_handler(app)
