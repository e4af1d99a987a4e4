"""What the widgets embed in a page: images as data URLs, numbers as JavaScript prints them.

>>> js_number(0.5), js_number(3.0), js_number(1e-05), js_number(1e21), js_number(-2.5e-7)
('0.5', '3', '0.00001', '1e+21', '-2.5e-7')
"""
from __future__ import annotations

import base64
import io
from decimal import Decimal

import numpy as np

__all__ = ["image_data_url", "js_number"]

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


def image_data_url(image, format: str = "PNG", quality: int = 80) -> str:
    """A ``data:image/...;base64,`` URL of ``image``: uint8 ``[H, W]`` or ``[H, W, 3]`` (numpy
    or tensor) or a PIL image; PNG (lossless, optimised) or JPEG at ``quality``."""
    from PIL import Image

    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(map(repr, FORMATS))}, got {format!r}")
    picture = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image, dtype=np.uint8))
    buffer = io.BytesIO()
    if format == "PNG":
        picture.save(buffer, format="PNG", optimize=True)
    else:
        picture.save(buffer, format="JPEG", quality=quality)
    return f"data:{FORMATS[format]};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def js_number(x: float) -> str:
    """``String(x)`` in JavaScript for a finite float: the shortest digits that round-trip
    (as Python's repr), in fixed notation for 1e-7 <= |x| < 1e21, else ``d.ddde±n``."""
    x = float(x)
    if not np.isfinite(x):
        raise ValueError(f"x must be a finite number, got {x!r}")
    if x == 0:
        return "0"
    sign, digit_tuple, exponent = Decimal(repr(abs(x))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k, n = len(digits), len(digits) + exponent  # x = 0.digits * 10**n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return ("-" if x < 0 else "") + text
