"""Shared PDF infrastructure (WeasyPrint): a URL fetcher that serves only the app's own static files,
the house style, the CJK font check and the render helpers. Used by the minutes (meetings/pdf.py)
and later by the annual report.

Why a fetcher of our own (FACTS.md): WeasyPrint's default fetcher follows ``http(s)://`` and
``file://`` URLs found in the HTML and CSS, and ``<link rel="attachment" href="file:///etc/passwd">``
embeds that file in the PDF. ``StaticOnlyURLFetcher`` refuses every URL except static files of this
app; a refusal is logged and recorded, never fatal (hostile content renders without the resource).
"""

from __future__ import annotations

import logging
import mimetypes
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from partygroup import fonts

logger = logging.getLogger(__name__)

# Templates reference static files as ``appstatic:pdf/house.css`` (an absolute URL, so WeasyPrint
# never joins it with a base URL). Nothing else is ever resolved.
STATIC_SCHEME = "appstatic"
# The base URL of every render: relative references (there should be none) cannot resolve against
# a non-hierarchical private scheme, so they reach the fetcher as-is and are refused.
PDF_BASE_URL = f"{STATIC_SCHEME}:"
# A static file larger than this is refused (a PDF stylesheet or logo is a few KB).
MAX_STATIC_BYTES = 5 * 1024 * 1024


class CJKFontMissingError(RuntimeError):
    """No CJK font is installed: WeasyPrint would print every Chinese character as an empty box."""


class URLRefusedError(ValueError):
    """The fetcher refused a URL. WeasyPrint catches it, logs it and renders without the resource."""


def _static_roots() -> list[Path]:
    """The real paths of every directory static files may come from (finders' storages, STATIC_ROOT)."""
    roots: list[Path] = []
    for finder in finders.get_finders():
        for storage in getattr(finder, "storages", {}).values():
            location = getattr(storage, "location", None)
            if location:
                roots.append(Path(location).resolve())
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT).resolve())
    return roots


