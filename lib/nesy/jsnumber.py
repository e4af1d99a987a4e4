"""Numbers as JavaScript's ``String(x)`` writes them, so that keys and labels built in Python
match those the book's widgets build in the browser.

>>> js_number(0.5), js_number(3.0), js_number(1e-05), js_number(1e21), js_number(-2.5e-7)
('0.5', '3', '0.00001', '1e+21', '-2.5e-7')
"""
from __future__ import annotations

import math
from decimal import Decimal

__all__ = ["js_number"]


def js_number(x: float) -> str:
    """``String(x)`` in JavaScript for a finite float: the shortest digits that round-trip
    (as Python's repr), in fixed notation for 1e-7 <= |x| < 1e21, else ``d.ddde±n``."""
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"x must be a finite number, got {x!r}")
    if x == 0:
        return "0"
    _, digit_tuple, exponent = Decimal(repr(abs(x))).normalize().as_tuple()
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
