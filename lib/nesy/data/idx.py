"""The IDX format of MNIST (http://yann.lecun.com/exdb/mnist/), plain or gzipped.

Header: two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
0x0D float32, 0x0E float64), the number of dimensions, then one big-endian uint32 per
dimension; the data follow in C order, big-endian.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from .errors import FormatError

IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path, *, magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzipped if it starts with the gzip magic) into a numpy array.

    magic: the expected 4-byte magic number, e.g. 2051 (0x803) for MNIST images
    [N, 28, 28] uint8, 2049 (0x801) for labels [N] uint8. Raises FormatError on a wrong
    magic number, a malformed header, or a data length that does not match the dimensions.
    """
    path = Path(path)
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise FormatError(f"{path}: cannot decompress: {exc}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES:
        raise FormatError(f"{path}: not an IDX file (header bytes {data[:4].hex()})")
    found = int.from_bytes(data[:4], "big")
    if magic is not None and found != magic:
        raise FormatError(f"{path}: IDX magic number {found} (0x{found:x}), expected {magic} (0x{magic:x})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise FormatError(f"{path}: truncated IDX header ({len(data)} bytes, need {header})")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(IDX_TYPES[data[2]])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise FormatError(
            f"{path}: IDX dims {dims} need {expected} data bytes, the file has {len(data) - header}"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))
