"""Regenerate ``examples/factory.xlsx`` from the CSV files in ``examples/factory/``.

The CSV folder is the source (diff-friendly in git); the workbook is the same factory for owners
who work in Excel. Run after editing a CSV:  ``.venv/bin/python examples/make_xlsx.py``
"""

from __future__ import annotations

from pathlib import Path

from seamline.adapters.layout_files import load_factory, save_factory

HERE = Path(__file__).resolve().parent


def main() -> None:
    layout = load_factory(HERE / "factory")
    out = HERE / "factory.xlsx"
    save_factory(layout, out)
    if load_factory(out) != layout:
        raise SystemExit(f"{out} does not read back as the CSV factory")
    print(
        f"wrote {out}: {len(layout.stations)} stations, {len(layout.workers)} workers, "
        f"{len(layout.styles)} styles, {len(layout.orders)} orders"
    )


if __name__ == "__main__":
    main()
