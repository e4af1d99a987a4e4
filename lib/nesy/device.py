"""Where the torch models and tensors run: the ``device`` parameter of chapters and library.

``"auto"`` is CUDA when torch sees a GPU, else the CPU; ``"cpu"`` and ``"cuda"`` ask for one.
Library functions that train or run torch models take ``device`` (default ``"cpu"``), move the
model and each batch there, and return their results on the CPU, so the compiled kernels
(``nesy._C``: the SATNet mixing method, Fidex / FidexGlo), ONNX Runtime, the z3 and HiGHS
solvers and numpy, which all run on the CPU only, read them unchanged. On the CPU every such
function is bit-identical to its device-less form (``.to("cpu")`` of a CPU tensor is itself).

Examples
--------
>>> resolve("cpu")
device(type='cpu')
>>> resolve(torch.device("cpu"))
device(type='cpu')
>>> resolve("auto") == (torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu"))
True
>>> resolve("tpu")
Traceback (most recent call last):
...
nesy.params.ParameterError: parameter 'device' must be one of ['auto', 'cpu', 'cuda'], got 'tpu'
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn

from nesy.params import ParameterError

DEVICES = ("auto", "cpu", "cuda")
CPU = torch.device("cpu")


def resolve(device: str | torch.device = "auto") -> torch.device:
    """The :class:`torch.device` that ``device`` names.

    ``"auto"``: ``cuda`` when :func:`torch.cuda.is_available`, else ``cpu``. ``"cpu"``, ``"cuda"``
    or a :class:`torch.device` of either type (``torch.device("cuda:1")`` included): that device.

    Raises
    ------
    ParameterError (a ValueError)
        Naming ``device`` and the allowed values: for any other value, and for CUDA on a
        machine where torch sees none.
    """
    if isinstance(device, torch.device):
        kind = device.type
    elif isinstance(device, str) and device in DEVICES:
        kind = device
    else:
        raise ParameterError(f"parameter 'device' must be one of {list(DEVICES)}, got {device!r}")
    if kind == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else CPU
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ParameterError(f"parameter 'device' is {str(device)!r} but torch sees no CUDA device on this machine; "
                                 f"choose one of {list(DEVICES)} ('auto' or 'cpu' run on the CPU)")
        return device if isinstance(device, torch.device) else torch.device("cuda")
    if kind == "cpu":
        return CPU
    raise ParameterError(f"parameter 'device' must be one of {list(DEVICES)}, got {device!r}")


def rng_devices(device: torch.device) -> list[int]:
    """The CUDA devices whose random state ``torch.random.fork_rng(devices=...)`` must save for
    work on ``device`` (none on the CPU), so that seeding there leaves the global state as it was."""
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


def _same(a: torch.device, b: torch.device) -> bool:
    return a.type == b.type and (a.index is None or b.index is None or a.index == b.index)


def of(module: nn.Module) -> torch.device:
    """The device of ``module``'s first parameter or buffer (the CPU when it has neither)."""
    for tensor in module.parameters():
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    return CPU


@contextmanager
def placed(module: nn.Module, device: str | torch.device) -> Iterator[torch.device]:
    """``module`` moved to ``device`` (:func:`resolve`) inside the block and back to where it was
    after it, even on an error; yields the resolved device. A no-op when it is there already.

    >>> net = nn.Linear(2, 1)
    >>> with placed(net, "cpu") as device:
    ...     net(torch.ones(1, 2, device=device)).shape
    torch.Size([1, 1])
    """
    target, home = resolve(device), of(module)
    if _same(target, home):
        yield target
        return
    module.to(target)
    try:
        yield target
    finally:
        module.to(home)


@contextmanager
def cpu_threads(n: int | None) -> Iterator[None]:
    """torch's CPU thread count set to ``n`` inside the block and restored after it (``None``: unchanged).

    Small networks (the patch MLP, dense heads on cached features) train about twice as fast on
    one thread here: with ``OMP_WAIT_POLICY=PASSIVE`` (which the Makefile sets, so that idle
    OpenMP threads do not spin against other processes) every parallel region wakes its
    sleeping threads, which costs more than a small matrix product gains from them. A model
    trained on another thread count differs in the last bits, so the count is part of a run.

    >>> with cpu_threads(1):
    ...     torch.get_num_threads()
    1
    """
    if n is None:
        yield
        return
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1 or None, got {n!r}")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
