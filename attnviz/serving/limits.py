"""The served app's limits, with defaults for a classroom; the operator may change them through
environment variables (named beside each field). Every limit that a visitor meets is named in the
message they see."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import AttnvizError
from ..i18n import _


def _env_int(name: str, default: int, least: int = 0) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise AttnvizError(_("{name}={value} is not a whole number; unset it or give one, e.g. {default}").format(
            name=name, value=repr(value), default=default)) from None
    if number < least:
        raise AttnvizError(_("{name}={number} is below {least}; give at least {least} (default {default})").format(
            name=name, number=number, least=least, default=default))
    return number


@dataclass(frozen=True)
class ServerLimits:
    images_per_session: int = 24            # ATTNVIZ_MAX_IMAGES
    upload_mb_per_session: int = 100        # ATTNVIZ_MAX_UPLOAD_MB: all images of one session together
    image_mb: int = 25                      # one image file (the uploader refuses larger ones)
    weights_mb: int = 64                    # one weights file or zip (= server.maxUploadSize)
    zip_entries: int = 5000                 # ATTNVIZ_ZIP_MAX_ENTRIES
    zip_ratio: int = 200                    # largest compression ratio of one zip entry (zip bombs)
    per_class_images: int = 100             # ATTNVIZ_MAX_PER_CLASS: folder profiles, images per class
    heavy_jobs: int = 1                     # ATTNVIZ_HEAVY_JOBS: folder profiles running at once
    data_root: Path | None = None           # ATTNVIZ_DATA_ROOT: folders an operator offers

    @property
    def upload_bytes_per_session(self) -> int:
        return self.upload_mb_per_session * 1024 * 1024


def server_limits() -> ServerLimits:
    """The limits in force, read from the environment (cheap: the app reads them on every run)."""
    root = os.environ.get("ATTNVIZ_DATA_ROOT", "").strip()
    return ServerLimits(
        images_per_session=_env_int("ATTNVIZ_MAX_IMAGES", ServerLimits.images_per_session, 1),
        upload_mb_per_session=_env_int("ATTNVIZ_MAX_UPLOAD_MB", ServerLimits.upload_mb_per_session, 1),
        zip_entries=_env_int("ATTNVIZ_ZIP_MAX_ENTRIES", ServerLimits.zip_entries, 1),
        per_class_images=_env_int("ATTNVIZ_MAX_PER_CLASS", ServerLimits.per_class_images, 1),
        heavy_jobs=_env_int("ATTNVIZ_HEAVY_JOBS", ServerLimits.heavy_jobs, 1),
        data_root=Path(root).expanduser().resolve() if root else None,
    )
