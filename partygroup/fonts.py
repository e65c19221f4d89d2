"""Is a CJK font installed? Without one WeasyPrint prints Chinese as boxes and says nothing."""

from __future__ import annotations

import functools
import shutil
import subprocess

INSTALL_HINT = "apt-get install -y fonts-noto-cjk"


@functools.lru_cache(maxsize=1)
def cjk_font_families() -> tuple[str, ...]:
    """Families fontconfig offers for Chinese (``fc-list :lang=zh family``); empty when none."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ()
    try:
        completed = subprocess.run(  # noqa: S603  (fixed argv, no shell)
            [fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ()
    families: set[str] = set()
    for line in completed.stdout.splitlines():
        for name in line.split(","):
            if name.strip():
                families.add(name.strip())
    return tuple(sorted(families))


def has_cjk_font() -> bool:
    return bool(cjk_font_families())
