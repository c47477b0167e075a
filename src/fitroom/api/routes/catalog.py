"""Brands, size charts and products: open reads, admin-key writes, bulk imports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from fitroom.api.deps import AdminDep, SessionDep, get_settings_dep
from fitroom.api.schemas import BrandOut, ImportResultOut, ProductOut, ProductPage
from fitroom.config import Settings
from fitroom.errors import InputError
from fitroom.services import catalog, imports, textures
from fitroom.sizing.charts import Category, SizeChart

router = APIRouter(tags=["catalog"])


def _same_id(path_id: str, body_id: str, name: str) -> None:
    if path_id != body_id:
        raise InputError(
            f"{name} in the path ({path_id!r}) and in the body ({body_id!r}) differ", field=name
        )


@router.get("/brands", response_model=list[BrandOut])
def list_brands(session: SessionDep) -> list[Any]:
    return list(catalog.list_brands(session))


@router.get("/brands/{brand_id}", response_model=BrandOut)
def get_brand(brand_id: str, session: SessionDep) -> Any:
    return catalog.get_brand(session, brand_id)


@router.put("/brands/{brand_id}", response_model=BrandOut, dependencies=[AdminDep])
def put_brand(brand_id: str, brand: catalog.BrandIn, session: SessionDep) -> Any:
    _same_id(brand_id, brand.brand_id, "brand_id")
    return catalog.put_brand(session, brand)


@router.get("/size-charts")
def list_charts(
    session: SessionDep,
    brand_id: str | None = None,
    category: Category | None = None,
) -> list[dict[str, Any]]:
    charts = catalog.list_charts(
        session, brand_id=brand_id, category=category.value if category else None
    )
    return [c.to_dict() for c in charts]


@router.get("/size-charts/{chart_id}")
def get_chart(chart_id: str, session: SessionDep) -> dict[str, Any]:
    return catalog.get_chart(session, chart_id).to_dict()


@router.put("/size-charts/{chart_id}", dependencies=[AdminDep])
def put_chart(
    chart_id: str,
    session: SessionDep,
    chart: Annotated[dict[str, Any], Body(examples=[{"chart_id": "acme-men-tops"}])],
) -> dict[str, Any]:
    """Create or replace a size chart (JSON import format: see the README)."""
    parsed = SizeChart.from_dict(chart)
    _same_id(chart_id, parsed.chart_id, "chart_id")
    catalog.put_chart(session, parsed)
    return parsed.to_dict()


@router.get("/products", response_model=ProductPage)
def list_products(
    session: SessionDep,
    settings: Annotated[Settings, Depends(get_settings_dep)],
    category: Category | None = None,
    gender: str | None = Query(default=None, pattern="^(women|men|unisex)$"),
    brand_id: str | None = None,
    size: str | None = Query(default=None, description="only products with this size in stock"),
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0),
) -> dict[str, Any]:
    items, total = catalog.list_products(
        session,
        category=category.value if category else None,
        gender=gender,
        brand_id=brand_id,
        in_stock_size=size,
        limit=limit,
        offset=offset,
    )
    media_dir = settings.resolved_media_dir
    return {
        "items": [_with_texture(catalog.product_to_dict(p), media_dir) for p in items],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@router.get("/products/{product_id}", response_model=ProductOut)
def get_product(
    product_id: str, session: SessionDep, settings: Annotated[Settings, Depends(get_settings_dep)]
) -> dict[str, Any]:
    product = catalog.product_to_dict(catalog.get_product(session, product_id))
    return _with_texture(product, settings.resolved_media_dir)


def _with_texture(product: dict[str, Any], media_dir: Path) -> dict[str, Any]:
    """Name the super-resolved texture of the first photo, where one was built."""
    images = product["images"]
    product["texture"] = textures.texture_url(images[0], media_dir) if images else None
    return product


@router.put("/products/{product_id}", response_model=ProductOut, dependencies=[AdminDep])
def put_product(product_id: str, product: catalog.ProductIn, session: SessionDep) -> dict[str, Any]:
    _same_id(product_id, product.product_id, "product_id")
    return catalog.product_to_dict(catalog.put_product(session, product))


@router.delete("/products/{product_id}", status_code=204, dependencies=[AdminDep])
def delete_product(product_id: str, session: SessionDep) -> Response:
    catalog.delete_product(session, product_id)
    return Response(status_code=204)


async def _upload(request: Request, settings: Settings) -> tuple[bytes, imports.ImportFormat]:
    """The uploaded file (multipart field ``file``, or the raw body) and its format."""
    ctype = request.headers.get("content-type", "")
    declared = int(request.headers.get("content-length") or 0)
    if declared > settings.max_upload_bytes:
        raise InputError(
            f"the upload is {declared} bytes; the limit is {settings.max_upload_bytes}",
            field="file",
        )
    if ctype.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InputError("send the file in a multipart field named 'file'", field="file")
        data = await upload.read(settings.max_upload_bytes + 1)
        name, utype = upload.filename, upload.content_type
    else:
        data = await request.body()
        name, utype = None, ctype
    if len(data) > settings.max_upload_bytes:
        raise InputError(
            f"the upload is over the {settings.max_upload_bytes}-byte limit", field="file"
        )
    if not data.strip():
        raise InputError("the upload is empty", field="file")
    return data, imports.detect_format(name, utype)


IMPORT_DOC = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        }
    }
}


@router.post(
    "/imports/products",
    response_model=ImportResultOut,
    dependencies=[AdminDep],
    openapi_extra=IMPORT_DOC,
)
async def import_products(
    request: Request,
    session: SessionDep,
    settings: Annotated[Settings, Depends(get_settings_dep)],
) -> dict[str, Any]:
    """Import products from CSV or JSON; any bad row fails the whole import."""
    data, fmt = await _upload(request, settings)
    result = await run_in_threadpool(imports.import_products, session, data, fmt)
    return result.to_dict()


@router.post(
    "/imports/size-charts",
    response_model=ImportResultOut,
    dependencies=[AdminDep],
    openapi_extra=IMPORT_DOC,
)
async def import_charts(
    request: Request,
    session: SessionDep,
    settings: Annotated[Settings, Depends(get_settings_dep)],
) -> dict[str, Any]:
    """Import size charts from CSV or JSON; any bad row fails the whole import."""
    data, fmt = await _upload(request, settings)
    result = await run_in_threadpool(imports.import_charts, session, data, fmt)
    return result.to_dict()
