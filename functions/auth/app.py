"""Lambda entry point for /auth/*. Wiring only: the rules live in the narraforge layer."""

from narraforge.api.app_factory import create_app, lambda_handler
from narraforge.api.routers import auth

app = create_app([auth.router])
handler = lambda_handler(app)
