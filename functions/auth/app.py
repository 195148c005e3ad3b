"""Lambda entry point for /auth/* and /usage (the account). Wiring only: rules live in the layer."""

from narraforge.api.app_factory import create_app, lambda_handler
from narraforge.api.routers import auth, usage

app = create_app([auth.router, usage.router])
handler = lambda_handler(app)
