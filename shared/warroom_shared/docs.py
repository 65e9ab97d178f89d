"""The interactive API documentation (`/docs`): Swagger UI, its script and styles served by the
service itself from the `fastapi-offline` package, so the page works on a network without
internet and its Content-Security-Policy allows scripts and styles from the service only
(`security.headers`): the page has no inline script, its settings are in `/docs/swagger-ui-init.js`.

Each file has a route of its own, public and rate-limited like `/docs` (`security.public`) and
counted under its path in the metrics; any other path under `/docs/` answers 404."""

from __future__ import annotations

import html
import importlib.resources
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from warroom_shared.security.access import PUBLIC

DOCS = "/docs"
SWAGGER_UI = Path(str(importlib.resources.files("fastapi_offline") / "static"))
ASSETS = {  # path -> (file of the package, media type)
    f"{DOCS}/swagger-ui-bundle.js": ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    f"{DOCS}/swagger-ui.css": ("swagger-ui.css", "text/css; charset=utf-8"),
    f"{DOCS}/favicon.png": ("favicon.png", "image/png"),
}
INIT = f"{DOCS}/swagger-ui-init.js"
# FastAPI's own Swagger UI settings; the document's URL is read from the page, so this script is
# the same for every service and behind any proxy prefix.
INIT_SCRIPT = """\
"use strict";
window.ui = SwaggerUIBundle({
  url: document.getElementById("swagger-ui").dataset.openapiUrl,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""
PAGE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{root}{DOCS}/swagger-ui.css">
<link rel="icon" type="image/png" href="{root}{DOCS}/favicon.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{root}{DOCS}/swagger-ui-bundle.js"></script>
<script src="{root}{INIT}"></script>
</body>
</html>
"""

docs = APIRouter(include_in_schema=False)


@docs.get(DOCS, response_class=HTMLResponse)
async def get_docs(_: Annotated[None, Depends(PUBLIC)], request: Request) -> HTMLResponse:
    """Swagger UI on this service's OpenAPI document."""
    root = html.escape(request.scope.get("root_path", ""))
    openapi = html.escape(f"{request.scope.get('root_path', '')}{request.app.openapi_url}")
    title = html.escape(f"{request.app.title} - Swagger UI")
    page = PAGE.format(title=title, root=root, openapi=openapi, DOCS=DOCS, INIT=INIT)
    return HTMLResponse(page)


@docs.get(INIT, response_class=Response)
async def get_docs_init(_: Annotated[None, Depends(PUBLIC)]) -> Response:
    """Swagger UI's settings."""
    return Response(INIT_SCRIPT, media_type="text/javascript; charset=utf-8")


def _asset_route(path: str, name: str, media_type: str) -> None:
    async def get_docs_asset(_: Annotated[None, Depends(PUBLIC)]) -> FileResponse:
        return FileResponse(SWAGGER_UI / name, media_type=media_type)

    docs.add_api_route(path, get_docs_asset, methods=["GET"], response_class=FileResponse)


for _path, (_name, _media_type) in ASSETS.items():
    _asset_route(_path, _name, _media_type)
