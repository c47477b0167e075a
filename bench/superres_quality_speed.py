"""Super-resolution: Set5 quality per model and backend, and x4 latency 256 -> 1024 px.

Method. Quality: the standard protocol (ground truth modcropped, LR made by
MATLAB-like antialiased bicubic, result rounded to 8 bits, PSNR and SSIM on Y of
BT.601 with ``scale`` border pixels shaved), mean over the five Set5 images, for
bicubic and each shipped model on every backend (torch FP32, ONNX Runtime FP32, ONNX
Runtime static QDQ INT8), and FitSR with geometric self-ensemble (2, 4 and 8 flipped or
turned passes averaged, ``fitroom.superres.infer.ensemble_predict``) on torch FP32 and
INT8. The shipped x4 INT8 file (last two convolutions FP32) against one with every
convolution but the skip INT8, made in the run: quality and speed side by side. The
same protocol on store product photos, the images fitroom upscales: the 28 VITON-HD
in-shop garment photos and the 100 H&M catalogue photos of ``FITROOM_DATA_DIR``
(never trained on; skipped with a note where absent). Speed: a 256 x 256 RGB crop
(centre of Set5 img_001) upscaled x4 by the whole pipeline (one tile; decode/encode
excluded), 3 warm-up runs then ``--runs`` timed runs per backend and thread count;
median and p90. The bicubic baseline is timed in the same run; the self-ensemble
pipelines are timed on the largest thread count. Nothing else should run on the machine.

Run: ``.venv/bin/python bench/superres_quality_speed.py [--runs 30] [--threads 1 2]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_dir, machine, markdown_table, summary, time_call, write_result
from fitroom.compress.backends import make_backend
from fitroom.superres.data import list_images, make_pairs
from fitroom.superres.infer import (
    BACKENDS,
    ENSEMBLE_CODES,
    UpscalePipeline,
    backend_predict,
    calibration_crops,
    export_onnx_forms,
    load_model,
    read_config,
    shipped_scales,
)
from fitroom.superres.metrics import evaluate
from fitroom.superres.models import receptive_radius_px

#: Published Set5 Y-PSNR (dB) of the reference methods, from their papers.
PUBLISHED_DB = {
    ("bicubic", 4): 28.42,
    ("espcn", 4): 30.90,
    ("fsrcnn", 4): 30.55,
    ("edsr-baseline", 4): 32.09,
    ("bicubic", 2): 33.66,
    ("fsrcnn", 2): 36.94,
}


#: Backends the self-ensemble rows run on (FP32 reference and the fastest form).
ENSEMBLE_BACKENDS = ("torch", "onnx-int8")


def ensemble_quality(
    set5: Path, fp32_db: dict[int, float]
) -> tuple[list[str], dict[tuple[int, str, int], float]]:
    """Set5 rows of FitSR with 2, 4 and 8 self-ensemble passes; and {(scale, backend,
    passes): PSNR dB}."""
    rows: list[list[object]] = []
    scores: dict[tuple[int, str, int], float] = {}
    for scale in shipped_scales("fitsr"):
        pairs = make_pairs(list_images(set5), scale)
        for backend in ENSEMBLE_BACKENDS:
            for passes in sorted(ENSEMBLE_CODES)[1:]:
                pipeline = UpscalePipeline.from_shipped(
                    "fitsr", scale, backend, threads=2, ensemble=passes
                )
                result = evaluate(lambda lr, p=pipeline: p(lr).pixels, pairs, scale, "fitsr")
                scores[(scale, backend, passes)] = result.psnr_db
                rows.append(
                    [
                        f"x{scale}",
                        backend,
                        passes,
                        f"{result.psnr_db:.2f}",
                        f"{result.ssim:.4f}",
                        f"{result.psnr_db - fp32_db[scale]:+.3f}",
                    ]
                )
                print(rows[-1], flush=True)
    table = markdown_table(
        ["scale", "backend", "passes", "PSNR-Y dB", "SSIM-Y", "vs one FP32 pass dB"], rows
    )
    return [
        "## Set5 quality with self-ensemble (`--ensemble N`)",
        "",
        table,
        "",
        "Passes: 2 = the image and its 180-degree turn; 4 = the four flips; 8 = the four "
        "flips of the image and of its transpose (`fitroom.superres.infer.ENSEMBLE_CODES`). "
        "The outputs are turned back and averaged before rounding to 8 bits.",
        "",
    ], scores


#: Product-photo folders under the data dir: (label, path).
PRODUCT_SETS = (
    ("VITON-HD garments", Path("tryon") / "garment"),
    ("H&M catalogue", Path("catalog") / "hm_sample" / "images"),
)


def product_quality() -> list[str]:
    """Y-PSNR of bicubic and FitSR (FP32, INT8) on store product photos, per set."""
    sets = [(label, data_dir() / rel) for label, rel in PRODUCT_SETS]
    missing = [str(path) for _, path in sets if not path.is_dir()]
    if missing:
        return ["## Product photos", "", f"Skipped: {', '.join(missing)} not found.", ""]
    rows: list[list[object]] = []
    for scale in shipped_scales("fitsr"):
        pairs = {label: make_pairs(list_images(path), scale) for label, path in sets}
        bicubic_db: dict[str, float] = {}
        for name, backend in (("bicubic", "torch"), ("fitsr", "torch"), ("fitsr", "onnx-int8")):
            pipeline = UpscalePipeline.from_shipped(name, scale, backend, threads=2)
            row: list[object] = [f"x{scale}", name, backend]
            for label, _ in sets:
                result = evaluate(lambda lr, p=pipeline: p(lr).pixels, pairs[label], scale, name)
                bicubic_db.setdefault(label, result.psnr_db)
                row += [f"{result.psnr_db:.2f}", f"{result.psnr_db - bicubic_db[label]:+.2f}"]
            rows.append(row)
            print(rows[-1], flush=True)
    header = ["scale", "model", "backend"]
    for label, path in sets:
        header += [f"{label} ({len(list_images(path))}) dB", "vs bicubic"]
    return [
        "## Product photos",
        "",
        markdown_table(header, rows),
        "",
        "Same protocol as Set5 (the photo as ground truth, bicubic-degraded input, Y-PSNR "
        "with the border shaved), mean over each set. The H&M photos are JPEGs whose "
        "compression blocks are part of the ground truth.",
        "",
    ]


def int8_forms(crop: np.ndarray, runs: int, threads: int) -> list[str]:
    """x4: the shipped INT8 file (last two convs FP32) against one with every conv but
    the bicubic skip INT8, made here the same way (T91 calibration, 7-bit weights).

    Quality on Set5 and the product photos, against ONNX FP32; speed of the network
    and the whole pipeline, the two forms timed in alternating rounds so that a change
    in the machine's speed during the run hits both alike.
    """
    set5 = data_dir() / "superres" / "Set5"
    t91 = data_dir() / "superres" / "T91"
    if not t91.is_dir():
        return ["## INT8 forms, x4", "", f"Skipped: {t91} not found (calibration set).", ""]
    sets = [("Set5", set5)] + [(label, data_dir() / rel) for label, rel in PRODUCT_SETS]
    sets = [(label, path) for label, path in sets if path.is_dir()]
    pairs = {label: make_pairs(list_images(path), 4) for label, path in sets}
    halo = receptive_radius_px(load_model("fitsr", 4))
    with tempfile.TemporaryDirectory() as tmp:
        paths = export_onnx_forms(
            "fitsr", 4, Path(tmp), calibration_crops(t91, 4), keep_tail_float=False
        )
        forms = {
            "FP32 (ONNX)": UpscalePipeline.from_shipped("fitsr", 4, "onnx", threads),
            "INT8, last two convs FP32 (shipped)": UpscalePipeline.from_shipped(
                "fitsr", 4, "onnx-int8", threads
            ),
            "INT8, every conv but the skip": UpscalePipeline(
                backend_predict(make_backend(paths["onnx-int8"], threads=threads)), 4, halo
            ),
        }
        scores = {
            (form, label): evaluate(lambda lr, p=pipeline: p(lr).pixels, pairs[label], 4, "fitsr")
            for form, pipeline in forms.items()
            for label, _ in sets
        }
        lr = np.ascontiguousarray(crop.transpose(2, 0, 1)[None], dtype=np.float32) / 255
        rounds = 5
        per_round = max(1, runs // rounds)  # at least one timed run per round
        network: dict[str, list[float]] = {form: [] for form in forms}
        whole: dict[str, list[float]] = {form: [] for form in forms}
        for _ in range(rounds):
            for form, pipeline in forms.items():
                network[form] += time_call(lambda p=pipeline: p.predict(lr), per_round, 1)
                whole[form] += time_call(lambda p=pipeline: p(crop), per_round, 1)
    rows = []
    for form in forms:
        row: list[object] = [form]
        for label, _ in sets:
            db = scores[(form, label)].psnr_db
            reference = scores[("FP32 (ONNX)", label)].psnr_db
            row.append(f"{db:.3f} ({db - reference:+.3f})")
        network_ms, whole_ms = summary(network[form]), summary(whole[form])
        row += [
            f"{network_ms['median_ms']:.1f}",
            f"{whole_ms['median_ms']:.1f}",
            f"{whole_ms['p90_ms']:.1f}",
        ]
        rows.append(row)
        print(rows[-1], flush=True)
    header = ["x4 form"] + [f"{label} dB (vs FP32)" for label, _ in sets]
    header += ["network median ms", "pipeline median ms", "p90 ms"]
    return [
        f"## INT8 forms, x4 ({threads} threads)",
        "",
        markdown_table(header, rows),
        "",
        "Both INT8 files: static QDQ, MinMax calibration on 32 T91 crops, 7-bit weights; "
        "the second is made in this run (`export_onnx_forms(..., keep_tail_float=False)`). "
        f"Speed: 256 x 256 -> 1024 x 1024 px, {rounds} alternating rounds of "
        f"{per_round} runs per form.",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-products", action="store_true", help="no product-photo rows")
    args = parser.parse_args()

    set5 = data_dir() / "superres" / "Set5"
    if not set5.is_dir():
        sys.exit(f"Set5 not found at {set5}; set FITROOM_DATA_DIR")
    scales = shipped_scales("fitsr")
    lines = [
        "# Super-resolution: quality and speed",
        "",
        f"Machine: {machine()}. Command: `.venv/bin/python bench/superres_quality_speed.py"
        f" --runs {args.runs} --threads {' '.join(map(str, args.threads))}`.",
        "",
    ]

    fp32_db: dict[int, float] = {}
    ensemble_db: dict[tuple[int, str, int], float] = {}
    int8_delta_db: dict[int, float] = {}
    if not args.skip_quality:
        rows = []
        for scale in (2, 4):
            pairs = make_pairs(list_images(set5), scale)
            candidates = [("bicubic", "torch")]
            candidates += [(n, "torch") for n in ("espcn", "fsrcnn") if scale in shipped_scales(n)]
            if scale in scales:
                candidates += [("fitsr", b) for b in BACKENDS]
            for name, backend in candidates:
                pipeline = UpscalePipeline.from_shipped(name, scale, backend, threads=2)
                result = evaluate(lambda lr, p=pipeline: p(lr).pixels, pairs, scale, name)
                if name == "fitsr" and backend == "torch":
                    fp32_db[scale] = result.psnr_db
                delta = ""
                if name == "fitsr" and backend != "torch":
                    delta_db = result.psnr_db - fp32_db[scale]
                    delta = f"{delta_db:+.3f}"
                    if backend == "onnx-int8":
                        int8_delta_db[scale] = delta_db
                published = PUBLISHED_DB.get((name, scale))
                rows.append(
                    [
                        f"x{scale}",
                        name,
                        backend,
                        f"{result.psnr_db:.2f}",
                        f"{result.ssim:.4f}",
                        delta,
                        f"{published:.2f}" if published else "-",
                    ]
                )
                print(rows[-1], flush=True)
        header = ["scale", "model", "backend", "PSNR-Y dB", "SSIM-Y", "vs FP32 dB", "published"]
        lines += ["## Set5 quality", "", markdown_table(header, rows), ""]
        shipped = [(n, s) for n in ("espcn", "fsrcnn", "fitsr") for s in shipped_scales(n)]
        for name, scale in shipped:
            config = read_config(name, scale)
            training = config.get("training", {})
            where = (
                "on a GPU"
                if str(training.get("device", "cpu")).startswith("cuda")
                else f"on {training.get('threads', 1)} CPU thread(s)"
            )
            lines.append(
                f"- {name} x{scale}: {config.get('parameters')} parameters, last stage "
                f"{training.get('steps_done')} steps in {training.get('minutes')} min {where} "
                f"(`{config.get('command', '')}`)."
            )
        lines += [
            "- Reference figures: bicubic, ESPCN, FSRCNN, EDSR-baseline as published "
            "(Set5, Y, same protocol; ESPCN/FSRCNN trained on far more data and steps).",
            "",
        ]
        ensemble_lines, ensemble_db = ensemble_quality(set5, fp32_db)
        lines += ensemble_lines
        if not args.skip_products:
            lines += product_quality()

    image = make_pairs(list_images(set5)[:1], 4)[0].hr
    top, left = (image.shape[0] - 256) // 2, (image.shape[1] - 256) // 2
    crop = np.ascontiguousarray(image[top : top + 256, left : left + 256])
    speed_rows = []
    for threads in args.threads:
        candidates = [("bicubic", "torch")]
        if 4 in scales:
            candidates += [("fitsr", b) for b in BACKENDS]
        for name, backend in candidates:
            pipeline = UpscalePipeline.from_shipped(name, 4, backend, threads, tile_px=256)
            lr = np.ascontiguousarray(crop.transpose(2, 0, 1)[None], dtype=np.float32) / 255
            network = summary(time_call(lambda p=pipeline, x=lr: p.predict(x), args.runs))
            whole = summary(time_call(lambda p=pipeline: p(crop), args.runs))
            speed_rows.append(
                [
                    name,
                    backend,
                    threads,
                    f"{network['median_ms']:.1f}",
                    f"{whole['median_ms']:.1f}",
                    f"{whole['p90_ms']:.1f}",
                ]
            )
            print(speed_rows[-1], flush=True)
    ensemble_rows = []
    if 4 in scales:
        threads = max(args.threads)
        for backend in ENSEMBLE_BACKENDS:
            for passes in sorted(ENSEMBLE_CODES)[1:]:
                pipeline = UpscalePipeline.from_shipped(
                    "fitsr", 4, backend, threads, tile_px=256, ensemble=passes
                )
                whole = summary(time_call(lambda p=pipeline: p(crop), args.runs))
                ensemble_rows.append(
                    [
                        backend,
                        threads,
                        passes,
                        f"{whole['median_ms']:.1f}",
                        f"{whole['p90_ms']:.1f}",
                        f"{ensemble_db[(4, backend, passes)]:.2f}" if ensemble_db else "-",
                    ]
                )
                print(ensemble_rows[-1], flush=True)
    lines += [
        "## Speed: x4, 256 x 256 -> 1024 x 1024 px (whole pipeline, one tile)",
        "",
        markdown_table(
            ["model", "backend", "threads", "network median ms", "pipeline median ms", "p90 ms"],
            speed_rows,
        ),
        "",
        "Network: the serving graph alone on a 1 x 3 x 256 x 256 float tensor (it returns "
        "the 48 sub-pixel phases; bicubic returns the image). Pipeline: uint8 in, uint8 out "
        "(conversion, clamp, rounding and the pixel interleave included).",
        "",
    ]
    if ensemble_rows:
        lines += [
            "Self-ensemble, FitSR x4, 256 x 256 -> 1024 x 1024 px (whole pipeline):",
            "",
            markdown_table(
                ["backend", "threads", "passes", "pipeline median ms", "p90 ms", "Set5 PSNR-Y dB"],
                ensemble_rows,
            ),
            "",
        ]
    if int8_delta_db:
        deltas = ", ".join(f"x{s} {d:+.3f} dB" for s, d in sorted(int8_delta_db.items()))
        lines += [f"INT8 (static QDQ, T91 calibration) PSNR change vs FP32: {deltas}.", ""]
    if 4 in fp32_db:
        # The target: the fastest backend whose x4 PSNR is within 0.1 dB of FP32.
        deltas_x4 = {"torch": 0.0, "onnx": 0.0, "onnx-int8": int8_delta_db.get(4, -1.0)}
        eligible = [
            row for row in speed_rows if row[0] == "fitsr" and deltas_x4[str(row[1])] >= -0.1
        ]
        best = min(eligible, key=lambda row: float(row[4]))
        verdict = "met" if float(best[4]) <= 50.0 else "NOT met"
        quality = "met" if fp32_db[4] >= 31.5 else "NOT met"
        lines += [
            f"Fastest FitSR x4 backend within 0.1 dB of FP32: {best[1]} on {best[2]} threads, "
            f"{best[4]} ms median for the whole pipeline (target 50 ms: {verdict}); Set5 x4 "
            f"FP32 {fp32_db[4]:.2f} dB (target 31.5: {quality}).",
            "",
        ]
        passing = [
            (passes, backend, db)
            for (scale, backend, passes), db in sorted(ensemble_db.items())
            if scale == 4 and db >= 31.5
        ]
        if passing and quality != "met":
            passes, backend, db = min(passing, key=lambda item: (item[0], item[1] != "onnx-int8"))
            timed = [r for r in ensemble_rows if r[0] == backend and r[2] == passes]
            when = f", {timed[0][3]} ms median on {timed[0][1]} threads" if timed else ""
            lines += [
                f"With self-ensemble the shipped x4 model reaches 31.5 dB: {passes} passes on "
                f"{backend} give {db:.2f} dB{when}. One pass does not, so the target counts "
                "as not met; the ensemble is offered for offline catalogue processing, where "
                "time matters less than sharpness.",
                "",
            ]
    if 4 in scales and not args.skip_quality:
        lines += int8_forms(crop, args.runs, max(args.threads))
    path = write_result("superres.md", "\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
