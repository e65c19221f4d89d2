"""partygroup/pdf.py: the static-only URL fetcher, the CJK font check and the render helpers.

FACTS.md: WeasyPrint's default fetcher follows file:// and http(s):// URLs and embeds
<link rel="attachment"> targets; ours serves only the app's static files and refuses the rest.
"""

from __future__ import annotations

import logging
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from weasyprint.urls import URLFetcher

from partygroup import pdf
from partygroup.pdf import (
    CJKFontMissingError,
    StaticOnlyURLFetcher,
    URLRefusedError,
    pdf_attachment_count,
    pdf_fonts,
    pdf_page_count,
    pdf_text,
    render_pdf,
    render_template_pdf,
)

HOUSE_CSS = Path(settings.BASE_DIR) / "static" / "pdf" / "house.css"

HOSTILE_HTML = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="appstatic:pdf/house.css">
<style>@import url(http://127.0.0.1:9/);</style>
<link rel="attachment" href="file:///etc/passwd">
</head><body><p>党小组会议记录</p><img src="file:///etc/passwd"><img src="data:image/png;base64,iVBORw0KGgo=">
</body></html>"""


def squeeze(text: str) -> str:
    """The text without any whitespace (pdftotext wraps and pads Chinese lines freely)."""
    return "".join(text.split())


def test_fetcher_serves_a_static_file_by_private_scheme():
    fetcher = StaticOnlyURLFetcher()
    response = fetcher.fetch("appstatic:pdf/house.css")
    try:
        assert response.read() == HOUSE_CSS.read_bytes()
        assert response.content_type == "text/css"
    finally:
        response.close()
    assert fetcher.served == ["appstatic:pdf/house.css"]
    assert fetcher.refused == []


def test_fetcher_serves_a_static_file_under_static_url():
    fetcher = StaticOnlyURLFetcher()
    url = f"{settings.STATIC_URL}pdf/house.css"
    response = fetcher.fetch(url)
    try:
        assert response.read() == HOUSE_CSS.read_bytes()
    finally:
        response.close()
    assert (fetcher.requested, fetcher.served, fetcher.refused) == ([url], [url], [])


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        f"file://{HOUSE_CSS}",  # even a static file, when asked for by file://
        "http://127.0.0.1:9/",
        "https://127.0.0.1:9/house.css",
        "http://127.0.0.1:9/static/pdf/house.css",
        "data:text/css,body{color:red}",
        "data:image/png;base64,iVBORw0KGgo=",
        "ftp://127.0.0.1/pub/x.css",
        "javascript:alert(1)",
        "../../etc/passwd",
        "/etc/passwd",
        "appstatic:../../etc/passwd",
        "appstatic:pdf/../../../../etc/passwd",
        "appstatic:pdf/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "appstatic:pdf/%252e%252e/house.css",
        "appstatic:/etc/passwd",
        "appstatic:pdf\\..\\..\\etc\\passwd",
        "appstatic:pdf/./house.css",
        "appstatic:pdf//house.css",
        "appstatic:pdf/house.css?v=1",
        "appstatic:pdf/house.css%00.png",
        "appstatic:pdf/missing.css",
        "appstatic:",
        "appstatic:pdf",  # a directory
        "/static/../../../../etc/passwd",
        "/static/pdf/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "//127.0.0.1:9/static/pdf/house.css",
    ],
)
def test_fetcher_refuses_everything_but_static_files(url, caplog):
    fetcher = StaticOnlyURLFetcher()
    with caplog.at_level(logging.WARNING, logger="partygroup.pdf"), pytest.raises(URLRefusedError):
        fetcher.fetch(url)
    assert fetcher.requested == [url]
    assert fetcher.refused == [url]
    assert fetcher.served == []
    assert [(r.levelno, r.name) for r in caplog.records] == [(logging.WARNING, "partygroup.pdf")]
    assert "拒绝" in caplog.records[0].getMessage()


def test_fetcher_refuses_a_symlink_out_of_the_static_dirs(settings, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.css").write_text("body { color: red }", encoding="utf-8")
    static = tmp_path / "static"
    (static / "pdf").mkdir(parents=True)
    (static / "pdf" / "real.css").write_text("p { margin: 0 }", encoding="utf-8")
    (static / "pdf" / "secret.css").symlink_to(outside / "secret.css")
    (static / "linked").symlink_to(outside, target_is_directory=True)
    (static / "pdf" / "inside.css").symlink_to(static / "pdf" / "real.css")
    settings.STATICFILES_DIRS = [static]
    settings.STATIC_ROOT = tmp_path / "collected"

    fetcher = StaticOnlyURLFetcher()
    for url in ("appstatic:pdf/secret.css", "appstatic:linked/secret.css"):
        with pytest.raises(URLRefusedError):
            fetcher.fetch(url)
    for url in ("appstatic:pdf/real.css", "appstatic:pdf/inside.css"):
        fetcher.fetch(url).close()

    assert fetcher.refused == ["appstatic:pdf/secret.css", "appstatic:linked/secret.css"]
    assert fetcher.served == ["appstatic:pdf/real.css", "appstatic:pdf/inside.css"]


def test_fetcher_falls_back_to_static_root(settings, tmp_path):
    """In production collectstatic fills STATIC_ROOT; a file only there is still served."""
    (tmp_path / "collected" / "pdf").mkdir(parents=True)
    (tmp_path / "collected" / "pdf" / "only-here.css").write_text("p {}", encoding="utf-8")
    settings.STATIC_ROOT = tmp_path / "collected"
    fetcher = StaticOnlyURLFetcher()
    fetcher.fetch("appstatic:pdf/only-here.css").close()
    assert fetcher.served == ["appstatic:pdf/only-here.css"]


def test_render_pdf_refuses_hostile_urls_without_crashing():
    """Even raw hostile HTML (the templates escape user text, this is the second line of defence):
    the PDF is produced, nothing outside the static files is served, nothing is attached."""
    fetcher = StaticOnlyURLFetcher()
    result = render_pdf(HOSTILE_HTML, url_fetcher=fetcher)

    assert result.startswith(b"%PDF-")
    assert fetcher.served == ["appstatic:pdf/house.css"]
    assert sorted(fetcher.refused) == sorted(
        [
            "http://127.0.0.1:9/",
            "file:///etc/passwd",
            "file:///etc/passwd",
            "data:image/png;base64,iVBORw0KGgo=",
        ]
    )
    assert pdf_attachment_count(result) == 0
    assert "root:" not in pdf_text(result)
    assert "党小组会议记录" in squeeze(pdf_text(result))


def test_render_pdf_never_uses_weasyprints_default_fetcher(monkeypatch):
    default_asked: list[str] = []

    def default_fetch(self, url, headers=None):
        default_asked.append(url)
        raise OSError("default fetcher used")

    monkeypatch.setattr(URLFetcher, "fetch", default_fetch)
    render_pdf(HOSTILE_HTML)
    assert default_asked == []


def test_render_pdf_embeds_the_serif_cjk_font():
    html = '<link rel="stylesheet" href="appstatic:pdf/house.css"><h1 class="pdf-title">党小组会议记录</h1>'
    result = render_pdf(html)
    fonts_found = pdf_fonts(result)
    assert fonts_found, "pdffonts lists no font"
    assert any("NotoSerifCJK" in f["name"].replace("-", "") for f in fonts_found)
    assert all(f["embedded"] == "yes" for f in fonts_found)
    assert not [f for f in fonts_found if f["type"].startswith("Type 3")]
    assert pdf_page_count(result) == 1
    assert "党小组会议记录" in pdf_text(result)


def test_render_pdf_refuses_loudly_without_a_cjk_font():
    fetcher = StaticOnlyURLFetcher()
    with (
        mock.patch("partygroup.fonts.has_cjk_font", return_value=False),
        pytest.raises(CJKFontMissingError, match="中文（CJK）字体") as refused,
    ):
        render_pdf("<p>党小组会议记录</p>", url_fetcher=fetcher)
    assert "fonts-noto-cjk" in str(refused.value)
    assert fetcher.requested == []


def test_render_template_pdf_refuses_loudly_without_a_cjk_font():
    with (
        mock.patch("partygroup.fonts.has_cjk_font", return_value=False),
        mock.patch.object(pdf, "render_to_string") as render_to_string,
        pytest.raises(CJKFontMissingError),
    ):
        render_template_pdf("meetings/pdf/minutes.html", {})
    render_to_string.assert_not_called()


def test_render_template_pdf_escapes_context(settings):
    hostile = '<img src="file:///etc/passwd"><script>alert(1)</script>'
    settings.TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {
                "loaders": [
                    (
                        "django.template.loaders.locmem.Loader",
                        {
                            "t.html": '<link rel="stylesheet" href="appstatic:pdf/house.css">'
                            "<p>{{ text }}</p><p>{{ text|linebreaksbr }}</p>"
                        },
                    )
                ]
            },
        }
    ]
    fetcher = StaticOnlyURLFetcher()
    result = render_template_pdf("t.html", {"text": hostile}, url_fetcher=fetcher)
    assert squeeze(pdf_text(result)).count(squeeze(hostile)) == 2
    assert fetcher.requested == ["appstatic:pdf/house.css"]
    assert pdf_attachment_count(result) == 0
