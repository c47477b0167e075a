"""The demo store's content: three brands, their size charts and 52 products.

The data lives in ``demo/data/*.json`` in the same format a shop uses to import its own
catalogue (see ``fitroom.sizing.charts`` and ``fitroom.services.imports``), so the files
double as worked examples. These functions return fresh copies: callers may change
what they get without touching the next caller's data.

Where the chart numbers come from (all body measurements in cm, ISO 8559-1 girths):

- Letter sizes (Nordform XS-XXL, Millrace tops and jackets) use the EN 13402-3:2004
  letter-code intervals of the primary dimension, bust girth for women (XS 74-82,
  S 82-90, M 90-98, L 98-107, XL 107-119, XXL 119-131) and chest girth for men (XS
  78-86, S 86-94, M 94-102, L 102-110, XL 110-118, XXL 118-129, 3XL 129-141).
- Continental sizes (Maison Aurèle) lay the German/EU size numbers on the EN 13402-3
  bust and chest steps: women 34-44 are 4 cm bust steps from 78 cm and 46-48 are the
  standard's wider steps (102-107, 107-113); men's size is half the chest girth
  (44 = 86-90 ... 58 = 114-118). Both agree with the public H&M chart (women 34/80 ...
  48/110 cm bust, men 44/88 ... 58/116 cm chest), whose points sit at the interval
  centres.
- Secondary zones (waist and hip) are not fixed by EN 13402-3. At each bust boundary the
  women's waist and hip are the mean of what the public H&M, Zara and Koton women's
  charts give for that bust (linear interpolation between their points), rounded to
  1 cm. Men's waist is chest minus 12 cm, the drop of the H&M men's chart (and of
  German "normal" men's sizes); men's hip is the mean hip that the H&M, Zara and Koton
  men's trouser charts give for that waist. No brand's table is copied.
- Jeans (Millrace) follow the denim convention that W and L are inches: a W size fits a
  body waist within half an inch either side of its label (W32 = 31.5-32.5 in =
  80-82.5 cm; the two-inch steps above W34 split at the odd inch), an L fits an inside
  leg within an inch of its label (L32 = 31-33 in = 78.5-84 cm), rounded to 0.5 cm.
  Koton's public denim chart (L30/32/34 = 76/81/86 cm inside leg) falls in these.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

_DATA_PACKAGE = "fitroom.demo"


@cache
def _load(name: str) -> tuple[dict[str, Any], ...]:
    """Parse ``data/<name>.json`` once; the cached tuple is never handed out."""
    data_dir = resources.files(_DATA_PACKAGE).joinpath("data")
    text = data_dir.joinpath(f"{name}.json").read_text("utf-8")
    items = json.loads(text)
    if not isinstance(items, list):
        raise ValueError(f"demo data file {name}.json must hold a JSON list")
    return tuple(items)


def demo_brands() -> list[dict[str, Any]]:
    """The demo brands: ``{"brand_id", "name", "country", "description"}``."""
    return copy.deepcopy(list(_load("brands")))


def demo_charts() -> list[dict[str, Any]]:
    """The demo size charts, in the JSON import format of ``SizeChart.from_dict``."""
    return copy.deepcopy(list(_load("charts")))


def demo_products() -> list[dict[str, Any]]:
    """The demo products; each ``image`` field is the input of ``render_product_image``."""
    return copy.deepcopy(list(_load("products")))
