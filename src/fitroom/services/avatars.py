"""Avatar use cases: measurements (a scan's answer or plain numbers) -> a fitted ``.glb``.

Accepted documents: the JSON of a body scan (``fitroom measure --json`` or the API's
answer: ``height_cm``, ``sex``, ``measurements: {name: {value_cm: ...}}``), or plain
numbers ``{"sex": "female", "stature_cm": 165, "waist_cm": 72, ...}``. Fitting costs a
second or so, so avatars of stored scans are kept in a small in-memory cache.
"""

from __future__ import annotations

import math
from typing import Any

from fitroom.avatar.fit import FIT_TARGETS
from fitroom.errors import InputError
from fitroom.services.lru import LruCache
from fitroom.sizing.estimate import check_sex


def targets_from_document(document: Any) -> tuple[dict[str, float], str]:
    """(targets in cm, sex) from a scan answer or a flat measurement document."""
    if not isinstance(document, dict):
        raise InputError("measurements must be a JSON object", field="measurements")
    sex_raw = document.get("sex")
    if sex_raw is None:
        raise InputError(
            "the avatar needs sex (male or female) to choose the body model",
            field="sex",
        )
    sex = check_sex(sex_raw).value
    targets: dict[str, float] = {}
    nested = document.get("measurements")
    if isinstance(nested, dict):
        for name, item in nested.items():
            value = item.get("value_cm") if isinstance(item, dict) else item
            if name in FIT_TARGETS and value is not None:
                targets[name] = value
        if "height_cm" in document:
            targets["stature_cm"] = document["height_cm"]
    else:
        for name, value in document.items():
            if name in FIT_TARGETS:
                targets[name] = value
            elif name == "height_cm":
                targets["stature_cm"] = value
            elif name != "sex":
                raise InputError(
                    f"unknown measurement {name!r}; known: {', '.join(FIT_TARGETS)}",
                    field=name,
                )
    checked: dict[str, float] = {}
    for name, value in targets.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InputError(f"{name} must be a number of cm; got {value!r}", field=name)
        checked[name] = float(value)
    if "stature_cm" not in checked:
        raise InputError(
            "the avatar needs the height (stature_cm or height_cm)", field="stature_cm"
        )
    _check_ranges(checked)
    return checked, sex


def _check_ranges(targets: dict[str, float]) -> None:
    from fitroom.body.scan import ZONE_OF_MEASUREMENT
    from fitroom.sizing.units import check_length_cm
    from fitroom.sizing.zones import Zone

    zones = {**ZONE_OF_MEASUREMENT, "stature_cm": Zone.height}
    for name, value in targets.items():
        if name in zones:
            check_length_cm(zones[name], value, field=name)
        elif not 5.0 <= value <= 120.0:
            raise InputError(f"{name} = {value} cm is not a plausible adult value", field=name)


def avatar_for(targets: dict[str, float], sex: str) -> bytes:
    """Fit and export; the glb bytes."""
    from fitroom.avatar.export import avatar_glb
    from fitroom.avatar.fit import fit_avatar

    fit = fit_avatar(targets, "male" if sex == "male" else "female")
    return avatar_glb(fit)


AVATARS: LruCache[str, bytes] = LruCache(64)
