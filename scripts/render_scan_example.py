"""Render one synthetic shopper, scan the renders, and save the debug drawings side by side.

The README shows what a scan measured with a synthetic body (Anny, Apache-2.0, drawn
by fitroom's own renderer): the real photos in ``../shared/data/people`` may not be
published (no licence stated / non-commercial), so their drawings stay in
``var/body_scan/debug`` where ``bench/body_scan.py`` writes them.

Run: ``python scripts/render_scan_example.py --seed 7 --out docs/images/scan-debug-synthetic.png``
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from fitroom.body.anny_model import build_meshes, sample_body_params
from fitroom.body.mesh_measure import measure_mesh
from fitroom.body.render import render_view, sample_scene
from fitroom.body.scan import ScanPipeline


def jpeg_bytes(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--height-px", type=int, default=560, help="height of each panel")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    params = sample_body_params(rng, 1)
    # The front photo's pose is the reference scan pose, so its mesh is measured too.
    front_mesh = build_meshes(params, "scan", 40.0, 0.25)[0]
    side_mesh = build_meshes(params, "scan", 6.0, 0.12)[0]
    truth = measure_mesh(front_mesh)
    scene = dataclasses.replace(sample_scene(rng), jpeg_quality=None, downscale=1.0)
    front = render_view(front_mesh, "front", scene).image_rgb
    side = render_view(side_mesh, "side", scene).image_rgb
    with tempfile.TemporaryDirectory() as folder:
        debug = Path(folder)
        result = ScanPipeline()(
            jpeg_bytes(front),
            jpeg_bytes(side),
            truth.stature_cm,
            sex=params[0].sex,
            debug_dir=debug,
        )
        panels = []
        for name in ("front_measured.png", "side_measured.png"):
            panel = Image.open(debug / name).convert("RGB")
            width = round(panel.width * args.height_px / panel.height)
            panels.append(panel.resize((width, args.height_px), Image.Resampling.LANCZOS))
    sheet = Image.new("RGB", (sum(p.width for p in panels), args.height_px), "white")
    x = 0
    for panel in panels:
        sheet.paste(panel, (x, 0))
        x += panel.width
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, optimize=True)
    rows = {
        name: {
            "scan_cm": round(m.value_cm, 1),
            "plus_minus_cm": round(m.plus_minus_cm, 1),
            "mesh_cm": round(float(getattr(truth, name)), 1),
        }
        for name, m in result.measurements.items()
    }
    print(json.dumps({"height_cm": round(truth.stature_cm, 1), "sex": params[0].sex, **rows}))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
