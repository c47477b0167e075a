"""Size charts: per size label, the body ranges (cm) that the size is made for.

A chart is a table of BODY measurements, as brands publish them ("M fits chest
96-104 cm"), not garment measurements. Sizes are ordered from small to large and every
zone's range must rise with the size; a chart may also carry separate lengths
(trousers sold as ``W32 L34``), which are chosen independently of the girth size.

The dict form (``SizeChart.from_dict``) is the JSON import format::

    {"chart_id": "nordform-women-tops", "brand_id": "nordform", "category": "tops",
     "sex": "female", "system": "letter",
     "sizes": [{"label": "S", "chest": [82, 90], "waist": [66, 74]}, ...],
     "lengths": [{"label": "L32", "inseam": [78, 83]}]}
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fitroom.errors import InvalidSizeChart, UnknownSize
from fitroom.sizing.zones import PLAUSIBLE_CM, Sex, Zone


class Category(enum.StrEnum):
    """Garment categories that charts and products use."""

    tops = "tops"
    dresses = "dresses"
    trousers = "trousers"
    outerwear = "outerwear"


class SizeSystem(enum.StrEnum):
    """How a chart labels its sizes."""

    letter = "letter"
    eu = "eu"
    waist_length = "waist_length"
    other = "other"


@dataclass(frozen=True)
class BodyRange:
    """The body measurements (cm) that one size of one zone is made for."""

    min_cm: float
    max_cm: float

    @property
    def mid_cm(self) -> float:
        return (self.min_cm + self.max_cm) / 2.0

    @property
    def width_cm(self) -> float:
        return self.max_cm - self.min_cm


@dataclass(frozen=True)
class SizeRow:
    """One size (or one length option) of a chart."""

    label: str
    ranges: Mapping[Zone, BodyRange]


@dataclass(frozen=True)
class SizeChart:
    """A validated size chart. Build it with ``from_dict`` or the constructor."""

    chart_id: str
    brand_id: str
    category: Category
    sex: Sex
    system: SizeSystem
    sizes: tuple[SizeRow, ...]
    lengths: tuple[SizeRow, ...] = ()

    def __post_init__(self) -> None:
        _validate_rows(self.chart_id, "sizes", self.sizes, allow_empty=False)
        _validate_rows(self.chart_id, "lengths", self.lengths, allow_empty=True)
        shared = set(self.size_zones) & set(self.length_zones)
        if shared:
            raise InvalidSizeChart(
                f"chart {self.chart_id!r}: zone(s) {sorted(shared)} appear in both sizes "
                "and lengths; a zone belongs to one of them",
                chart_id=self.chart_id,
            )

    @property
    def size_zones(self) -> tuple[Zone, ...]:
        return tuple(self.sizes[0].ranges) if self.sizes else ()

    @property
    def length_zones(self) -> tuple[Zone, ...]:
        return tuple(self.lengths[0].ranges) if self.lengths else ()

    @property
    def zones(self) -> tuple[Zone, ...]:
        return self.size_zones + self.length_zones

    @property
    def size_labels(self) -> tuple[str, ...]:
        return tuple(row.label for row in self.sizes)

    @property
    def length_labels(self) -> tuple[str, ...]:
        return tuple(row.label for row in self.lengths)

    def full_labels(self) -> tuple[str, ...]:
        """Every label a product on this chart can carry (``"W32 L34"`` with lengths)."""
        if not self.lengths:
            return self.size_labels
        return tuple(
            join_label(s, length) for s in self.size_labels for length in self.length_labels
        )

    def split_label(self, label: str) -> tuple[int, int | None]:
        """Indices (size, length) of a full label; raises UnknownSize if the chart lacks it."""
        if self.lengths:
            size_part, _, length_part = label.strip().rpartition(" ")
            if size_part in self.size_labels and length_part in self.length_labels:
                return self.size_labels.index(size_part), self.length_labels.index(length_part)
        elif label in self.size_labels:
            return self.size_labels.index(label), None
        raise UnknownSize(
            f"size {label!r} is not on chart {self.chart_id!r}; "
            f"its sizes are {', '.join(self.full_labels())}",
            size=label,
            chart_id=self.chart_id,
            valid_sizes=list(self.full_labels()),
        )

    def step_cm(self, zone: Zone) -> float:
        """Median width of a size step in ``zone``: the unit of size offsets."""
        rows = self.lengths if zone in self.length_zones else self.sizes
        widths = sorted(row.ranges[zone].width_cm for row in rows)
        return widths[len(widths) // 2]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SizeChart:
        """Build a chart from its JSON form, with errors that name the bad field."""
        chart_id = str(data.get("chart_id") or "").strip()
        if not chart_id:
            raise InvalidSizeChart("a size chart needs a non-empty 'chart_id'", field="chart_id")
        try:
            category = Category(str(data.get("category")))
        except ValueError:
            raise InvalidSizeChart(
                f"chart {chart_id!r}: category {data.get('category')!r} is not one of "
                f"{', '.join(c.value for c in Category)}",
                chart_id=chart_id,
                field="category",
            ) from None
        try:
            sex = Sex(str(data.get("sex")))
        except ValueError:
            raise InvalidSizeChart(
                f"chart {chart_id!r}: sex {data.get('sex')!r} is not 'female' or 'male'",
                chart_id=chart_id,
                field="sex",
            ) from None
        try:
            system = SizeSystem(str(data.get("system", "other")))
        except ValueError:
            raise InvalidSizeChart(
                f"chart {chart_id!r}: system {data.get('system')!r} is not one of "
                f"{', '.join(s.value for s in SizeSystem)}",
                chart_id=chart_id,
                field="system",
            ) from None
        brand_id = str(data.get("brand_id") or "").strip()
        if not brand_id:
            raise InvalidSizeChart(
                f"chart {chart_id!r} needs a 'brand_id'", chart_id=chart_id, field="brand_id"
            )
        sizes = _rows_from_dicts(chart_id, "sizes", data.get("sizes"))
        lengths = _rows_from_dicts(chart_id, "lengths", data.get("lengths") or [])
        return cls(
            chart_id=chart_id,
            brand_id=brand_id,
            category=category,
            sex=sex,
            system=system,
            sizes=sizes,
            lengths=lengths,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the chart (inverse of ``from_dict``)."""

        def row_dict(row: SizeRow) -> dict[str, Any]:
            out: dict[str, Any] = {"label": row.label}
            for zone, body_range in row.ranges.items():
                out[zone.value] = [body_range.min_cm, body_range.max_cm]
            return out

        return {
            "chart_id": self.chart_id,
            "brand_id": self.brand_id,
            "category": self.category.value,
            "sex": self.sex.value,
            "system": self.system.value,
            "sizes": [row_dict(r) for r in self.sizes],
            "lengths": [row_dict(r) for r in self.lengths],
        }


