"""The first layer as an affine map of the pixels: ``pre(x) = offset + conv(pad0(x), weight)``.

Any first layer ``conv(pad((x - mean) / std)) + bias`` (batch norm folded in) is affine in
the pixels x, so it equals its response to the black image, ``offset = pre(0)`` (one value
per neuron: it varies at the border, where padding cuts the receptive field), plus a linear
part: the convolution of the zero-padded pixels with ``weight / std``. This is the map
SMUG's constraints (Eq. 3) are written in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AffineConv:
    """``pre(x) = offset + conv2d(pad(x, padding, 0), weight, stride)`` for pixels x in [0, 1].

    weight: float64 ``(O, C, kh, kw)``. offset: float64 ``(O, H', W')`` (= pre(black image)).
    stride: ``(sh, sw)``. padding: ``(left, right, top, bottom)``. image_size: ``(H, W)``.
    """

    weight: torch.Tensor
    offset: torch.Tensor
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    image_size: tuple[int, int]

    @property
    def output_shape(self) -> tuple[int, int, int]:
        """``(O, H', W')``: neurons are numbered channel-major over this shape."""
        return tuple(self.offset.shape)

    @property
    def kernel_size(self) -> tuple[int, int]:
        return tuple(self.weight.shape[-2:])

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """Pixels ``(N, C, H, W)`` (or ``(C, H, W)``) -> float64 pre-activations ``(N, O, H', W')``."""
        if x.dim() == 3:
            x = x[None]
        return self.offset + F.conv2d(F.pad(x.double(), self.padding), self.weight, stride=self.stride)

    def neuron_coords(self, neurons) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Flat channel-major neuron indices -> ``(channel, row, col)`` arrays."""
        _, h, w = self.output_shape
        n = np.asarray(neurons, dtype=np.int64)
        return n // (h * w), (n // w) % h, n % w

    def taps(self, neurons) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pixel rows and columns of every kernel tap of every neuron, and whether each is in
        the image: three ``(K, kh, kw)`` arrays (rows, cols, valid). The receptive field of a
        neuron is its valid taps."""
        _, yo, xo = self.neuron_coords(neurons)
        kh, kw = self.kernel_size
        left, _, top, _ = self.padding
        rows = yo[:, None, None] * self.stride[0] + np.arange(kh)[None, :, None] - top
        cols = xo[:, None, None] * self.stride[1] + np.arange(kw)[None, None, :] - left
        rows, cols = np.broadcast_to(rows, (len(yo), kh, kw)), np.broadcast_to(cols, (len(yo), kh, kw))
        valid = (rows >= 0) & (rows < self.image_size[0]) & (cols >= 0) & (cols < self.image_size[1])
        return rows, cols, valid


def linearise(first, image_size: int | tuple[int, int]) -> AffineConv:
    """The affine map of a :class:`nesy.models.FirstConv` (before its activation), in float64.

    first: the model's first layer (``weight``, ``bias``, ``mean``, ``std``, ``stride``,
        ``padding``, ``pre_activation``). image_size: the image side (or ``(H, W)``).
    """
    h, w = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    channels = int(first.weight.shape[1])
    weight = first.weight.double() / first.std.double().reshape(1, -1, 1, 1)
    with torch.no_grad():
        offset = first.pre_activation(torch.zeros(1, channels, h, w, dtype=torch.float64))[0]
    return AffineConv(
        weight=weight.contiguous(),
        offset=offset.contiguous(),
        stride=tuple(first.stride),
        padding=tuple(first.padding),
        image_size=(h, w),
    )
