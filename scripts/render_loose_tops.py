"""Render a few synthetic shoppers with and without a loose top, for the README.

Each row is one Anny body (Apache-2.0) drawn by fitroom's renderer: front in tight
clothes, front in a loose top, side in tight clothes, side in the same loose top
(``fitroom.body.clothing``, drawn with ``sample_loose_top``), as the training renders
of ``scripts/make_body_scan_data.py --loose-top-share`` show them.

Run: ``python scripts/render_loose_tops.py --seed 11 --out docs/images/loose-top-renders.png``;
with ``--hanging-sides --sleeves``, tops drawn as ``make_body_scan_data.py`` draws them
with those options (``python scripts/render_loose_tops.py --seed 11 --hanging-sides
--sleeves --out docs/images/loose-top-renders-hanging.png``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from fitroom.body.anny_model import build_meshes, sample_body_params
from fitroom.body.clothing import loose_top_prop, sample_loose_top, sleeve_props
from fitroom.body.render import Prop, Scene, render_view


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--bodies", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--panel-height-px", type=int, default=300)
    parser.add_argument("--hanging-sides", action="store_true")
    parser.add_argument("--sleeves", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    params = sample_body_params(rng, args.bodies)
    fronts = build_meshes(params, "scan", 45.0, 0.25, anthropometry=False)
    sides = build_meshes(params, "scan", 6.0, 0.12, anthropometry=False)
    rows = []
    for front, side in zip(fronts, sides, strict=True):
        top = sample_loose_top(rng, args.hanging_sides, args.sleeves)
        scene = Scene(top_rgb=tuple(int(c) for c in rng.integers(40, 220, 3)))  # type: ignore[arg-type]
        panels = []
        for mesh, view in ((front, "front"), (side, "side")):
            for dressed in (False, True):
                props: tuple[Prop, ...] = ()
                if dressed:
                    shirt = loose_top_prop(mesh, top, scene.top_rgb)
                    props = (shirt, *sleeve_props(mesh, top, scene.top_rgb))
                image = render_view(mesh, view, scene, props).image_rgb[90:930, 164:604]
                panel = Image.fromarray(image)
                width = round(panel.width * args.panel_height_px / panel.height)
                panels.append(panel.resize((width, args.panel_height_px), Image.LANCZOS))
        row = Image.new("RGB", (sum(p.width for p in panels), args.panel_height_px))
        x = 0
        for panel in panels:
            row.paste(panel, (x, 0))
            x += panel.width
        rows.append(row)
    sheet = Image.new("RGB", (rows[0].width, sum(r.height for r in rows)))
    for i, row in enumerate(rows):
        sheet.paste(row, (0, i * args.panel_height_px))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, optimize=True)
    print("wrote", args.out, sheet.size)


if __name__ == "__main__":
    main()
