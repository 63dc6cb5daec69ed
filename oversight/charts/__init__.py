"""Charts with Chinese text (matplotlib, Agg backend, a CJK font verified to have the glyphs)."""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402

# Debian's WenQuanYi Micro Hei first (5 MB, installed by scripts/setup), then Noto CJK.
CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


class MissingCjkFont(RuntimeError):
    """No installed font can draw Chinese; charts would show boxes."""


@lru_cache(maxsize=1)
def cjk_font() -> font_manager.FontProperties:
    """Register the first CJK font found and return it (fonts added after start-up count too)."""
    for path in CJK_FONT_FILES:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            properties = font_manager.FontProperties(fname=path)
            matplotlib.rcParams["font.sans-serif"] = [properties.get_name(), "DejaVu Sans"]
            matplotlib.rcParams["font.family"] = "sans-serif"
            matplotlib.rcParams["axes.unicode_minus"] = False
            return properties
    raise MissingCjkFont("未找到中文字体：请安装 fonts-wqy-microhei")


def missing_glyphs(text: str, font_path: str | None = None) -> set[str]:
    """The characters of `text` the chart font cannot draw (empty when all render)."""
    path = font_path or font_manager.findfont(cjk_font())
    charmap = FT2Font(path).get_charmap()
    return {ch for ch in text if not ch.isspace() and ord(ch) not in charmap}


def new_figure(width: float = 7.0, height: float = 4.0) -> Figure:
    """A figure set up for Chinese text; never registered with pyplot, so nothing leaks."""
    cjk_font()
    return Figure(figsize=(width, height), dpi=120, layout="constrained")


def to_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


__all__ = ["MissingCjkFont", "cjk_font", "missing_glyphs", "new_figure", "to_png"]
