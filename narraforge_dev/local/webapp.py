"""The Studio (web/dist) served from the local stack's port, as CloudFront serves it in the cloud: a file that
exists is answered with its content type (hashed assets cached for a year, the rest revalidated), and a browser
asking for HTML at a path no API route serves gets index.html (the SPA fallback of CloudFront's error response).
Everything else falls through to the emulator's 404 problem, so API clients see no change."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

from narraforge.api.middleware import SECURITY_HEADERS
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

REPO = Path(__file__).resolve().parents[2]
# The app loads nothing from elsewhere: scripts, styles, images and API calls all come from this origin.
APP_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
           "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
           "frame-ancestors 'none'")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
API_PREFIX = "/v1/"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json",
         ".map": "application/json", ".woff2": "font/woff2", ".txt": "text/plain; charset=utf-8"}
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>NarraForge Studio is not built</title></head>
<body><main><h1>NarraForge Studio is not built yet</h1>
<p>The API is up (<a href="/docs">/docs</a>). To serve the web app here, build it once:
<code>make run</code> does it (needs Node.js 20 and npm), or
<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>, then reload this page.</p></main></body></html>
"""


def dist_dir() -> Path:
    return Path(os.environ.get("NARRAFORGE_WEB_DIST") or REPO / "web" / "dist")


def _headers(cache: str) -> dict[str, str]:
    headers = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}
    headers.update({"cache-control": cache, "content-security-policy": APP_CSP})
    return headers


def _file_in_dist(root: Path, path: str) -> Path | None:
    """The file the URL path names inside web/dist, never outside it (no `..`, no symlink escape)."""
    relative = path.lstrip("/")
    if not relative:
        return None
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root.resolve()) or not candidate.is_file():
        return None
    return candidate


def _file_response(file: Path, cache: str) -> Response:
    media_type = TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    return FileResponse(file, media_type=media_type, headers=_headers(cache))


def serve(request: Request) -> Response | None:
    """The app's answer to a GET/HEAD that matched no API route, or None to let the 404 problem stand."""
    path = request.url.path
    if request.method not in ("GET", "HEAD") or path.startswith(API_PREFIX) or path == API_PREFIX.rstrip("/"):
        return None
    root = dist_dir()
    index = root / "index.html"
    wants_html = "text/html" in request.headers.get("accept", "")
    if not index.is_file():
        return HTMLResponse(NOT_BUILT, headers=_headers(REVALIDATE)) if path == "/" else None
    file = _file_in_dist(root, path)
    if file is not None:
        return _file_response(file, IMMUTABLE if path.startswith("/assets/") else REVALIDATE)
    if wants_html or path == "/":
        return _file_response(index, REVALIDATE)
    return None