def join_label(size_label: str, length_label: str | None) -> str:
    """The product label of a girth size and an optional length: ``"W32 L34"``."""
    return size_label if length_label is None else f"{size_label} {length_label}"


def _rows_from_dicts(chart_id: str, field: str, raw: Any) -> tuple[SizeRow, ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise InvalidSizeChart(
            f"chart {chart_id!r}: {field!r} must be a list of rows", chart_id=chart_id, field=field
        )
    rows: list[SizeRow] = []
    for index, item in enumerate(raw):
        where = f"chart {chart_id!r} {field}[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidSizeChart(f"{where} must be an object", chart_id=chart_id, field=field)
        label = str(item.get("label") or "").strip()
        if not label:
            raise InvalidSizeChart(f"{where} needs a 'label'", chart_id=chart_id, field=field)
        ranges: dict[Zone, BodyRange] = {}
        for key, value in item.items():
            if key == "label":
                continue
            try:
                zone = Zone(key)
            except ValueError:
                raise InvalidSizeChart(
                    f"{where} ({label}): unknown zone {key!r}; zones are "
                    f"{', '.join(z.value for z in Zone)}",
                    chart_id=chart_id,
                    field=f"{field}[{index}].{key}",
                ) from None
            ranges[zone] = _parse_range(where, label, zone, value, chart_id)
        rows.append(SizeRow(label=label, ranges=ranges))
    return tuple(rows)


def _parse_range(where: str, label: str, zone: Zone, value: Any, chart_id: str) -> BodyRange:
    bad = InvalidSizeChart(
        f"{where} ({label}): {zone.value} must be [min_cm, max_cm] with min < max, got {value!r}",
        chart_id=chart_id,
        field=zone.value,
        size=label,
    )
    if not isinstance(value, Sequence) or isinstance(value, str | bytes) or len(value) != 2:
        raise bad
    try:
        low, high = float(value[0]), float(value[1])
    except (TypeError, ValueError):
        raise bad from None
    if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
        raise bad
    return BodyRange(low, high)


def _validate_rows(
    chart_id: str, field: str, rows: Sequence[SizeRow], *, allow_empty: bool
) -> None:
    if not rows:
        if allow_empty:
            return
        raise InvalidSizeChart(f"chart {chart_id!r} has no sizes", chart_id=chart_id, field=field)
    labels = [row.label for row in rows]
    if len(set(labels)) != len(labels):
        raise InvalidSizeChart(
            f"chart {chart_id!r}: duplicate size labels in {field}: {labels}",
            chart_id=chart_id,
            field=field,
        )
    zones = list(rows[0].ranges)
    if not zones:
        raise InvalidSizeChart(
            f"chart {chart_id!r}: {field} row {labels[0]!r} gives no body ranges",
            chart_id=chart_id,
            field=field,
        )
    for row in rows:
        if set(row.ranges) != set(zones):
            raise InvalidSizeChart(
                f"chart {chart_id!r}: size {row.label!r} covers "
                f"{sorted(z.value for z in row.ranges)} but {labels[0]!r} covers "
                f"{sorted(z.value for z in zones)}; every size must cover the same zones",
                chart_id=chart_id,
                field=field,
                size=row.label,
            )
        for zone, body_range in row.ranges.items():
            plausible = PLAUSIBLE_CM[zone]
            if body_range.min_cm < plausible.min_value * 0.75 or body_range.max_cm > (
                plausible.max_value * 1.3
            ):
                raise InvalidSizeChart(
                    f"chart {chart_id!r}: size {row.label!r} {zone.value} range "
                    f"{body_range.min_cm:g}-{body_range.max_cm:g} cm is not a body range in cm "
                    f"(plausible {plausible.min_value:g}-{plausible.max_value:g} cm); "
                    "charts are in centimetres",
                    chart_id=chart_id,
                    field=zone.value,
                    size=row.label,
                )
    # Sizes must rise: a bigger size is for a bigger body in every zone. This is what
    # makes "a larger body never gets a smaller size" hold (see recommend.py).
    for previous, current in itertools.pairwise(rows):
        for zone in zones:
            a, b = previous.ranges[zone], current.ranges[zone]
            if b.min_cm < a.min_cm or b.max_cm < a.max_cm:
                raise InvalidSizeChart(
                    f"chart {chart_id!r}: {field} must be ordered small to large, but "
                    f"{current.label!r} {zone.value} {b.min_cm:g}-{b.max_cm:g} cm does not "
                    f"come after {previous.label!r} {a.min_cm:g}-{a.max_cm:g} cm",
                    chart_id=chart_id,
                    field=zone.value,
                    size=current.label,
                )
        if all(previous.ranges[z] == current.ranges[z] for z in zones):
            raise InvalidSizeChart(
                f"chart {chart_id!r}: {previous.label!r} and {current.label!r} have the same "
                "body ranges in every zone",
                chart_id=chart_id,
                field=field,
                size=current.label,
            )
