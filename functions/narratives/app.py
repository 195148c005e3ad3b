"""Lambda entry point for /narratives/*. Wiring only: the rules live in the narraforge layer."""

from narraforge.api.app_factory import create_app, lambda_handler
from narraforge.api.routers import narratives

app = create_app([narratives.router])
handler = lambda_handler(app)
