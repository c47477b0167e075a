"""The ``fitroom`` command line: serve, migrate, seed, size, import.

Heavy modules (SQLAlchemy, numpy, FastAPI) are imported inside the commands so that
``fitroom --help`` stays fast. User mistakes print a message and exit 2, never a
traceback; ``--json`` prints the error as JSON too.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fitroom.cli_support import run_or_exit

if TYPE_CHECKING:
    from fitroom.config import Settings

app = typer.Typer(
    name="fitroom",
    help="fitroom: an open-source AI fitting room for online fashion stores.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo store.", no_args_is_help=True)
size_app = typer.Typer(help="Size recommendation and measurement estimates.", no_args_is_help=True)
import_app = typer.Typer(help="Bulk import of products and size charts.", no_args_is_help=True)
recsys_app = typer.Typer(
    help="Product recommendations: train the served model, evaluate models.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(size_app, name="size")
app.add_typer(import_app, name="import")
app.add_typer(recsys_app, name="recsys")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


class SexOpt(StrEnum):
    female = "female"
    male = "male"


class FitOpt(StrEnum):
    slim = "slim"
    regular = "regular"
    relaxed = "relaxed"


def _settings() -> Settings:
    from fitroom.config import get_settings

    return get_settings()


def _emit(data: Any, as_json: bool, text: Callable[[Any], str]) -> None:
    typer.echo(json.dumps(data, indent=2, default=str) if as_json else text(data))


def admin_key(settings: Settings) -> tuple[str, bool]:
    """The admin key from the environment, or the local generated one (and if new)."""
    if settings.admin_api_key:
        return settings.admin_api_key, False
    path = settings.var_dir / "admin_api_key"
    if path.exists():
        return path.read_text().strip(), False
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(24)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key, True


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes.")] = 1,
) -> None:
    """Serve the API, docs (/docs) and pages on http://HOST:PORT."""
    import os

    import uvicorn

    settings = _settings()
    key, _ = admin_key(settings)
    os.environ["FITROOM_ADMIN_API_KEY"] = key
    typer.echo(f"fitroom on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    if not settings.admin_api_key:
        typer.echo(
            f"admin API key (X-Admin-Key, for catalog writes): {key}\n"
            f"  stored in {settings.var_dir / 'admin_api_key'}"
        )
    uvicorn.run(
        "fitroom.api.main:app",
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
    )


@app.command("admin-key")
def admin_key_cmd() -> None:
    """Print the admin API key this installation uses (generating a local one if none)."""
    key, _ = admin_key(_settings())
    typer.echo(key)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head", as_json: JsonOpt = False) -> None:
    """Apply the database migrations (SQLite by default, FITROOM_DATABASE_URL otherwise)."""
    from fitroom.store.db import Database

    settings = _settings()

    def action() -> str | None:
        db = Database(settings.resolved_database_url)
        db.upgrade(revision)
        current = db.current_revision()
        db.dispose()
        return current

    current = run_or_exit(as_json, action)
    _emit(
        {"revision": current, "database": settings.resolved_database_url.split("@")[-1]},
        as_json,
        lambda r: f"database at revision {r['revision']}",
    )


@app.command("textures")
def textures_cmd(
    min_side_px: Annotated[
        int, typer.Option(help="Upscale product photos whose short side is under this.")
    ] = 768,
    force: Annotated[bool, typer.Option(help="Rebuild textures that exist.")] = False,
    ensemble: Annotated[
        int,
        typer.Option(
            help="Self-ensemble passes (1, 2, 4 or 8): sharper textures, that many times "
            "slower (x2 Set5: +0.08 dB for 2, +0.16 dB for 8)."
        ),
    ] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Upscale small product photos x2 with super-resolution for the showroom's textures."""
    from fitroom.services.textures import build_textures
    from fitroom.store.db import Database

    settings = _settings()
    db = Database(settings.resolved_database_url)

    def action() -> dict[str, int]:
        with db.session() as session:
            report = build_textures(
                session, settings.resolved_media_dir, min_side_px, force, ensemble
            )
        return dict(report.__dict__)

    _emit(
        run_or_exit(as_json, action),
        as_json,
        lambda r: (
            f"textures: {r['upscaled']} upscaled, {r['already_sharp']} sharp enough, "
            f"{r['not_local']} not in the media dir"
        ),
    )


@demo_app.command("seed")
def demo_seed(
    force_images: Annotated[bool, typer.Option(help="Re-render product images.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Seed the demo store (brands, size charts, products, images)."""
    from fitroom.services.demo import seed_demo
    from fitroom.store.db import Database

    settings = _settings()
    db = Database(settings.resolved_database_url)

    def progress(done: int, total: int) -> None:
        if not as_json:
            print(f"\rseeding products {done}/{total}", end="", file=sys.stderr, flush=True)

    def action() -> dict[str, int]:
        with db.session() as session:
            result = seed_demo(
                session,
                settings.resolved_media_dir,
                force_images=force_images,
                progress=progress,
            )
        return dict(result.__dict__)

    result = run_or_exit(as_json, action)
    if not as_json:
        print(file=sys.stderr)
    _emit(
        result,
        as_json,
        lambda r: (
            f"demo store: {r['brands']} brands, {r['charts']} size charts, "
            f"{r['products']} products ({r['images_written']} images rendered)"
        ),
    )


def _fits_text(result: dict[str, Any]) -> str:
    lines = [
        f"recommended size: {result['size']}  (confidence {result['confidence']:.0%})",
        result["reason"],
    ]
    for alt in result["alternatives"]:
        lines.append(f"also close: {alt['size']} ({alt['share']:.0%} of plausible bodies)")
    for fit in result["fits"]:
        zones = ", ".join(f"{z['zone']} {z['fit']} ({z['ease_cm']:+.1f} cm)" for z in fit["zones"])
        lines.append(f"  {fit['size']:>8}: {zones}")
    return "\n".join(lines)


@size_app.command("recommend")
def size_recommend(
    chart: Annotated[str | None, typer.Option(help="Size chart id.")] = None,
    product: Annotated[str | None, typer.Option(help="Product id (uses its chart).")] = None,
    chest_cm: Annotated[float | None, typer.Option(help="Chest/bust girth, cm.")] = None,
    waist_cm: Annotated[float | None, typer.Option(help="Waist girth, cm.")] = None,
    hip_cm: Annotated[float | None, typer.Option(help="Hip girth, cm.")] = None,
    inseam_cm: Annotated[float | None, typer.Option(help="Inside leg, cm.")] = None,
    neck_cm: Annotated[float | None, typer.Option(help="Neck base girth, cm.")] = None,
    sleeve_cm: Annotated[float | None, typer.Option(help="Back-neck to wrist, cm.")] = None,
    height_cm: Annotated[float | None, typer.Option(help="Height, cm.")] = None,
    weight_kg: Annotated[float | None, typer.Option(help="Weight, kg.")] = None,
    sex: Annotated[SexOpt | None, typer.Option(help="Sex, for estimating missing zones.")] = None,
    fit: Annotated[FitOpt, typer.Option(help="Preferred fit.")] = FitOpt.regular,
    shopper: Annotated[str | None, typer.Option(help="Shopper id (their returns count).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Recommend a size of a chart or product for body measurements."""
    from pydantic import ValidationError

    from fitroom.errors import InputError
    from fitroom.services.sizing import BodyIn, RecommendIn, SizingContext, recommend
    from fitroom.store.db import database_for

    settings = _settings()

    def action() -> dict[str, Any]:
        try:
            request = RecommendIn(
                chart_id=chart,
                product_id=product,
                measurements=BodyIn(
                    chest_cm=chest_cm,
                    waist_cm=waist_cm,
                    hip_cm=hip_cm,
                    inseam_cm=inseam_cm,
                    neck_cm=neck_cm,
                    sleeve_cm=sleeve_cm,
                    height_cm=height_cm,
                    weight_kg=weight_kg,
                ),
                sex=sex.value if sex else None,
                fit=fit.value,
                shopper_id=shopper,
            )
        except ValidationError as exc:
            raise InputError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        context = SizingContext(
            estimator_path=settings.estimator_path,
            max_offset_steps=settings.returns_max_offset_steps,
        )
        with database_for(settings.resolved_database_url).session() as session:
            return recommend(session, request, context)

    _emit(run_or_exit(as_json, action), as_json, _fits_text)


@size_app.command("estimate")
def size_estimate(
    height_cm: Annotated[float, typer.Option(help="Height, cm.")],
    sex: Annotated[SexOpt, typer.Option(help="Sex.")],
    weight_kg: Annotated[float | None, typer.Option(help="Weight, kg.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Estimate body measurements from height, weight and sex (with +/- cm)."""
    from fitroom.services.sizing import estimate_measurements
    from fitroom.sizing.zones import Sex

    settings = _settings()
    result = run_or_exit(
        as_json,
        lambda: estimate_measurements(
            height_cm=height_cm,
            weight_kg=weight_kg,
            sex=Sex(sex.value),
            estimator_path=settings.estimator_path,
        ),
    )

    def text(r: dict[str, Any]) -> str:
        rows = [
            f"  {zone:>7}: {m['value_cm']:6.1f} cm  +/- {m['plus_minus_cm']:.1f}"
            for zone, m in r["measurements"].items()
        ]
        return "estimated measurements:\n" + "\n".join(rows)

    _emit(result, as_json, text)


@app.command("measure")
def measure(
    front: Annotated[Path, typer.Argument(help="Front photo (A-pose, whole body).")],
    height_cm: Annotated[float, typer.Option(help="Stature in cm, without shoes.")],
    side: Annotated[Path | None, typer.Option(help="Side photo (profile).")] = None,
    weight_kg: Annotated[float | None, typer.Option(help="Weight, kg.")] = None,
    sex: Annotated[SexOpt | None, typer.Option(help="Sex.")] = None,
    debug_dir: Annotated[
        Path | None, typer.Option(help="Write the mask and measured levels drawn on the photos.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Measure a body from a front (and optional side) photo and the height."""
    from fitroom.body.scan import ScanPipeline
    from fitroom.errors import InputError

    def action() -> dict[str, Any]:
        photos: list[bytes | None] = []
        for path in (front, side):
            if path is None:
                photos.append(None)
                continue
            if not path.is_file():
                raise InputError(f"no such photo: {path}", path=str(path))
            photos.append(path.read_bytes())
        result = ScanPipeline()(
            photos[0] or b"",
            photos[1],
            height_cm,
            weight_kg,
            None if sex is None else sex.value,
            debug_dir=debug_dir,
        )
        return result.to_dict()

    def text(r: dict[str, Any]) -> str:
        rows = [
            f"  {name.removesuffix('_cm'):>16}: {m['value_cm']:6.1f} cm"
            f"  +/- {m['plus_minus_cm']:.1f}"
            for name, m in r["measurements"].items()
        ]
        notes = [f"note: {w}" for w in r["warnings"]]
        return "\n".join([f"measured from {' + '.join(r['views'])}:", *rows, *notes])

    _emit(run_or_exit(as_json, action), as_json, text)


@app.command("tryon")
def tryon_cmd(
    person: Annotated[Path, typer.Argument(help="Photo of one person facing the camera.")],
    garment: Annotated[
        Path, typer.Argument(help="Product photo of the garment, plain background.")
    ],
    out: Annotated[
        Path, typer.Option("-o", "--out", help="Where to write the result (.png/.jpg).")
    ],
    category: Annotated[
        str,
        typer.Option(help="What the garment dresses: upper, lower (trousers, skirts) or dress."),
    ] = "upper",
    debug_dir: Annotated[
        Path | None,
        typer.Option(help="Write the masks and the garment cut-out with its landmarks here."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Dress the person photo in the garment photo (photo try-on) and write the image."""
    from fitroom.errors import InputError

    def action() -> dict[str, Any]:
        from fitroom.services import tryon

        suffix = out.suffix.lower()
        if suffix not in (".png", ".jpg", ".jpeg"):
            raise InputError(f"--out must end in .png, .jpg or .jpeg; got {out.name!r}")
        photos = []
        for path in (person, garment):
            if not path.is_file():
                raise InputError(f"no such photo: {path}", path=str(path))
            photos.append(path.read_bytes())
        prepared = tryon.garment_from_photo(photos[1], category)
        dressed = tryon.try_on_photo(photos[0], prepared)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(tryon.encode_image(dressed.image, "png" if suffix == ".png" else "jpeg"))
        written = [str(out)]
        if debug_dir is not None:
            debug_dir.mkdir(parents=True, exist_ok=True)
            images = {
                **dressed.result.debug_images(),
                "garment_landmarks": tryon.garment_with_landmarks(prepared),
            }
            for name, pixels in images.items():
                path = debug_dir / f"{name}.png"
                path.write_bytes(tryon.encode_image(pixels, "png"))
                written.append(str(path))
        height_px, width_px = dressed.image.shape[:2]
        return {
            "out": str(out),
            "size_px": [width_px, height_px],
            "agnostic_input": dressed.agnostic_input,
            "garment_landmarks": tryon.garment_to_dict("", prepared)["landmarks"],
            "timings_ms": {k: round(v, 1) for k, v in dressed.timings_ms.items()},
            "written": written,
        }

    def text(r: dict[str, Any]) -> str:
        lines = [
            f"wrote {r['out']} ({r['size_px'][0]}x{r['size_px'][1]} px, "
            f"{r['timings_ms']['total_ms']:.0f} ms"
            + (", grey agnostic input" if r["agnostic_input"] else "")
            + ")"
        ]
        lines += [f"  debug: {path}" for path in r["written"][1:]]
        return "\n".join(lines)

    _emit(run_or_exit(as_json, action), as_json, text)


@app.command("avatar")
def avatar(
    measurements: Annotated[
        Path, typer.Option(help="JSON: a scan's answer (fitroom measure --json) or *_cm numbers.")
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="Where to write the .glb.")],
    sex: Annotated[SexOpt | None, typer.Option(help="Sex, when the file has none.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit the Anny body model to measurements and write it as glTF binary (.glb)."""
    import json

    from fitroom.errors import InputError

    def action() -> dict[str, Any]:
        from fitroom.avatar.export import avatar_glb
        from fitroom.avatar.fit import fit_avatar, fit_summary
        from fitroom.services.avatars import targets_from_document

        try:
            document = json.loads(measurements.read_text())
        except OSError as exc:
            raise InputError(f"cannot read {measurements}: {exc.strerror}") from exc
        except json.JSONDecodeError as exc:
            raise InputError(f"{measurements} is not valid JSON: {exc}") from exc
        if isinstance(document, dict) and sex is not None:
            document = {**document, "sex": sex.value}
        targets, body_sex = targets_from_document(document)
        fit = fit_avatar(targets, "male" if body_sex == "male" else "female")
        out.write_bytes(avatar_glb(fit))
        return {"out": str(out), "bytes": out.stat().st_size, **fit_summary(fit)}

    def text(r: dict[str, Any]) -> str:
        rows = [
            f"  {name.removesuffix('_cm'):>16}: target {m['target_cm']:6.1f} cm,"
            f" avatar {m['avatar_cm']:6.1f} cm"
            for name, m in r["measurements"].items()
        ]
        return "\n".join([f"wrote {r['out']} ({r['bytes']} bytes)", *rows])

    _emit(run_or_exit(as_json, action), as_json, text)


def _import(kind: str, path: Path, as_json: bool) -> None:
    from fitroom.errors import InputError
    from fitroom.services import imports
    from fitroom.store.db import database_for

    settings = _settings()

    def action() -> dict[str, Any]:
        if not path.is_file():
            raise InputError(f"{path} is not a file", field="file")
        fmt = imports.detect_format(path.name, None)
        data = path.read_bytes()
        with database_for(settings.resolved_database_url).session() as session:
            if kind == "products":
                return imports.import_products(session, data, fmt).to_dict()
            return imports.import_charts(session, data, fmt).to_dict()

    _emit(
        run_or_exit(as_json, action),
        as_json,
        lambda r: f"imported {r['kind']}: {r['created']} created, {r['updated']} updated",
    )


@import_app.command("products")
def import_products(
    path: Annotated[Path, typer.Argument(help="CSV or JSON file.")], as_json: JsonOpt = False
) -> None:
    """Import products; any bad row fails the whole import with row-level errors."""
    _import("products", path, as_json)


@import_app.command("charts")
def import_charts(
    path: Annotated[Path, typer.Argument(help="CSV or JSON file.")], as_json: JsonOpt = False
) -> None:
    """Import size charts; any bad row fails the whole import with row-level errors."""
    _import("charts", path, as_json)


@recsys_app.command("train")
def recsys_train(
    as_json: JsonOpt = False,
    every: Annotated[
        float | None,
        typer.Option(help="Keep running: retrain every this many minutes (a scheduled retrain)."),
    ] = None,
    runs: Annotated[
        int | None, typer.Option(help="With --every: stop after this many trainings.")
    ] = None,
) -> None:
    """Train the recommender (FITROOM_RECSYS_MODEL) on the store's events and serve it.

    Saves a new version under VAR_DIR/models/recsys and switches the API to it; the
    last FITROOM_RECSYS_KEEP_VERSIONS versions are kept. With --every, stays running
    and retrains on that schedule (or run it from cron instead).
    """
    if every is not None and every <= 0:
        typer.echo("error: --every must be a positive number of minutes", err=True)
        raise typer.Exit(2)
    done = 0
    while True:
        _recsys_train_once(as_json)
        done += 1
        if every is None or (runs is not None and done >= runs):
            return
        time.sleep(60.0 * every)


def _recsys_train_once(as_json: bool) -> None:
    from fitroom.services.recommendations import train
    from fitroom.store.db import database_for

    settings = _settings()
    interactive = sys.stderr.isatty() and not as_json
    names = {"events": "reading events", "fit": "fitting", "save": "saving"}

    def progress(stage: str, done: int, total: int, info: Any) -> None:
        if as_json:
            return
        details = " ".join(
            f"{key} {value:.4g}" for key, value in info.items() if isinstance(value, float | int)
        )
        line = f"{names.get(stage, stage)} {done}/{total} {details}".rstrip()
        if interactive:
            width = int(30 * done / max(total, 1))
            typer.echo(f"\r[{'#' * width}{'.' * (30 - width)}] {line:<60}", nl=False, err=True)
        elif done == total:
            typer.echo(line, err=True)

    def action() -> dict[str, Any]:
        with database_for(settings.resolved_database_url).session() as session:
            return train(session, settings, progress)

    result = run_or_exit(as_json, action)
    if interactive:
        typer.echo("", err=True)

    def text(r: dict[str, Any]) -> str:
        lines = [
            f"recommender {r['version']} ({r['model']}) trained in {r['train_seconds']:.1f} s "
            f"on {r['events']} events of {r['shoppers']} shoppers, {r['products']} products; "
            f"the API serves it now ({r['runtime']})"
        ]
        lines += [f"note: {w}" for w in r["warnings"]]
        return "\n".join(lines)

    _emit(result, as_json, text)


def _register_model_commands() -> None:
    """Super-resolution and compression commands (their modules import lazily too)."""
    from fitroom.compress.cli import compress_command
    from fitroom.recsys.cli import eval_command
    from fitroom.superres.cli import superres_app, upscale_command

    recsys_app.command("eval")(eval_command)

    app.add_typer(superres_app, name="superres")
    app.command("upscale")(upscale_command)
    app.command("compress")(compress_command)


_register_model_commands()


def main() -> None:
    app()
