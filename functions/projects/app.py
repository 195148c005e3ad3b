"""Lambda entry point for /projects/*. Wiring only: the rules live in the narraforge layer."""

from narraforge.api.app_factory import create_app, lambda_handler
from narraforge.api.routers import projects

app = create_app([projects.router])
handler = lambda_handler(app)
