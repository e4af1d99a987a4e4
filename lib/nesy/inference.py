"""Fast forward passes of a frozen classifier on CPU, through ONNX Runtime.

Scoring saliency boxes (LSC, OPTBOX) forwards hundreds of crops per image through a frozen
network and needs no gradients. PyTorch's eager CPU kernels are slow for EfficientNet-Lite0's
depthwise convolutions (about 31 ms per 224-px image at batch 32 on 2 cores here, after the
batch norms are folded); ONNX Runtime runs the same graph, exported once with
``torch.onnx.export``, in about 8.5 ms, with outputs equal to PyTorch's to ~1e-5.
:func:`fast_forward` returns a callable with the model's signature that uses ONNX Runtime
when ``onnxruntime`` and ``onnx`` are installed, and the model itself otherwise.

Gradients (Integrated Gradients, Grad-CAM) always go through the PyTorch model.
"""

from __future__ import annotations

import copy
import io
import warnings
from collections.abc import Callable

import torch

from nesy import device as devices
from nesy.checks import one_of

BACKENDS = ("onnxruntime", "torch")


class OnnxForward:
    """``logits = forward(x)`` for pixels ``(N, 3, S, S)`` in [0, 1], on ONNX Runtime.

    model: a frozen ``nn.Module`` (e.g. :class:`nesy.models.SplitModel`) taking ``(N, 3, S, S)``.
    image_size: S. threads: ONNX Runtime's intra-op threads (default: torch's). The thread
    pool does not spin between calls, so it leaves the cores to PyTorch in between.
    """

    backend = "onnxruntime"

    def __init__(self, model: torch.nn.Module, image_size: int, threads: int | None = None):
        import onnxruntime as ort

        buffer = io.BytesIO()
        example = torch.rand(2, 3, image_size, image_size)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notes
            torch.onnx.export(model.eval(), example, buffer, dynamo=False, input_names=["pixels"], output_names=["logits"],
                              dynamic_axes={"pixels": {0: "n"}, "logits": {0: "n"}}, opset_version=17)
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads or torch.get_num_threads())
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
        self.image_size = image_size

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or tuple(x.shape[1:]) != (3, self.image_size, self.image_size):
            raise ValueError(f"x must be (N, 3, {self.image_size}, {self.image_size}); got {list(x.shape)}")
        pixels = x.detach().float().contiguous().cpu().numpy()
        return torch.from_numpy(self.session.run(None, {"pixels": pixels})[0])


def fast_forward(model, image_size: int | None = None, backend: str = "onnxruntime",
                 device: str | torch.device = "cpu") -> Callable[[torch.Tensor], torch.Tensor]:
    """The fastest available inference callable for a frozen model (pixels -> logits).

    backend: ``"onnxruntime"`` (falls back to the model with a warning when onnxruntime or onnx
    is missing) or ``"torch"`` (the model itself). image_size: defaults to ``model.input_size``.
    device (:func:`nesy.device.resolve`): ONNX Runtime runs here on the CPU only, so on any other
    device the callable runs a copy of the model there with PyTorch, whatever ``backend`` says
    (inputs from any device, outputs on the CPU); ``model`` itself is left where it is.
    The returned callable has ``.backend`` naming what runs.
    """
    one_of("backend", backend, BACKENDS)
    device = devices.resolve(device)
    if device.type != "cpu":
        return _TorchForward(copy.deepcopy(model).to(device), device)
    size = int(image_size or model.input_size)
    if backend == "onnxruntime":
        try:
            return OnnxForward(model, size)
        except ImportError as exc:
            warnings.warn(f"onnxruntime/onnx not installed ({exc}); forwarding crops with PyTorch (slower)", stacklevel=2)
    return _TorchForward(model)


class _TorchForward:
    backend = "torch"

    def __init__(self, model, device: torch.device = devices.CPU):
        self.model, self.device = model, device

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device).contiguous(memory_format=torch.channels_last)  # faster convolutions on CPU
        return self.model(x).cpu()
