"""What a chapter's parameters need from outside this machine, checked before any cell runs.

A schema entry says which of its values need a resource::

    backbone: {type: str, choices: [efficientnet-lite0, vgg19], needs: {vgg19: torchvision:VGG19_Weights}}

and :func:`check` refuses a run whose parameters need a resource that is neither on this
machine nor downloadable from here, with one message naming the parameter, the missing file,
how to get it and the offline choice. So ``PROFILE=paper`` without internet stops in a
second, not after an hour of training with a traceback from deep inside torchvision.

Resources (``kind:name``):

- ``torchvision:<Weights enum>``: torchvision's ImageNet weights (e.g. ``VGG19_Weights``),
  present when the file is in torch hub's checkpoint folder, else downloadable when
  download.pytorch.org answers.

``NESY_RANDOM_WEIGHTS=1`` (the profile dry-run tests only) builds those models with random
weights instead; it is refused for the repository's own book folder, so no published page
can come from it.
"""
from __future__ import annotations

import functools
import os
import socket
from pathlib import Path
from typing import Any, Mapping

from nesy import paths
from nesy.params import ParameterError, schema

RANDOM_WEIGHTS_ENV = "NESY_RANDOM_WEIGHTS"
DOWNLOAD_HOST = "download.pytorch.org"


class MissingResource(ParameterError):
    """The parameters need weights or data that this machine has not and cannot download."""


def random_weights() -> bool:
    """Whether models that need downloaded weights are built with random ones (tests only)."""
    return os.environ.get(RANDOM_WEIGHTS_ENV, "") not in ("", "0")


@functools.lru_cache(maxsize=None)
def _reachable(host: str, timeout_s: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, 443), timeout=timeout_s):
            return True
    except OSError:
        return False


def _torchvision_weights(enum_name: str) -> tuple[Path, str]:
    """The checkpoint file torchvision reads for ``enum_name``'s default weights, and its URL."""
    import torch
    import torchvision

    weights = getattr(torchvision.models, enum_name).DEFAULT
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name, weights.url


def _missing(resource: str) -> str | None:
    """Why ``resource`` cannot be had here (None: it is present or downloadable)."""
    kind, _, name = resource.partition(":")
    if kind != "torchvision":
        raise ValueError(f"unknown resource kind {kind!r} in {resource!r}; known: torchvision")
    if random_weights():
        return None
    file, url = _torchvision_weights(name)
    if file.exists() or _reachable(DOWNLOAD_HOST):
        return None
    return (f"torchvision's {name} ({file.name}), which is not in {file.parent} and cannot be downloaded "
            f"({DOWNLOAD_HOST} does not answer). On a machine with internet, download {url} and copy it to "
            f"{file.parent}/ here (TORCH_HOME moves that folder)")


def needs(chapter: str, parameters: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
    """``(parameter, value, resource)`` for every resource the values need (per the schema)."""
    found = []
    for name, spec in schema(chapter).items():
        if not isinstance(spec, dict) or name not in parameters:
            continue
        values = parameters[name] if isinstance(parameters[name], list) else [parameters[name]]
        for value in values:
            resource = (spec.get("needs") or {}).get(value)
            if resource:
                found.append((name, value, resource))
    return found


def _offline_choice(chapter: str, name: str):
    """The default profile's value of ``name`` when it needs nothing from outside (else None)."""
    from nesy.params import load_profile

    value = load_profile(chapter, "default").get(name)
    return value if value not in (schema(chapter)[name].get("needs") or {}) else None


def check(chapter: str, parameters: Mapping[str, Any]) -> None:
    """Raise :class:`MissingResource` (one message for all) when a resource the parameters need
    is neither here nor downloadable, or when random weights would write the repository's book."""
    if random_weights() and paths.book_dir().resolve() == (paths.REPO / "book").resolve():
        raise MissingResource(f"{RANDOM_WEIGHTS_ENV} is for the profile dry-run tests; it cannot write the "
                              f"repository's book (set NESY_BOOK_DIR to a scratch folder)")
    problems = []
    for name, value, resource in needs(chapter, parameters):
        why = _missing(resource)
        if why:
            offline = _offline_choice(chapter, name)
            offline = f"; offline, choose {name}={offline} (the default profile's stand-in)" if offline else ""
            problems.append(f"{name}={value} needs {why}{offline}")
    if problems:
        profile = parameters.get("profile", "?")
        raise MissingResource(f"{chapter} (profile {profile!r}) cannot run on this machine, nothing was executed:\n  "
                              + "\n  ".join(problems))
