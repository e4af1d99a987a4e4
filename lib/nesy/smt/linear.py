"""The first layer as an affine map of the pixels: ``pre(x) = offset + conv(pad0(x), weight)``.

Any first layer ``conv(pad((x - mean) / std), w) + b`` is affine in the pixels x, so it
equals its response to the black image, ``offset = pre(0)`` (one value per neuron: it
varies at the border, where padding cuts the receptive field), plus a linear part: the
convolution of the zero-padded pixels with ``w / std``. This is the map SMUG's constraints
(Eq. 3) are written in. Which ``w, b`` and which masked pixel is the *constraint mode*:

- ``"reference"`` (as google-research ``smug_saliency``): the convolution's own output,
  before batch norm (``FirstConv.conv_weight``, ``conv_bias``: no bias for EfficientNet-Lite0's
  and Inception-v1's stems), and a masked pixel is 0 *in the network's input*, i.e. the
  pixel value ``mean`` (for EfficientNet-Lite0, whose input is ``(x - 0.5) / 0.5``, grey 0.5).
  The reference multiplies the mask into the tensor the network receives, so that is what a
  masked pixel becomes; its notebook constrains the raw convolution of a batch-norm model.
- ``"folded"`` (this book's first choice): the pre-activation with batch norm folded into
  weight and bias (``FirstConv.pre_activation``, what the ReLU sees), and a masked pixel is
  black (pixel value 0). With EfficientNet-Lite0's folded biases, positive on most channels,
  the black image keeps most neurons positive, so at ``gamma = 0`` the empty mask is often
  optimal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from nesy.checks import one_of


@dataclass(frozen=True)
class AffineConv:
    """``pre(x) = offset + conv2d(pad(x, padding, 0), weight, stride)`` for pixels x in [0, 1].

    weight: float64 ``(O, C, kh, kw)``. offset: float64 ``(O, H', W')`` (= pre(black image)).
    stride: ``(sh, sw)``. padding: ``(left, right, top, bottom)``. image_size: ``(H, W)``.
    masked_pixel: per input channel, the pixel value a masked pixel takes in this mode.
    constraint: the mode, ``"reference"`` or ``"folded"`` (see the module docstring).
    """

    weight: torch.Tensor
    offset: torch.Tensor
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    image_size: tuple[int, int]
    masked_pixel: tuple[float, ...] = (0.0, 0.0, 0.0)
    constraint: str = "folded"

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


CONSTRAINT_MODES = ("reference", "folded")


def linearise(first, image_size: int | tuple[int, int], constraint: str = "reference") -> AffineConv:
    """The affine map of a :class:`nesy.models.FirstConv` in float64, in one constraint mode.

    first: the model's first layer (``weight``, ``bias``, ``conv_weight``, ``conv_bias``,
        ``mean``, ``std``, ``stride``, ``padding``). image_size: the image side (or ``(H, W)``).
    constraint: ``"reference"`` (``first.conv_output``: the convolution before batch norm,
        masked pixel = ``mean``) or ``"folded"`` (``first.pre_activation``, masked pixel = 0).
    """
    one_of("constraint", constraint, CONSTRAINT_MODES)
    h, w = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    channels = int(first.weight.shape[1])
    std = first.std.double().reshape(1, -1, 1, 1)
    black = torch.zeros(1, channels, h, w, dtype=torch.float64)
    with torch.no_grad():
        if constraint == "reference":
            weight, offset = first.conv_weight.double() / std, first.conv_output(black)[0]
            masked = tuple(float(v) for v in first.mean.reshape(-1))
        else:
            weight, offset = first.weight.double() / std, first.pre_activation(black)[0]
            masked = (0.0,) * channels
    return AffineConv(
        weight=weight.contiguous(),
        offset=offset.contiguous(),
        stride=tuple(first.stride),
        padding=tuple(first.padding),
        image_size=(h, w),
        masked_pixel=masked,
        constraint=constraint,
    )
