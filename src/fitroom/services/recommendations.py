"""Recommendation use cases: train on the events table, serve what a shopper wants next.

Composes the ``recsys`` domain (any model in its registry, chosen by
``Settings.recsys_model``) with the store (events, catalogue, shoppers' measurements)
and the ``sizing`` domain (which size fits).

Training (``train``) fits the model on every shopper's views, add-to-carts and
purchases in time order (returns are not a sign of liking), with every product in the
catalogue as an item, saves it as a new version directory (``v0001``, ``v0002``, ...
under ``Settings.resolved_recsys_dir``, with ``meta.json``), then switches the served
model by replacing the ``current`` pointer file atomically and deletes versions beyond
``Settings.recsys_keep_versions``.

Serving (``Serving``, one per API process) keeps the served model and the catalogue in
memory: the model is reloaded when the pointer file changes (one ``stat`` per request),
the catalogue when its version row changes (one primary-key read per request). Per
request the shopper's history is read from the events table, so events posted since the
last retrain count at once for models that use the history. Until a model is trained,
recommendations are the most-touched products in the events table
(``"model": "popularity-fallback"``).

Fit-aware ranking: for a shopper with stored measurements, the top candidates (at most
``FIT_WINDOW * k``, best first, until ``k`` are kept) each get the size the size
recommender picks for the shopper's body, the product's chart and their fit preference
(``fitroom.sizing.recommend.recommended_size``). When that size is out of stock the
product is dropped, not pushed down: the shopper cannot buy it in their size. The size
is the size page's except for the returns-learned adjustments (per product and per
shopper), which need several database reads per product and are left out to keep a
request in milliseconds. A product without a chart, or a body without the zones its
chart needs, keeps its place with ``fit_size`` null. Products out of stock in every
size are never recommended.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine, bindparam, func, select
from sqlalchemy.orm import Session

from fitroom.config import Settings
from fitroom.errors import ConfigError, InputError, NotEnoughMeasurements, NotFound
from fitroom.recsys.base import Recommender, top_indices
from fitroom.recsys.data import Interactions
from fitroom.recsys.registry import create_model, load_model
from fitroom.services import catalog as catalog_service
from fitroom.services.lru import LruCache
from fitroom.services.sizing import assemble_body
from fitroom.sizing.charts import SizeChart
from fitroom.sizing.recommend import FitPreference, recommended_size
from fitroom.sizing.zones import Sex, Zone
from fitroom.store.models import (
    Event,
    EventKind,
    Product,
    ProductSize,
    Shopper,
    ShopperMeasurements,
    SizeChartRecord,
    utcnow,
)

log = logging.getLogger("fitroom.recommendations")

#: Events that say a shopper wanted a product (a return says the opposite).
POSITIVE_KINDS = (EventKind.view, EventKind.add_to_cart, EventKind.purchase)
#: How strongly each kind speaks for a product, for the reason given.
KIND_STRENGTH = {EventKind.view: 1, EventKind.add_to_cart: 2, EventKind.purchase: 3}
MAX_K = 100
#: A shopper's most recent events that form their history at request time.
HISTORY_EVENTS = 200
#: The most recent distinct history items a reason may point to.
REASON_ITEMS = 10
#: Fit is evaluated for at most this many times k top candidates.
FIT_WINDOW = 5
#: Outfit ("complete the look"): weight of model similarity beside co-purchase.
OUTFIT_SIMILARITY_WEIGHT = 0.5
#: Outfit co-purchase: the most recent buyers of the product that are looked at.
OUTFIT_BUYERS = 500
#: How long the cold-start popularity (no model trained yet) is reused, in seconds.
POPULARITY_TTL_S = 60.0
FALLBACK_MODEL = "popularity-fallback"
POPULAR_REASON = "popular right now"
HISTORY_REASON = "based on your recent activity"
POINTER_FILE = "current"
META_FILE = "meta.json"
_VERSION_RE = re.compile(r"^v(\d{4,})$")

#: ``progress(stage, done, total, info)``; stage is "events", "fit" or "save".
TrainProgress = Callable[[str, int, int, Mapping[str, float]], None]


# -- training ---------------------------------------------------------------------------


def load_interactions(session: Session) -> tuple[Interactions, int]:
    """Every shopper's positive events in time order, and the number of events.

    Items are every product in the catalogue (products nobody touched yet included, for
    content models and cold start) in product-id order. Events without a shopper and
    returns are left out; ties in ``occurred_at`` keep the order the events were stored.
    """
    product_ids = list(session.scalars(select(Product.product_id).order_by(Product.product_id)))
    rows = session.execute(
        select(Event.shopper_id, Event.product_id)
        .where(Event.shopper_id.is_not(None), Event.kind.in_(POSITIVE_KINDS))
        .order_by(Event.shopper_id, Event.occurred_at, Event.event_id)
    )
    users: list[str] = []
    sequences: list[list[str]] = []
    n_events = 0
    for shopper_id, product_id in rows:
        if not users or users[-1] != shopper_id:
            users.append(str(shopper_id))
            sequences.append([])
        sequences[-1].append(product_id)
        n_events += 1
    return Interactions.from_sequences(users, sequences, item_ids=product_ids), n_events


def _product_texts(session: Session) -> dict[str, str]:
    """Each product's text for content models: title, description, category, colour and
    material, in that order, joined by ". " (the one place that builds it)."""
    rows = session.execute(
        select(
            Product.product_id,
            Product.title,
            Product.description,
            Product.category,
            Product.colour,
            Product.material,
        ).order_by(Product.product_id)
    )
    return {
        product_id: ". ".join(part.strip() for part in parts if part and part.strip())
        for product_id, *parts in rows
    }


def _product_colours(session: Session, media_dir: Path) -> dict[str, NDArray[np.float32]]:
    """Colour features of each product's first image, where it is a file under
    ``/media`` (the store's own uploads and the demo's); others have none."""
    from PIL import Image, UnidentifiedImageError

    from fitroom.recsys.content import colour_features

    colours: dict[str, NDArray[np.float32]] = {}
    for product_id, images in session.execute(select(Product.product_id, Product.images)):
        first = (images or [None])[0]
        if not isinstance(first, str) or not first.startswith("/media/"):
            continue
        path = media_dir / first.removeprefix("/media/")
        try:
            with Image.open(path) as image:
                image.draft("RGB", (128, 128))  # JPEG: decode at reduced size
                rgb = np.asarray(image.convert("RGB").resize((96, 96)))
        except (OSError, UnidentifiedImageError):
            continue
        colours[product_id] = colour_features(rgb)
    return colours


def train(
    session: Session, settings: Settings, progress: TrainProgress | None = None
) -> dict[str, Any]:
    """Fit ``settings.recsys_model`` on the whole events table and serve it.

    Returns the new version's meta (``version``, ``model``, counts, ``train_seconds``,
    ``warnings``). With no events at all the model is still fitted and served (it ranks
    by popularity, all equal until shoppers act), and ``warnings`` says so.
    """

    def report(stage: str, done: int, total: int, info: Mapping[str, float]) -> None:
        if progress is not None:
            progress(stage, done, total, info)

    report("events", 0, 1, {})
    data, n_events = load_interactions(session)
    report("events", 1, 1, {"events": float(n_events)})
    if data.n_items == 0:
        raise InputError(
            "the catalogue has no products, so there is nothing to recommend: "
            "import products first (fitroom import products FILE)"
        )
    try:
        model = create_model(settings.recsys_model, **settings.recsys_params)
    except ValueError as exc:
        raise ConfigError(
            f"FITROOM_RECSYS_MODEL={settings.recsys_model!r} with FITROOM_RECSYS_PARAMS="
            f"{json.dumps(settings.recsys_params)}: {exc}"
        ) from None
    set_content = getattr(model, "set_content", None)
    if set_content is not None:
        set_content(_product_texts(session), _product_colours(session, settings.resolved_media_dir))
    started = time.monotonic()
    model.fit(data, progress=lambda done, total, info: report("fit", done, total, info))
    train_seconds = time.monotonic() - started
    warnings: list[str] = []
    if n_events == 0:
        warnings.append(
            "the events table holds no views, add-to-carts or purchases yet: the model "
            "knows no shopper and ranks every product the same; retrain once events arrive"
        )
    meta: dict[str, Any] = {
        "model": model.name,
        "params": model.params,
        "created_at": utcnow().isoformat(),
        "events": n_events,
        "shoppers": data.n_users,
        "products": data.n_items,
        "train_seconds": round(train_seconds, 3),
        "warnings": warnings,
    }
    report("save", 0, 1, {})
    meta = publish(
        settings.resolved_recsys_dir,
        model,
        meta,
        keep=settings.recsys_keep_versions,
        onnx_runtime=settings.recsys_onnx,
    )
    report("save", 1, 1, {})
    return meta


def versions(models_dir: Path) -> list[str]:
    """The saved versions in ``models_dir``, oldest first."""
    if not models_dir.is_dir():
        return []
    found = [p.name for p in models_dir.iterdir() if p.is_dir() and _VERSION_RE.match(p.name)]
    return sorted(found, key=_version_number)


def current_version(models_dir: Path) -> str | None:
    """The version the ``current`` pointer names (None before the first training)."""
    try:
        return (models_dir / POINTER_FILE).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _version_number(name: str) -> int:
    match = _VERSION_RE.match(name)
    return int(match.group(1)) if match else -1


@contextmanager
def _publish_lock(models_dir: Path) -> Iterator[None]:
    """One publisher at a time per models folder (numbering, pointer and pruning)."""
    import fcntl

    with (models_dir / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def publish(
    models_dir: Path,
    model: Recommender,
    meta: Mapping[str, Any],
    keep: int,
    *,
    onnx_runtime: bool = False,
) -> dict[str, Any]:
    """Save ``model`` as the next version, point ``current`` at it, prune old versions;
    returns the version's meta as written (``meta`` plus ``version`` and ``runtime``).

    With ``onnx_runtime``, a SASRec network in the model is also exported to ONNX for
    serving (``runtime`` "onnx"); when that fails the version is served with torch and
    the meta's ``warnings`` say why.

    The version is written into a hidden staging folder and renamed into place, so a
    reader never sees half a version; the pointer is replaced with ``os.replace``, so a
    reader sees the old name or the new one, never a half-written file.
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=models_dir))
    staging.chmod(0o755)  # mkdtemp makes it owner-only; the version must stay readable
    written = {**meta, "runtime": "torch"}
    try:
        model.save(staging)
        if onnx_runtime:
            exported, warning = _export_runtime(model, staging)
            written.update(exported)
            if warning:
                written["warnings"] = [*written.get("warnings", []), warning]
        with _publish_lock(models_dir):
            existing = versions(models_dir)
            version = f"v{(_version_number(existing[-1]) if existing else 0) + 1:04d}"
            written["version"] = version
            (staging / META_FILE).write_text(json.dumps(written, indent=2), encoding="utf-8")
            staging.rename(models_dir / version)
            _write_pointer(models_dir, version)
            for old in versions(models_dir)[:-keep]:
                if old != version:
                    shutil.rmtree(models_dir / old, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return written


def _export_runtime(model: Recommender, directory: Path) -> tuple[dict[str, Any], str | None]:
    """Export the model's SASRec network for ONNX Runtime into ``directory``: the meta
    entries that say it worked (none when there is nothing to export), or a warning."""
    from fitroom.compress.recsys_target import export_for_serving

    try:
        check = export_for_serving(model, directory)
    except Exception as exc:  # the version still serves, with torch: say so, do not fail
        log.warning("SASRec export to ONNX failed, serving with torch: %s", exc)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return {}, (
            f"the SASRec network could not be exported to ONNX ({reason}); this "
            "version is served with torch, which scores a shopper about 2.4x slower"
        )
    if check is None:
        return {}, None
    return {"runtime": "onnx", "runtime_max_abs_diff": check.max_abs_diff}, None


def _write_pointer(models_dir: Path, version: str) -> None:
    temporary = models_dir / f".{POINTER_FILE}.{os.getpid()}.tmp"
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(version + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(models_dir / POINTER_FILE)  # os.replace: atomic on POSIX and Windows


# -- what serving keeps in memory -------------------------------------------------------


@dataclass(frozen=True)
class CatalogProduct:
    """What serving needs of a product: its words, its chart and its stock per size."""

    product_id: str
    title: str
    category: str
    gender: str
    chart_id: str | None
    stock: Mapping[str, int]

    @property
    def in_stock(self) -> bool:
        return any(quantity > 0 for quantity in self.stock.values())


@dataclass(frozen=True)
class CatalogSnapshot:
    """The catalogue at one version: products and size charts."""

    version: int
    products: Mapping[str, CatalogProduct]
    charts: Mapping[str, SizeChart]
    #: (chart id, body) -> the sizes that fit; lives and dies with this snapshot.
    fits: LruCache[tuple[str, _Body], str | None] = field(
        default_factory=lambda: LruCache(8192), repr=False, compare=False
    )


@dataclass(frozen=True)
class ServedModel:
    version: str
    model: Recommender
    meta: Mapping[str, Any]


@dataclass
class ItemTable:
    """Items as the ranking sees them, aligned with the model's item order (or the
    catalogue's, for the fallback): product, in-stock flag, cold-start popularity."""

    key: tuple[Any, ...]
    item_ids: list[str]
    products: list[CatalogProduct | None]
    in_stock: NDArray[np.bool_]
    popularity: NDArray[np.float64]
    #: Category and gender of each item as small integer codes (compared vectorised).
    categories: NDArray[np.int32]
    genders: NDArray[np.int32]
    index: dict[str, int] = field(default_factory=dict)
    codes: dict[str, int] = field(default_factory=dict)

    def code(self, word: str) -> int:
        """The code of a category or gender word (-1: no item has it)."""
        return self.codes.get(word, -1)

    def product(self, index: int) -> CatalogProduct:
        """The product at ``index``; rankings only reach in-stock items, which have one."""
        product = self.products[index]
        if product is None:
            raise KeyError(f"item {self.item_ids[index]!r} is not in the catalogue")
        return product

    @classmethod
    def build(
        cls,
        key: tuple[Any, ...],
        item_ids: list[str],
        catalog: CatalogSnapshot,
        popularity: NDArray[np.float64],
    ) -> ItemTable:
        products = [catalog.products.get(item) for item in item_ids]
        codes: dict[str, int] = {}

        def encode(words: list[str]) -> NDArray[np.int32]:
            return np.array([codes.setdefault(w, len(codes)) for w in words], np.int32)

        return cls(
            key=key,
            item_ids=item_ids,
            products=products,
            in_stock=np.array([p is not None and p.in_stock for p in products], bool),
            popularity=np.asarray(popularity, np.float64),
            categories=encode([p.category if p else "" for p in products]),
            genders=encode([p.gender if p else "" for p in products]),
            index={item: i for i, item in enumerate(item_ids)},
            codes=codes,
        )


class Serving:
    """The served model and the catalogue, kept in memory between requests.

    One per API process (``app.state.recsys``). Everything it holds is reloaded when
    its source changes: the model when the ``current`` pointer file changes (checked
    with one ``stat`` per request), the catalogue when its version row changes (one
    read per request). While a reload runs, other requests keep using what was there.
    """

    def __init__(self, models_dir: Path, estimator_path: Path | None = None) -> None:
        self.models_dir = Path(models_dir)
        self.estimator_path = estimator_path
        self._model_lock = threading.Lock()
        self._model_key: tuple[int, int, int] | None = None
        self._model: ServedModel | None = None
        self._catalog_lock = threading.Lock()
        self._catalog: tuple[Engine, CatalogSnapshot] | None = None
        self._table_lock = threading.Lock()
        self._table: ItemTable | None = None
        self._popularity: tuple[Engine, float, dict[str, int]] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Serving:
        return cls(settings.resolved_recsys_dir, settings.estimator_path)

    # -- the model ------------------------------------------------------------------
    def model(self) -> ServedModel | None:
        """The model ``current`` names, loaded once per change of the pointer file."""
        pointer = self.models_dir / POINTER_FILE
        try:
            st = pointer.stat()
        except FileNotFoundError:
            return None
        # os.replace gives the pointer a new inode, so a switch is seen even within
        # one mtime tick.
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        if key == self._model_key:
            return self._model
        # While one request loads the new version, the others serve the old one.
        if not self._model_lock.acquire(blocking=self._model is None):
            return self._model
        try:
            if key != self._model_key:
                self._model = self._load(pointer) or self._model
                self._model_key = key
            return self._model
        finally:
            self._model_lock.release()

    def _load(self, pointer: Path) -> ServedModel | None:
        version = pointer.read_text(encoding="utf-8").strip()
        directory = self.models_dir / version
        try:
            model = load_model(directory)
            meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        except Exception:  # a broken version must not break every request: keep serving
            log.exception("cannot load recommender %s from %s", version, directory)
            return None
        runtime = "torch"
        if meta.get("runtime") == "onnx":
            # (imported here: the compress domain imports torch, which the API's other
            # routes do not need at start-up)
            from fitroom.compress.recsys_target import sasrec_part, serving_runtime

            part = sasrec_part(model)
            try:
                if part is None:
                    raise ValueError("the model holds no SASRec network")
                part.use_runtime(serving_runtime(directory))
                runtime = "onnx"
            except Exception:  # torch computes the same scores, only slower
                log.exception("cannot load the ONNX export of %s: scoring with torch", version)
        log.info("serving recommender %s (%s, %s)", version, model.name, runtime)
        return ServedModel(version, model, meta)

    # -- the catalogue ----------------------------------------------------------------
    def catalog(self, session: Session) -> CatalogSnapshot:
        """The catalogue in memory, reloaded when its version changes."""
        engine = session.get_bind().engine
        version = catalog_service.catalog_version(session)
        held = self._catalog
        usable = held is not None and held[0] is engine
        if held is not None and usable and held[1].version == version:
            return held[1]
        # While one request reloads, the others keep the previous version.
        if not self._catalog_lock.acquire(blocking=not usable):
            assert held is not None
            return held[1]
        try:
            held = self._catalog
            if held is None or held[0] is not engine or held[1].version != version:
                held = (engine, _load_catalog(session, version))
                self._catalog = held
            return held[1]
        finally:
            self._catalog_lock.release()

    # -- items aligned with the ranking -----------------------------------------------
    def view(self, session: Session) -> tuple[ServedModel | None, CatalogSnapshot, ItemTable]:
        """The served model (None before the first training), the catalogue, and the
        item table that lines the two up."""
        served = self.model()
        catalog = self.catalog(session)
        engine = session.get_bind().engine
        if served is not None:
            key: tuple[Any, ...] = ("model", engine, served.version, catalog.version)
        else:
            counted_at, counts = self._event_counts(session, engine)
            key = ("fallback", engine, counted_at, catalog.version)
        table = self._table
        if table is not None and table.key == key:
            return served, catalog, table
        with self._table_lock:
            table = self._table
            if table is None or table.key != key:
                if served is not None:
                    model = served.model
                    cold = model.score([np.zeros(0, np.int64)])[0]
                    table = ItemTable.build(key, list(model.item_ids), catalog, cold)
                else:
                    ids = list(catalog.products)
                    counts_array = np.array([counts.get(i, 0) for i in ids], np.float64)
                    table = ItemTable.build(key, ids, catalog, counts_array)
                self._table = table
        return served, catalog, table

    def _event_counts(self, session: Session, engine: Engine) -> tuple[float, dict[str, int]]:
        """Positive events per product (the cold start before any model is trained),
        recomputed at most every ``POPULARITY_TTL_S`` seconds; with when they were.
        Anonymous events count here: popularity needs no shopper."""
        held = self._popularity
        now = time.monotonic()
        if held is not None and held[0] is engine and now - held[1] < POPULARITY_TTL_S:
            return held[1], held[2]
        rows = session.execute(
            select(Event.product_id, func.count())
            .where(Event.kind.in_(POSITIVE_KINDS))
            .group_by(Event.product_id)
        )
        counts = {str(product_id): int(n) for product_id, n in rows}
        self._popularity = (engine, now, counts)
        return now, counts


def _load_catalog(session: Session, version: int) -> CatalogSnapshot:
    stock: dict[str, dict[str, int]] = {}
    for product_id, label, quantity in session.execute(
        select(ProductSize.product_id, ProductSize.label, ProductSize.stock).order_by(
            ProductSize.product_id, ProductSize.position
        )
    ):
        stock.setdefault(product_id, {})[label] = int(quantity)
    products = {
        product_id: CatalogProduct(
            product_id, title, category, gender, chart_id, stock.get(product_id, {})
        )
        for product_id, title, category, gender, chart_id in session.execute(
            select(
                Product.product_id,
                Product.title,
                Product.category,
                Product.gender,
                Product.chart_id,
            ).order_by(Product.product_id)
        )
    }
    charts = {
        record.chart_id: catalog_service.chart_from_record(record)
        for record in session.scalars(select(SizeChartRecord))
    }
    return CatalogSnapshot(version, products, charts)


# -- the shopper ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Body:
    """A shopper's stored measurements, as the size recommender takes them."""

    values_cm: tuple[tuple[Zone, float], ...]
    weight_kg: float | None
    sex: Sex | None
    preference: FitPreference


# Statements built once: building a select costs more than running it on SQLite.
_BODY_QUERY = (
    select(Shopper.sex, Shopper.fit_preference, ShopperMeasurements.values_cm)
    .join(ShopperMeasurements, ShopperMeasurements.shopper_id == Shopper.shopper_id)
    .where(Shopper.shopper_id == bindparam("shopper_id"))
)
_HISTORY_QUERY = (
    select(Event.product_id, Event.kind)
    .where(Event.shopper_id == bindparam("shopper_id"), Event.kind.in_(POSITIVE_KINDS))
    .order_by(Event.occurred_at.desc(), Event.event_id.desc())
    .limit(HISTORY_EVENTS)
)


def _shopper_body(session: Session, shopper_id: str) -> _Body | None:
    row = session.execute(_BODY_QUERY, {"shopper_id": shopper_id}).first()
    if row is None:
        return None
    sex, preference, stored = row
    values = tuple(
        sorted(
            ((Zone(k), float(v)) for k, v in stored.items() if k in Zone.__members__),
            key=lambda item: item[0].value,
        )
    )
    if not values:
        return None
    weight = stored.get("weight_kg")
    return _Body(
        values_cm=values,
        weight_kg=None if weight is None else float(weight),
        sex=Sex(sex) if sex else None,
        preference=FitPreference(preference) if preference else FitPreference.regular,
    )


def _history(session: Session, shopper_id: str) -> list[tuple[str, EventKind]]:
    """The shopper's most recent positive events, oldest first."""
    rows = session.execute(_HISTORY_QUERY, {"shopper_id": shopper_id}).all()
    return [(str(product_id), EventKind(kind)) for product_id, kind in reversed(rows)]


def _fitting_size(
    serving: Serving, catalog: CatalogSnapshot, chart_id: str, body: _Body
) -> str | None:
    """The size the size recommender picks for this body on this chart (None when the
    body lacks the zones the chart needs). Cached per (catalogue snapshot, chart, body)."""
    chart = catalog.charts[chart_id]

    def pick() -> str | None:
        try:
            assembled = assemble_body(
                dict(body.values_cm),
                body.weight_kg,
                body.sex or chart.sex,
                chart.zones,
                serving.estimator_path,
            )
            return recommended_size(chart, assembled, body.preference)
        except NotEnoughMeasurements:
            return None

    return catalog.fits.get_or_make((chart_id, body), pick)


def _fit_size(
    serving: Serving, catalog: CatalogSnapshot, product: CatalogProduct, body: _Body | None
) -> tuple[bool, str | None]:
    """(keep the product?, the size that fits when it is in stock; None: fit unknown)."""
    if body is None or product.chart_id is None or product.chart_id not in catalog.charts:
        return True, None
    size = _fitting_size(serving, catalog, product.chart_id, body)
    if size is None:
        return True, None
    if product.stock.get(size, 0) > 0:
        return True, size
    return False, None


# -- ranking helpers --------------------------------------------------------------------


def _check_k(k: int) -> None:
    if not 1 <= k <= MAX_K:
        raise InputError(f"k must be 1-{MAX_K}; got {k}", field="k")


def _title(catalog: CatalogSnapshot, product_id: str) -> str:
    product = catalog.products.get(product_id)
    return product.title if product else product_id


def _item(
    product: CatalogProduct, score: float, reason: str, fit_size: str | None
) -> dict[str, Any]:
    return {
        "product_id": product.product_id,
        "title": product.title,
        "score": round(float(score), 6),
        "reason": reason,
        "fit_size": fit_size,
    }


def _answer(served: ServedModel | None) -> dict[str, Any]:
    if served is None:
        return {"model": FALLBACK_MODEL, "model_version": None}
    return {"model": served.model.name, "model_version": served.version}


def _history_reason(catalog: CatalogSnapshot, product_id: str, kind: EventKind) -> str:
    title = _title(catalog, product_id)
    if kind is EventKind.purchase:
        return f"often bought with {title}"
    if kind is EventKind.add_to_cart:
        return f"goes with {title} in your cart"
    return f"like {title} you viewed"


# -- use cases --------------------------------------------------------------------------


def recommend_for_shopper(
    session: Session, serving: Serving, shopper_id: str, k: int = 10
) -> dict[str, Any]:
    """The ``k`` products this shopper is most likely to want next, in stock, each with
    a reason and the size that fits them (see the module docstring).

    An unknown shopper, or one with no events, is a cold start: the most popular
    products. Their history is read from the events table at request time.
    """
    _check_k(k)
    served, catalog, table = serving.view(session)
    history = _history(session, shopper_id)
    body = _shopper_body(session, shopper_id)
    history_ids = [product_id for product_id, _ in history]
    strongest: dict[str, EventKind] = {}
    for product_id, kind in history:
        before = strongest.get(product_id)
        if before is None or KIND_STRENGTH[kind] > KIND_STRENGTH[before]:
            strongest[product_id] = kind

    window = FIT_WINDOW * k
    if served is not None and len(served.model.encode(history_ids)):
        ranked = served.model.recommend(
            shopper_id, window, history=history_ids, candidates=table.in_stock
        )
        candidates = [(table.index[s.item_id], s.score) for s in ranked]
    else:
        # Cold start: the model's answer to an empty history (kept in the item table),
        # or, before any training, the events' popularity.
        scores = np.where(table.in_stock, table.popularity, -np.inf)
        seen = [table.index[i] for i in history_ids if i in table.index]
        scores[seen] = -np.inf
        candidates = [(i, float(scores[i])) for i in top_indices(scores, window)]

    chosen: list[tuple[int, float, str | None]] = []
    for index, score in candidates:
        product = table.products[index]
        if product is None:
            continue
        keep, size = _fit_size(serving, catalog, product, body)
        if keep:
            chosen.append((index, score, size))
            if len(chosen) == k:
                break

    # With a history, an item no single past product explains (the sequential part's
    # pick) is still personal, not merely popular.
    personal = served is not None and bool(history_ids) and len(served.model.encode(history_ids))
    reasons = [HISTORY_REASON if personal else POPULAR_REASON] * len(chosen)
    if served is not None and history_ids:
        model = served.model
        recent: list[str] = []
        for product_id in reversed(history_ids):
            if product_id not in recent and product_id in table.index:
                recent.append(product_id)
            if len(recent) == REASON_ITEMS:
                break
        because = model.because_of(
            model.encode(recent), [table.item_ids[index] for index, _, _ in chosen]
        )
        for n, source in enumerate(because):
            if source is not None:
                source_id = model.item_ids[source]
                reasons[n] = _history_reason(catalog, source_id, strongest[source_id])
    items = [
        _item(table.product(index), score, reason, size)
        for (index, score, size), reason in zip(chosen, reasons, strict=True)
    ]
    return {"shopper_id": shopper_id, **_answer(served), "items": items}


def _product_or_404(catalog: CatalogSnapshot, product_id: str) -> CatalogProduct:
    product = catalog.products.get(product_id)
    if product is None:
        raise NotFound(f"product {product_id!r} does not exist", product_id=product_id)
    return product


#: Text-and-colour cosine from which two products count as alike (all-MiniLM-L6-v2
#: puts unrelated product texts at about 0.1-0.3 and near-duplicates above 0.7).
CONTENT_ALIKE = 0.5


def _similarity(
    served: ServedModel | None, table: ItemTable, product_id: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Behavioural similarity (shoppers touched both) and content likeness (0 below
    ``CONTENT_ALIKE``, else the cosine) of every item to ``product_id``; zeros where the
    model has no such evidence or there is no model."""
    n = len(table.item_ids)
    if served is None or product_id not in table.index:
        return np.zeros(n), np.zeros(n)
    index = served.model.item_index(product_id)
    sources = served.model.similarity_sources(np.array([index]), ("behaviour", "content"))
    behaviour = (
        np.maximum(sources["behaviour"][0].astype(np.float64), 0.0)
        if ("behaviour" in sources)
        else np.zeros(n)
    )
    content = sources["content"][0].astype(np.float64) if "content" in sources else np.zeros(n)
    content = np.where(content >= CONTENT_ALIKE, content, 0.0)
    return behaviour, content


def _pad_by_popularity(
    table: ItemTable, mask: NDArray[np.bool_], taken: set[int], n: int
) -> list[tuple[int, float]]:
    """Up to ``n`` more in-``mask`` items, most popular first, for when likeness runs out."""
    scores = np.where(mask, table.popularity, -np.inf)
    if taken:
        scores[list(taken)] = -np.inf
    return [(i, 0.0) for i in top_indices(scores, n)]


def similar_products(
    session: Session, serving: Serving, product_id: str, k: int = 10
) -> dict[str, Any]:
    """Products like this one (in stock), from the model's item similarity; when
    likeness runs out (a new product, no model yet), popular ones of its category."""
    _check_k(k)
    served, catalog, table = serving.view(session)
    product = _product_or_404(catalog, product_id)
    behaviour, content = _similarity(served, table, product_id)
    mask = table.in_stock.copy()
    if product_id in table.index:
        mask[table.index[product_id]] = False
    # Behaviour first (relative to its best); then content, within the product's own
    # category (jeans are "like" chinos; a denim jacket only goes with them), which
    # also reaches products nobody has touched yet.
    best = behaviour[mask].max(initial=0.0)
    same_category = table.categories == table.code(product.category)
    sims = (behaviour / best if best > 0 else behaviour) + 0.5 * content * same_category
    scores = np.where(mask & (sims > 0), sims, -np.inf)
    items = []
    picked = top_indices(scores, k)
    for index in picked:
        if behaviour[index] > 0:
            reason = f"shoppers who looked at {product.title} also looked at this"
        else:
            reason = f"like {product.title}"
        items.append(_item(table.product(index), sims[index], reason, None))
    for index, _ in _pad_by_popularity(table, mask & same_category, set(picked), k - len(items)):
        reason = f"popular in {product.category}"
        items.append(_item(table.product(index), 0.0, reason, None))
    return {"product_id": product_id, **_answer(served), "items": items}


_BUYERS = (
    select(Event.shopper_id)
    .where(
        Event.product_id == bindparam("product_id"),
        Event.kind == EventKind.purchase,
        Event.shopper_id.is_not(None),
    )
    .group_by(Event.shopper_id)
    .order_by(func.max(Event.event_id).desc())
    .limit(OUTFIT_BUYERS)
    .subquery()
)
_CO_PURCHASE_QUERY = (
    select(Event.product_id, func.count(func.distinct(Event.shopper_id)))
    .where(
        Event.shopper_id.in_(select(_BUYERS.c.shopper_id)),
        Event.kind == EventKind.purchase,
        Event.product_id != bindparam("product_id"),
    )
    .group_by(Event.product_id)
)


def _co_purchases(session: Session, product_id: str) -> dict[str, int]:
    """How many of the product's (most recent) buyers also bought each other product."""
    rows = session.execute(_CO_PURCHASE_QUERY, {"product_id": product_id})
    return {str(other): int(n) for other, n in rows}


def outfit(session: Session, serving: Serving, product_id: str, k: int = 6) -> dict[str, Any]:
    """ "Complete the look": in-stock products of other categories (for the same gender,
    or unisex) that go with this one.

    Score: co-purchase (the share of the product's buyers who bought the other one,
    relative to the best) plus ``OUTFIT_SIMILARITY_WEIGHT`` times the model's similarity
    (relative to the best). The list takes each category's best in turn, so a look
    holds, say, trousers and a jacket before a second pair of trousers; popular
    products of the other categories fill any gap.
    """
    _check_k(k)
    served, catalog, table = serving.view(session)
    product = _product_or_404(catalog, product_id)
    other = table.in_stock & (table.categories != table.code(product.category))
    if product.gender != "unisex":
        genders = table.genders
        other &= (genders == table.code(product.gender)) | (genders == table.code("unisex"))

    co = np.zeros(len(table.item_ids))
    for other_id, n in _co_purchases(session, product_id).items():
        if other_id in table.index:
            co[table.index[other_id]] = n
    behaviour, content = _similarity(served, table, product_id)
    sims = behaviour + content
    co_norm = co / co[other].max(initial=0.0) if co[other].max(initial=0.0) > 0 else co
    sim_best = sims[other].max(initial=0.0)
    sim_norm = sims / sim_best if sim_best > 0 else sims
    score = co_norm + OUTFIT_SIMILARITY_WEIGHT * sim_norm
    ranked = top_indices(np.where(other & (score > 0), score, -np.inf), len(table.item_ids))

    by_category: dict[int, list[int]] = {}
    for index in ranked:
        by_category.setdefault(int(table.categories[index]), []).append(index)
    picked: list[int] = []
    while len(picked) < k and any(by_category.values()):
        for queue in list(by_category.values()):  # categories in order of their best
            if queue and len(picked) < k:
                picked.append(queue.pop(0))

    items = []
    for index in picked:
        if co[index] > 0:
            reason = f"often bought with {product.title}"
        else:
            reason = f"goes with {product.title}"
        items.append(_item(table.product(index), score[index], reason, None))
    for index, _ in _pad_by_popularity(table, other, set(picked), k - len(items)):
        candidate = table.product(index)
        items.append(_item(candidate, 0.0, f"popular in {candidate.category}", None))
    return {"product_id": product_id, **_answer(served), "items": items}
