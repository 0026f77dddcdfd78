"""The one font every PDF seamline writes: a TrueType CJK font, embedded as a subset.

Why not reportlab's built-in CID font STSong-Light or the standard Helvetica: neither is embedded,
so a viewer without Adobe's Asian font pack showed the Chinese hours report blank, numbers included.
reportlab embeds (a subset of) a TrueType font, but not the CFF outlines of the Noto CJK .ttc that
fonts-noto-cjk ships, so the font is WenQuanYi Micro Hei (fonts-wqy-microhei, installed by
scripts/install-system-deps.sh), another TrueType CJK font found below, or the one named by
$SEAMLINE_CJK_FONT. Its Latin glyphs serve English text too, so a PDF carries one font, embedded.
Writers also pass it as the document's initial font: else reportlab's page starts in Helvetica.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

FONT_ENV = "SEAMLINE_CJK_FONT"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
FONT_NAME = "SeamlineCJK"


class PdfError(RuntimeError):
    """A PDF cannot be written (no embeddable font, no renderer): said in both languages, so the CLI
    and HTTP show it as it is."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en
        super().__init__(f"{zh} / {en}")


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Register the TrueType CJK font with reportlab (once) and return its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    paths = [os.environ[FONT_ENV]] if os.environ.get(FONT_ENV) else list(FONT_CANDIDATES)
    for path in paths:
        if not Path(path).exists():
            continue
        try:
            pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=0))
            return FONT_NAME
        except TTFError:
            continue
    raise PdfError(
        "找不到可嵌入的中文 TrueType 字体：请安装 fonts-wqy-microhei，或用 SEAMLINE_CJK_FONT 指定",
        "no embeddable CJK TrueType font: install fonts-wqy-microhei or name one in SEAMLINE_CJK_FONT",
    )