def _is_within(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def static_path_of(relative: str) -> Path | None:
    """The real file for a static path like ``pdf/house.css``, or None.

    ``relative`` must already be a clean relative path. The file must be a regular file whose real
    path (symlinks resolved) lies inside one of the static directories.
    """
    roots = _static_roots()
    candidates: list[str] = []
    found = finders.find(relative)
    if found:
        candidates.append(found)
    if settings.STATIC_ROOT:
        candidates.append(os.path.join(settings.STATIC_ROOT, relative))
    for candidate in candidates:
        real = Path(candidate).resolve()
        if real.is_file() and _is_within(real, roots):
            return real
    return None


def clean_static_path(raw: str) -> str | None:
    """A normalised relative static path, or None when ``raw`` could escape the static directories.

    Refuses: empty paths, absolute paths, ``..`` or ``.`` segments (also percent-encoded),
    backslashes, NUL and other control characters, query strings and fragments.
    """
    if "?" in raw or "#" in raw:
        return None
    path = unquote(raw)
    if not path or path.startswith("/") or "\\" in path or "%" in path:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        return None
    segments = path.split("/")
    if any(segment in {"", ".", ".."} for segment in segments):
        return None
    normalised = posixpath.normpath(path)
    if normalised != path or normalised.startswith(("/", "..")):
        return None
    return normalised


class StaticOnlyURLFetcher(URLFetcher):
    """Serves the app's static files and refuses everything else (logged at WARNING, recorded).

    Accepted: ``appstatic:<path>`` and URLs under ``settings.STATIC_URL`` (mapped to local files,
    never fetched over the network). Refused: ``file:``, ``http(s):``, ``data:``, ``ftp:``, every
    other scheme, relative references, traversal (``..``, absolute paths, symlinks out of the static
    directories) and missing files.

    ``requested`` lists every URL WeasyPrint asked for, ``served`` and ``refused`` split them.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False, **kwargs)
        self.requested: list[str] = []
        self.served: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        self.requested.append(url)
        relative = self._static_relative_path(url)
        path = static_path_of(relative) if relative else None
        if path is None or path.stat().st_size > MAX_STATIC_BYTES:
            self._refuse(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self.served.append(url)
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})

    @staticmethod
    def _static_relative_path(url: str) -> str | None:
        if url.startswith(f"{STATIC_SCHEME}:"):
            return clean_static_path(url.removeprefix(f"{STATIC_SCHEME}:"))
        static_url = settings.STATIC_URL or ""
        if not static_url or not url.startswith(static_url):
            return None
        if urlsplit(url).scheme not in {"", urlsplit(static_url).scheme}:
            return None
        return clean_static_path(url.removeprefix(static_url))

    def _refuse(self, url: str) -> NoReturn:
        self.refused.append(url)
        shown = url if len(url) <= 200 else f"{url[:200]}…"
        logger.warning("PDF 渲染拒绝获取非本系统静态文件的地址：%s", shown)
        raise URLRefusedError(f"PDF 渲染只允许使用本系统的静态文件，已拒绝：{shown}")


def require_cjk_font() -> None:
    """Refuse loudly instead of printing Chinese as boxes (FACTS.md: WeasyPrint says nothing)."""
    if not fonts.has_cjk_font():
        raise CJKFontMissingError(
            "无法生成 PDF：服务器未安装中文（CJK）字体，汉字会显示为方框。"
            f"请管理员以 root 运行 `{fonts.INSTALL_HINT}` 后重试。"
        )


def render_pdf(
    html: str, *, base_url: str = PDF_BASE_URL, url_fetcher: StaticOnlyURLFetcher | None = None
) -> bytes:
    """Render trusted template output to PDF bytes through the static-only fetcher.

    ``html`` must come from a template with autoescaping (user text escaped). No ``stylesheets=``
    are passed: the template links its CSS from the static files (``appstatic:pdf/house.css``).
    """
    require_cjk_font()
    fetcher = url_fetcher if url_fetcher is not None else StaticOnlyURLFetcher()
    return HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()


def render_template_pdf(
    template_name: str, context: Mapping[str, Any], *, url_fetcher: StaticOnlyURLFetcher | None = None
) -> bytes:
    """Render a Django template (autoescaped) and then the PDF."""
    require_cjk_font()
    html = render_to_string(template_name, dict(context))
    return render_pdf(html, url_fetcher=url_fetcher)


# --- Checking a PDF (poppler-utils: tests, bench, docs/pdf.md) ------------------------------------


class PopplerMissingError(RuntimeError):
    """poppler-utils (pdftotext, pdffonts, pdfdetach, pdfinfo) is not installed."""


def _poppler(tool: str, pdf: bytes, *args: str) -> str:
    """Run a poppler tool on ``pdf`` (written to a temporary file) and return its standard output."""
    executable = shutil.which(tool)
    if executable is None:
        raise PopplerMissingError(
            f"未找到 {tool}：请安装 poppler-utils（apt-get install -y poppler-utils）。"
        )
    with tempfile.NamedTemporaryFile(suffix=".pdf") as source:
        source.write(pdf)
        source.flush()
        completed = subprocess.run(  # noqa: S603  (fixed argv, no shell)
            [executable, *args, source.name, *(["-"] if tool == "pdftotext" else [])],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    return completed.stdout


def pdf_text(pdf: bytes) -> str:
    """``pdftotext -layout``: the text as laid out on the pages (pages separated by form feeds)."""
    return _poppler("pdftotext", pdf, "-layout", "-enc", "UTF-8")


def pdf_fonts(pdf: bytes) -> list[dict[str, str]]:
    """``pdffonts``: one dict per font with its name, type and whether it is embedded."""
    lines = _poppler("pdffonts", pdf).splitlines()[2:]
    fonts_found = []
    for line in lines:
        # name (may be long) | type (several words) | encoding | emb | sub | uni | object ID
        match = re.match(
            r"^(?P<name>\S+)\s+(?P<type>.+?)\s{2,}(?P<encoding>\S+)\s+(?P<embedded>yes|no)"
            r"\s+(?:yes|no)\s+(?:yes|no)\s+\d+\s+\d+$",
            line,
        )
        if match:
            fonts_found.append(match.groupdict())
    return fonts_found


def pdf_attachment_count(pdf: bytes) -> int:
    """``pdfdetach -list``: the number of embedded files ("0 embedded files")."""
    first = _poppler("pdfdetach", pdf, "-list").splitlines()[0]
    match = re.match(r"^(\d+) embedded files?", first)
    if match is None:
        raise ValueError(f"pdfdetach 输出无法识别：{first}")
    return int(match[1])


def pdf_page_count(pdf: bytes) -> int:
    """``pdfinfo``: the number of pages."""
    match = re.search(r"^Pages:\s+(\d+)$", _poppler("pdfinfo", pdf), re.MULTILINE)
    if match is None:
        raise ValueError("pdfinfo 没有给出页数。")
    return int(match[1])
