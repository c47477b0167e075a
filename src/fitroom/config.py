"""Settings: one typed object, read from ``FITROOM_*`` environment variables.

Built by ``get_settings()`` (cached) or ``Settings()`` directly in tests, never at
import time, so tests and the CLI can override any field.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a deployment can set. Environment: ``FITROOM_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="FITROOM_", env_file=None, extra="ignore")

    #: Folder for the SQLite file, product images, generated keys and caches.
    var_dir: Path = Path("var")
    #: SQLAlchemy URL; default is a SQLite file in var_dir. PostgreSQL works too:
    #: ``postgresql+psycopg://user:pass@host/db``.
    database_url: str | None = None
    #: Key that catalog and size-chart writes need (header ``X-Admin-Key``). When unset,
    #: ``fitroom serve`` generates one into ``var_dir/admin_api_key`` and prints it.
    admin_api_key: str | None = None
    #: Real public data for benchmarks and data tests (never shipped).
    data_dir: Path = Path("../shared/data")
    #: Where product images are written and served from (``/media``).
    media_dir: Path | None = None
    #: Caches of heavy models (body model, compiled kernels).
    cache_dir: Path | None = None
    #: The measurement estimator's model file; default: the one shipped in the package.
    estimator_path: Path | None = None
    #: Returns learning: prior strength, in purchases, that keeps an offset near 0
    #: until evidence accumulates.
    returns_prior_purchases: float = Field(default=8.0, gt=0)
    #: Largest size offset that returns can teach, in size steps.
    returns_max_offset_steps: float = Field(default=2.0, gt=0)
    #: Largest upload the API accepts, in bytes (CSV/JSON imports, images).
    max_upload_bytes: int = Field(default=10_000_000, gt=0)
    #: Largest image the upscale API takes, in pixels (1024 x 1024: a 4096 x 4096 result
    #: at x4, a few seconds on 2 CPU cores). The CLI takes larger images, tiled.
    superres_max_input_pixels: int = Field(default=1024 * 1024, gt=0)
    #: npm's ``node_modules`` (three.js for the pages, served at ``/vendor/three``);
    #: default: the one beside ``package.json`` in the source checkout.
    node_modules_dir: Path | None = None
    #: The recommender that ``fitroom recsys train`` fits and the API serves (a name in
    #: ``fitroom.recsys.registry.MODELS``: pop, itemknn, als, bpr, sasrec, ...).
    recsys_model: str = "hybrid"
    #: The model's parameters, passed through as they are (JSON in the environment,
    #: e.g. ``FITROOM_RECSYS_PARAMS='{"neighbours": 50}'``); empty: the model's defaults.
    recsys_params: dict[str, Any] = Field(default_factory=dict)
    #: Trained recommender versions kept on disk (the served one and the ones before it).
    recsys_keep_versions: int = Field(default=3, ge=1)
    #: Export the served recommender's SASRec network (SASRec or the hybrid's part) to
    #: ONNX when training, checked against torch, and score requests with ONNX Runtime:
    #: 0.97 ms instead of 2.34 for one shopper here (bench/recsys_scoring.py). False:
    #: trainings skip the export, and the versions they write are scored with torch.
    recsys_onnx: bool = True
    #: Threads that run the hot read-only routes' work (recommendations, similar, outfit,
    #: health) in each API process; further requests wait their turn. Under the GIL,
    #: more threads than CPU cores only add contention.
    api_work_threads: int = Field(default=2, ge=1)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_dir / 'fitroom.db'}"

    @property
    def resolved_media_dir(self) -> Path:
        return self.media_dir or self.var_dir / "media"

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or self.var_dir / "cache"

    @property
    def resolved_recsys_dir(self) -> Path:
        """Trained recommender versions (``v0001``, ...) and the ``current`` pointer."""
        return self.var_dir / "models" / "recsys"

    @property
    def resolved_node_modules_dir(self) -> Path:
        if self.node_modules_dir is not None:
            return self.node_modules_dir
        checkout = Path(__file__).resolve().parents[2]  # src/fitroom/config.py -> repo root
        return checkout / "node_modules"


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
