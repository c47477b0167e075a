"""Bulk import of products and size charts from CSV or JSON.

Every row is checked before anything is written. Any bad row fails the whole import
with one error per problem (row number, field, reason) and nothing is written; a good
file is written in one transaction.

CSV formats (UTF-8, header row, comma-separated):

products: ``product_id,brand_id,chart_id,category,gender,title,description,colour,
material,price,currency,fit,images,sizes`` where ``images`` is ``url|url`` and
``sizes`` is ``S:4|M:10|L:0`` (label:stock).

size charts: one row per size or length: ``chart_id,brand_id,category,sex,system,kind,
label`` then ``<zone>_min,<zone>_max`` columns (``chest_min,chest_max,...``); ``kind``
is ``size`` or ``length``; rows of one chart are consecutive, small to large.

JSON: a list of objects in the API's format, or ``{"products": [...]}`` /
``{"charts": [...]}``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import ValidationError
from sqlalchemy.orm import Session

from fitroom.errors import FitroomError, ImportFailed, InputError
from fitroom.services import catalog
from fitroom.sizing.charts import SizeChart
from fitroom.sizing.zones import Zone
from fitroom.store.models import Product, SizeChartRecord

ImportFormat = Literal["csv", "json"]
MAX_ROWS = 50_000
T = TypeVar("T")


@dataclass(frozen=True)
class RowError:
    """One problem in one row of an import."""

    row: int
    field: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class ImportResult:
    kind: str
    created: int
    updated: int

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "created": self.created, "updated": self.updated}


def detect_format(filename: str | None, content_type: str | None) -> ImportFormat:
    """csv or json from a file name or content type; raises InputError if neither."""
    name = (filename or "").lower()
    ctype = (content_type or "").lower()
    if name.endswith(".json") or "json" in ctype:
        return "json"
    if name.endswith(".csv") or "csv" in ctype:
        return "csv"
    raise InputError(
        f"cannot tell the format of {filename or 'the upload'!r} "
        f"(content type {content_type!r}); send a .csv or .json file",
        field="file",
    )


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"the file is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8",
            field="file",
        ) from None


def _json_items(data: bytes, key: str) -> list[tuple[int, Any]]:
    try:
        parsed = json.loads(_decode(data))
    except json.JSONDecodeError as exc:
        raise ImportFailed(
            f"the JSON is malformed: {exc.msg} at line {exc.lineno} column {exc.colno}",
            errors=[{"row": exc.lineno, "field": None, "reason": exc.msg}],
        ) from None
    if isinstance(parsed, Mapping) and key in parsed:
        parsed = parsed[key]
    if not isinstance(parsed, list):
        raise InputError(
            f"the JSON must be a list of {key} or an object with a {key!r} list", field="file"
        )
    _check_row_count(len(parsed))
    return [(index + 1, item) for index, item in enumerate(parsed)]


def _csv_rows(data: bytes, required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    text = _decode(data)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [column for column in required if column not in header]
    if missing:
        raise ImportFailed(
            f"the CSV header lacks column(s) {', '.join(missing)}",
            errors=[{"row": 1, "field": m, "reason": "missing column"} for m in missing],
        )
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for row in reader:
            rows.append((reader.line_num, row))
            _check_row_count(len(rows))
    except csv.Error as exc:
        raise ImportFailed(
            f"the CSV is malformed at line {reader.line_num}: {exc}",
            errors=[{"row": reader.line_num, "field": None, "reason": str(exc)}],
        ) from None
    return rows


def _check_row_count(count: int) -> None:
    if count > MAX_ROWS:
        raise InputError(f"an import holds at most {MAX_ROWS} rows; split the file", field="file")


def pydantic_row_errors(row: int, exc: ValidationError) -> list[RowError]:
    """One ``RowError`` per problem pydantic found in row ``row``."""
    return [
        RowError(row, ".".join(str(p) for p in err["loc"]) or None, err["msg"])
        for err in exc.errors()
    ]


# -- products ---------------------------------------------------------------------------

PRODUCT_CSV_COLUMNS = ("product_id", "brand_id", "category", "gender", "title", "price", "sizes")


def _product_from_csv(row: Mapping[str, str | None]) -> dict[str, Any]:
    out: dict[str, Any] = {k: (v or "").strip() for k, v in row.items() if k}
    for optional in ("chart_id", "description", "colour", "material", "currency", "fit"):
        if not out.get(optional):
            out.pop(optional, None)
    images = out.pop("images", "")
    out["images"] = [url.strip() for url in images.split("|") if url.strip()]
    sizes = []
    for token in out.pop("sizes", "").split("|"):
        if not token.strip():
            continue
        label, sep, stock = token.rpartition(":")
        if not sep:
            raise ValueError(f"size {token!r} must be LABEL:STOCK, e.g. M:10")
        sizes.append({"label": label.strip(), "stock": stock.strip()})
    out["sizes"] = sizes
    return out


def parse_products(
    data: bytes, fmt: ImportFormat
) -> tuple[list[tuple[int, catalog.ProductIn]], list[RowError]]:
    """Products and the row errors found in a file (no database checks yet)."""
    items: list[tuple[int, Any]]
    if fmt == "json":
        items = _json_items(data, "products")
    else:
        items = []
        for line, raw in _csv_rows(data, PRODUCT_CSV_COLUMNS):
            try:
                items.append((line, _product_from_csv(raw)))
            except ValueError as exc:
                items.append((line, exc))
    products: list[tuple[int, catalog.ProductIn]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for row, item in items:
        if isinstance(item, ValueError):
            errors.append(RowError(row, "sizes", str(item)))
            continue
        try:
            product = catalog.ProductIn.model_validate(item)
        except ValidationError as exc:
            errors.extend(pydantic_row_errors(row, exc))
            continue
        if product.product_id in seen:
            errors.append(
                RowError(
                    row,
                    "product_id",
                    f"{product.product_id!r} already appears in row {seen[product.product_id]}",
                )
            )
            continue
        seen[product.product_id] = row
        products.append((row, product))
    return products, errors


def import_products(session: Session, data: bytes, fmt: ImportFormat) -> ImportResult:
    """Check every product, then write them all or none."""
    parsed, errors = parse_products(data, fmt)
    rows = {product.product_id: row for row, product in parsed}
    return _write_all(
        session,
        "products",
        [product for _, product in parsed],
        errors,
        lambda p: rows[p.product_id],
        lambda s, p: catalog.check_product(s, p),
        lambda s, p: s.get(Product, p.product_id) is not None,
        catalog.put_product,
    )


# -- size charts ------------------------------------------------------------------------

CHART_CSV_COLUMNS = ("chart_id", "brand_id", "category", "sex", "kind", "label")


def _charts_from_csv(data: bytes) -> list[tuple[int, Any]]:
    charts: dict[str, dict[str, Any]] = {}
    first_row: dict[str, int] = {}
    bad: list[tuple[int, Any]] = []
    for line, row in _csv_rows(data, CHART_CSV_COLUMNS):
        chart_id = (row.get("chart_id") or "").strip()
        kind = (row.get("kind") or "").strip()
        if kind not in ("size", "length"):
            bad.append(
                (line, RowError(line, "kind", f"kind must be 'size' or 'length', got {kind!r}"))
            )
            continue
        chart = charts.setdefault(
            chart_id,
            {
                "chart_id": chart_id,
                "brand_id": (row.get("brand_id") or "").strip(),
                "category": (row.get("category") or "").strip(),
                "sex": (row.get("sex") or "").strip(),
                "system": (row.get("system") or "other").strip() or "other",
                "sizes": [],
                "lengths": [],
            },
        )
        first_row.setdefault(chart_id, line)
        entry: dict[str, Any] = {"label": (row.get("label") or "").strip()}
        for zone in Zone:
            low = (row.get(f"{zone.value}_min") or "").strip()
            high = (row.get(f"{zone.value}_max") or "").strip()
            if not low and not high:
                continue
            try:
                entry[zone.value] = [float(low), float(high)]
            except ValueError:
                bad.append(
                    (
                        line,
                        RowError(
                            line,
                            f"{zone.value}_min/{zone.value}_max",
                            f"must both be numbers (cm), got {low!r} and {high!r}",
                        ),
                    )
                )
        chart["sizes" if kind == "size" else "lengths"].append(entry)
    return bad + [(first_row[cid], chart) for cid, chart in charts.items()]


def parse_charts(
    data: bytes, fmt: ImportFormat
) -> tuple[list[tuple[int, SizeChart]], list[RowError]]:
    items = _json_items(data, "charts") if fmt == "json" else _charts_from_csv(data)
    charts: list[tuple[int, SizeChart]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for row, item in items:
        if isinstance(item, RowError):
            errors.append(item)
            continue
        if not isinstance(item, Mapping):
            errors.append(RowError(row, None, "each chart must be an object"))
            continue
        try:
            chart = SizeChart.from_dict(item)
        except FitroomError as exc:
            errors.append(RowError(row, exc.details.get("field"), exc.message))
            continue
        if chart.chart_id in seen:
            errors.append(
                RowError(
                    row,
                    "chart_id",
                    f"{chart.chart_id!r} already appears in row {seen[chart.chart_id]}",
                )
            )
            continue
        seen[chart.chart_id] = row
        charts.append((row, chart))
    return charts, errors


def import_charts(session: Session, data: bytes, fmt: ImportFormat) -> ImportResult:
    """Check every chart, then write them all or none."""
    parsed, errors = parse_charts(data, fmt)
    rows = {chart.chart_id: row for row, chart in parsed}
    return _write_all(
        session,
        "charts",
        [chart for _, chart in parsed],
        errors,
        lambda c: rows[c.chart_id],
        lambda s, c: catalog.get_brand(s, c.brand_id),
        lambda s, c: s.get(SizeChartRecord, c.chart_id) is not None,
        catalog.put_chart,
    )


def _write_all(
    session: Session,
    kind: str,
    items: list[T],
    errors: list[RowError],
    row_of: Callable[[T], int],
    check: Callable[[Session, T], object],
    exists: Callable[[Session, T], bool],
    write: Callable[[Session, T], object],
) -> ImportResult:
    for item in items:
        try:
            check(session, item)
        except FitroomError as exc:
            errors.append(RowError(row_of(item), exc.details.get("field"), exc.message))
    if errors:
        _fail(kind, errors)
    created = updated = 0
    with session.begin_nested():
        for item in items:
            if exists(session, item):
                updated += 1
            else:
                created += 1
            try:
                write(session, item)
            except FitroomError as exc:
                _fail(kind, [RowError(row_of(item), exc.details.get("field"), exc.message)])
    return ImportResult(kind=kind, created=created, updated=updated)


def _fail(kind: str, errors: list[RowError]) -> None:
    errors.sort(key=lambda e: e.row)
    raise ImportFailed(
        f"{len(errors)} problem(s) in the {kind} import; nothing was written "
        f"(first: row {errors[0].row}, {errors[0].field or 'row'}: {errors[0].reason})",
        errors=[e.to_dict() for e in errors],
    )
