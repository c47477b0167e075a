"""Lossless WebP copies of the SR image sets, small enough to travel to a lent GPU.

A lent machine receives the working tree and at most 64 MiB of carried files; T91 (BMP)
and BSD200 (PNG) with Set5 take 67 MB as they are, about 41 MB as lossless WebP. Each
copy is decoded again and compared with the original, pixel for pixel, before the next
is written; the trainer reads WebP like any other format.

    python scripts/pack_superres_data.py --data-root ../shared/data/superres --out .sr_data

``.sr_data`` is then named in the device tool's ``carry`` (ignore it locally in
``.git/info/exclude``; it is third-party data and is never committed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from fitroom.superres.data import list_images

SETS = ("T91", "BSD200", "Set5")


def pack(source: Path, destination: Path) -> int:
    """Write ``destination`` as a verified lossless WebP of ``source``; return its size."""
    with Image.open(source) as image:
        pixels = np.asarray(image.convert("RGB"))
    if destination.is_file():
        with Image.open(destination) as existing:
            if np.array_equal(np.asarray(existing.convert("RGB")), pixels):
                return destination.stat().st_size
    Image.fromarray(pixels).save(destination, "WEBP", lossless=True, quality=100, method=4)
    with Image.open(destination) as written:
        if not np.array_equal(np.asarray(written.convert("RGB")), pixels):
            raise SystemExit(f"error: {destination} does not decode to {source}'s pixels")
    return destination.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    total = 0
    for name in SETS:
        (args.out / name).mkdir(parents=True, exist_ok=True)
        for source in list_images(args.data_root / name):
            total += pack(source, args.out / name / f"{source.stem}.webp")
    print(f"{total / 1e6:.1f} MB in {args.out}")


if __name__ == "__main__":
    main()
