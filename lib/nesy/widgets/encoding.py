"""Images as the widgets embed them in a page: data URLs."""
from __future__ import annotations

import base64
import io

import numpy as np

from nesy.checks import one_of

__all__ = ["image_data_url"]

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


def image_data_url(image, format: str = "PNG", quality: int = 80) -> str:
    """A ``data:image/...;base64,`` URL of ``image``: uint8 ``[H, W]`` or ``[H, W, 3]`` (numpy
    or tensor) or a PIL image; PNG (lossless, optimised) or JPEG at ``quality``."""
    from PIL import Image

    one_of("format", format, FORMATS)
    picture = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image, dtype=np.uint8))
    buffer = io.BytesIO()
    if format == "PNG":
        picture.save(buffer, format="PNG", optimize=True)
    else:
        picture.save(buffer, format="JPEG", quality=quality)
    return f"data:{FORMATS[format]};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
