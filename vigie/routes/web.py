"""The dashboard: ``/`` serves the page shell and ``/static/...`` its scripts, styles and the
vendored libraries (``vigie/web``).

Both are public: they hold no data, and every figure the page shows comes from the authenticated
API. The page's Content-Security-Policy is the API's ``default-src 'none'`` relaxed only as far
as the page needs: its own scripts, styles, images and API calls (and the tile server's pictures
when ``map_tile_url`` is set); no inline script, no eval.
"""

import html
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from vigie.auth.guards import public
from vigie.deps import SettingsDep

router = APIRouter(tags=["dashboard"], include_in_schema=False)

WEB = Path(__file__).resolve().parent.parent / "web"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


def page_policy(tile_url: str) -> str:
    """The page's CSP: self only, plus the tile server's origin for pictures when configured."""
    images = "'self' blob:"  # blob: the camera snapshot, fetched with the token, then shown
    if tile_url:
        parts = urlsplit(tile_url)  # {s} (Leaflet's subdomains) becomes a CSP wildcard
        images += f" {parts.scheme}://{parts.netloc.replace('{s}', '*')}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src 'self'; font-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


@router.get("/", response_class=HTMLResponse)
@public
def dashboard(settings: SettingsDep) -> HTMLResponse:
    """The single page; ``/?mur`` opens the large-screen mode."""
    shell = (WEB / "index.html").read_text(encoding="utf-8")
    shell = shell.replace("{{tile_url}}", html.escape(settings.map_tile_url, quote=True))
    return HTMLResponse(
        shell,
        headers={
            "Content-Security-Policy": page_policy(settings.map_tile_url),
            "Cache-Control": "no-cache",
        },
    )


@router.get("/static/{path:path}")
@public
def static(path: str) -> FileResponse:
    """A file of ``vigie/web``; nothing outside it, only the kinds of file a page loads.

    A NUL (``%00``) or another name the file system refuses is "no such file" too: it made
    ``resolve()`` raise, an anonymous 500 (issue 16)."""
    try:
        target = (WEB / path).resolve()
        found = target.is_relative_to(WEB) and target.is_file()
    except (ValueError, OSError):  # embedded NUL, name too long...
        raise HTTPException(404, "no such file") from None
    media_type = MEDIA_TYPES.get(target.suffix)
    if media_type is None or not found:
        raise HTTPException(404, "no such file")
    return FileResponse(target, media_type=media_type, headers={"Cache-Control": "no-cache"})
