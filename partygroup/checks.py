"""System checks: refuse loudly when PDFs would print Chinese as boxes."""

from __future__ import annotations

from django.core import checks

from partygroup.fonts import INSTALL_HINT, has_cjk_font


@checks.register(checks.Tags.compatibility)
def check_cjk_font(app_configs=None, **kwargs):
    if has_cjk_font():
        return []
    return [
        checks.Error(
            "未找到中文（CJK）字体：`fc-list :lang=zh` 没有结果，PDF 中的汉字会显示为方框。"
            " No CJK font is installed: PDFs would print Chinese as empty boxes.",
            hint=f"以 root 运行 `{INSTALL_HINT}`（`make run` 会自动安装）。",
            id="partygroup.E001",
        )
    ]
