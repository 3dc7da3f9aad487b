"""A Sphinx extension for the book: pages that need nothing from the internet and log no error.

Jupyter Book 1 always loads sphinx-thebe (live code through a Binder kernel), which puts its
configuration script (`const THEBE_JS_URL = "https://unpkg.com/..."`) into every page twice; the
second copy is a JavaScript error ("Identifier 'THEBE_JS_URL' has already been declared"). The book
runs no code in the browser (labs run in Jupyter against a local sandbox), so this drops thebe's
scripts and stylesheet from every page, and refuses any script or stylesheet with an external URL.
"""

from __future__ import annotations

from typing import Any


def _external(name: str) -> bool:
    return name.startswith(("http://", "https://", "//"))


def _drop_thebe_and_external(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    scripts = context.get("script_files")
    if scripts is not None:
        kept = []
        for script in scripts:
            filename = getattr(script, "filename", str(script)) or ""
            body = (getattr(script, "attributes", None) or {}).get("body", "")
            if "thebe" in filename or "THEBE_JS_URL" in body:
                continue
            if _external(filename):
                raise RuntimeError(f"{pagename}: the page would load a script from the internet: {filename}")
            kept.append(script)
        scripts[:] = kept
    styles = context.get("css_files")
    if styles is not None:
        kept = []
        for style in styles:
            filename = getattr(style, "filename", str(style)) or ""
            if "thebe" in filename:
                continue
            if _external(filename):
                raise RuntimeError(
                    f"{pagename}: the page would load a stylesheet from the internet: {filename}"
                )
            kept.append(style)
        styles[:] = kept


def _favicon_at_the_root(app: Any, exception: Exception | None) -> None:
    """Copy the favicon to `/favicon.ico`: a page without an icon link (the root index.html that
    redirects to the introduction) makes the browser ask for that path, and a 404 is a console error."""
    import shutil
    from pathlib import Path

    favicon = app.config.html_favicon
    if exception is None and favicon and app.builder.format == "html":
        shutil.copyfile(Path(app.confdir) / favicon, Path(app.outdir) / "favicon.ico")


def setup(app: Any) -> dict[str, Any]:
    """Register the page filter (runs after every other extension's html-page-context handler)."""
    app.connect("html-page-context", _drop_thebe_and_external, priority=900)
    app.connect("build-finished", _favicon_at_the_root)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
