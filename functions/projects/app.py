"""Lambda entry point for /projects/* (and each project's world). Wiring only: the rules live in the narraforge
layer."""

from narraforge.api.app_factory import create_app, lambda_handler
from narraforge.api.routers import projects, worlds

app = create_app([projects.router, worlds.router])
handler = lambda_handler(app)
