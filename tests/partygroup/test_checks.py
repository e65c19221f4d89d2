from unittest import mock

from partygroup import checks, fonts


def test_check_cjk_font_passes_when_fontconfig_lists_chinese_fonts():
    with mock.patch.object(checks, "has_cjk_font", return_value=True):
        assert checks.check_cjk_font() == []


def test_check_cjk_font_fails_loudly_without_font():
    with mock.patch.object(checks, "has_cjk_font", return_value=False):
        errors = checks.check_cjk_font()
    assert [e.id for e in errors] == ["partygroup.E001"]
    assert "fc-list :lang=zh" in errors[0].msg
    assert "fonts-noto-cjk" in errors[0].hint


def test_cjk_font_families_on_this_machine_include_noto_cjk():
    # `make test` installs fonts-noto-cjk; without it PDFs would print boxes.
    fonts.cjk_font_families.cache_clear()
    assert any("CJK" in family for family in fonts.cjk_font_families())


def test_cjk_font_families_empty_when_fc_list_missing():
    fonts.cjk_font_families.cache_clear()
    try:
        with mock.patch.object(fonts.shutil, "which", return_value=None):
            assert fonts.cjk_font_families() == ()
    finally:
        fonts.cjk_font_families.cache_clear()
