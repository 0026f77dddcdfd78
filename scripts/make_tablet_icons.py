"""Draw the station tablet's app icons (web/static/icons/*.png) with Pillow: no downloads.

A dark-blue square with a row of white stitches across a white needle: plain enough to read at
48 px on a home screen. The maskable icon keeps the drawing inside the centre 80 % safe zone.
Run again after changing the drawing: ``.venv/bin/python scripts/make_tablet_icons.py``.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "src" / "seamline" / "web" / "static" / "icons"
BLUE = (31, 58, 95, 255)
WHITE = (255, 255, 255, 255)
GOLD = (217, 164, 0, 255)


def draw(size: int, safe: float) -> Image.Image:
    img = Image.new("RGBA", (size, size), BLUE)
    d = ImageDraw.Draw(img)
    m = size * (1 - safe) / 2  # margin outside the drawing
    inner = size - 2 * m
    y = m + inner * 0.62
    # the stitch row
    n = 5
    step = inner / (2 * n)
    for i in range(n):
        x0 = m + step * (2 * i + 0.5)
        d.rounded_rectangle([x0, y - inner * 0.035, x0 + step, y + inner * 0.035], radius=inner * 0.03, fill=WHITE)
    # the needle: a slanted shaft with its eye
    cx = m + inner * 0.5
    top, tip = m + inner * 0.12, y + inner * 0.05
    w = inner * 0.06
    d.polygon([(cx - w, top + w), (cx + w, top + w), (cx, tip)], fill=GOLD)
    d.ellipse([cx - w, top, cx + w, top + 2 * w], fill=GOLD)
    d.ellipse([cx - w * 0.4, top + w * 0.6, cx + w * 0.4, top + w * 1.4], fill=BLUE)
    return img


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, 0.9).save(OUT / f"icon-{size}.png", optimize=True)
    draw(512, 0.7).save(OUT / "icon-maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
