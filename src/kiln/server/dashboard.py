"""The dashboard at ``/``: a static page (kiln/server/static) that reads the REST API and draws with plotly.js.

plotly.js comes from the installed plotly package and is served by this server, so the page works on a lab
network with no internet access.
"""

from functools import cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
DAY = "public, max-age=86400"


@cache
def plotly_js() -> str:
    """The plotly.js bundle of the installed plotly package (about 4.6 MB)."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def add_dashboard(app: FastAPI) -> None:
    """Serve the dashboard page at ``/`` and its scripts under ``/static``."""

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly() -> Response:
        return Response(plotly_js(), media_type="application/javascript", headers={"Cache-Control": DAY})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
