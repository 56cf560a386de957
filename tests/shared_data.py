"""Where the tests find ../shared/data (read-only, never copied into the project): Imagenette and
the ImageNet sample photos. ``ATTNVIZ_SHARED_DATA`` names another folder. Imported by
tests/conftest.py and by any module that needs the paths outside a fixture."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ATTNVIZ_SHARED_DATA", ROOT.parent / "shared" / "data"))
SAMPLES = SHARED / "imagenet-samples"
NETTE = SHARED / "imagenette-224"
