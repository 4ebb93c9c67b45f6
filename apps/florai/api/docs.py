"""/docs (Swagger UI) and /redoc from files the image carries: no CDN, no inline script.

FastAPI's default pages load Swagger UI and ReDoc from a CDN and start Swagger UI with an inline
script, so they are blank offline and under a content security policy without 'unsafe-inline'. Here
the scripts and styles come from the fastapi-offline package (its static folder only: the page
HTML and the start-up script are ours), served under DOCS_ASSETS_PATH, and the pages carry a CSP
whose script-src is 'self' alone.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from florai import contract

ASSETS = Path(fastapi_offline.__file__).with_name("static")
SWAGGER_INIT = "swagger-init.js"
# Scripts only from this origin; Swagger UI and ReDoc set inline styles; ReDoc's search runs in a blob worker.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'"
)
_INIT_SCRIPT = f"""window.addEventListener("load", function () {{
  window.ui = SwaggerUIBundle({{
    url: "{contract.OPENAPI_PATH}",
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    deepLinking: true,
  }});
}});
"""


def _page(title: str, head: str, body: str) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="icon" href="{contract.DOCS_ASSETS_PATH}/favicon.png">{head}</head>'
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(html, headers={"content-security-policy": DOCS_CSP})


def install_docs(app: FastAPI, title: str) -> None:
    """Serve the two documentation pages and their assets (create the app with docs_url=None)."""
    assets = contract.DOCS_ASSETS_PATH

    @app.get(f"{assets}/{SWAGGER_INIT}", include_in_schema=False)
    async def swagger_init() -> Response:
        return Response(_INIT_SCRIPT, media_type="text/javascript")

    app.mount(assets, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get(contract.DOCS_PATH, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _page(
            f"{title} - Swagger UI",
            f'<link rel="stylesheet" href="{assets}/swagger-ui.css">',
            f'<div id="swagger-ui"></div><script src="{assets}/swagger-ui-bundle.js"></script>'
            f'<script src="{assets}/{SWAGGER_INIT}"></script>',
        )

    @app.get(contract.REDOC_PATH, include_in_schema=False)
    async def redoc() -> HTMLResponse:
        # ReDoc's standalone bundle renders every <redoc spec-url> element by itself: no inline script.
        return _page(
            f"{title} - ReDoc",
            "",
            f'<redoc spec-url="{contract.OPENAPI_PATH}"></redoc>'
            f'<script src="{assets}/redoc.standalone.js"></script>',
        )
