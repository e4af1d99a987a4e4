"""The crash world of the Conv-LTN article: three-lane road images with labelled entities.

The article (Optalysys, "Convolutional Logic Tensor Networks") describes the world but not
its exact image format, so this generator fixes one and says so:

- An image is ``height x width`` RGB (default 36 x 96): three horizontal lanes, traffic
  driving left to right.
- Three vehicle types, each present independently with probability ``p_vehicle``; the
  present ones occupy distinct lanes (as in the article's example images).
- An obstruction is present with probability ``p_obstruction``, in a uniformly chosen lane,
  near the right edge.
- Every present vehicle has a normalised distance ``d ~ U[0, 1]`` between its front and the
  obstruction's column (0 = touching, 1 = as far as the road allows). A vehicle is
  *obstructed* when the obstruction is in its lane.
- A crash happens when an obstructed vehicle is closer than its critical distance
  (``CRITICAL_DISTANCE``: 0.3 small car, 0.34 big car, 0.21 truck).

Labels exist for every predicate and function of the article: ``sce, bce, te, oe`` (exists),
``sco, bco, to`` (obstructed), ``scd, bcd, td`` (distance to the obstruction; NaN where the vehicle or the obstruction is absent),
and ``Crash`` (each label has its predicate's name). The geometry (lanes, pixel columns) is returned too, so tests can check the
labels against the picture.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import yaml

from nesy import paths

VEHICLES = ("small_car", "big_car", "truck")
CRITICAL_DISTANCE = {"small_car": 0.3, "big_car": 0.34, "truck": 0.21}
# Short names of the article: <vehicle> exists, <vehicle> obstructed, <vehicle> distance.
EXISTS = {"small_car": "sce", "big_car": "bce", "truck": "te"}
OBSTRUCTED = {"small_car": "sco", "big_car": "bco", "truck": "to"}
DISTANCE = {"small_car": "scd", "big_car": "bcd", "truck": "td"}
PREDICATES = ("sce", "bce", "te", "oe", "sco", "bco", "to")
FUNCTIONS = ("scd", "bcd", "td")
#: The article's four queries (as written there) and a few more, ``[{"label", "query"}]``: the
#: default prepared queries of :class:`nesy.widgets.logic_query.LogicQueryExplorer`; kept with
#: the article's numbers (``article_queries`` in ``lib/nesy/paper_values/ltn_crash.yaml``).
ARTICLE_QUERIES: list[dict[str, str]] = yaml.safe_load(
    (paths.PAPER_VALUES / "ltn_crash.yaml").read_text(encoding="utf-8"))["article_queries"]

# Appearance: (length, height) in pixels and base RGB colour.
VEHICLE_SIZE = {"small_car": (8, 6), "big_car": (12, 8), "truck": (20, 8)}
VEHICLE_COLOUR = {"small_car": (235, 200, 30), "big_car": (40, 90, 220), "truck": (220, 40, 40)}
OBSTRUCTION_SIZE = (4, 10)
OBSTRUCTION_COLOUR = (255, 140, 0)
ROAD_COLOUR = (70, 70, 75)


@dataclass
class CrashWorld:
    """A generated set of crash-world images with labels and geometry.

    Attributes
    ----------
    images : Tensor[N, 3, H, W], uint8
    labels : dict of Tensor[N], float32
        ``sce, bce, te, oe, sco, bco, to, Crash`` (the model's output names) in {0, 1}; ``scd,
        bcd, td`` in [0, 1], NaN where the vehicle or the obstruction is absent (nothing to
        measure the distance to).
    lanes : Tensor[N, 3], int64
        Lane (0 top .. 2 bottom) of small car, big car, truck; -1 where absent.
    obstruction_lane : Tensor[N], int64
        -1 where there is no obstruction.
    fronts : Tensor[N, 3], int64
        Pixel column of each vehicle's front (-1 where absent).
    obstruction_column : Tensor[N], int64
        Left pixel column of the obstruction (the reference for distances).
    """

    images: torch.Tensor
    labels: dict[str, torch.Tensor]
    lanes: torch.Tensor
    obstruction_lane: torch.Tensor
    fronts: torch.Tensor
    obstruction_column: torch.Tensor

    def __len__(self) -> int:
        return self.images.shape[0]

    def subset(self, index: torch.Tensor | slice) -> "CrashWorld":
        """The same world restricted to ``index`` (a slice or a LongTensor of rows)."""
        return CrashWorld(
            images=self.images[index],
            labels={name: value[index] for name, value in self.labels.items()},
            lanes=self.lanes[index],
            obstruction_lane=self.obstruction_lane[index],
            fronts=self.fronts[index],
            obstruction_column=self.obstruction_column[index],
        )


def _check_probability(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")


def generate(
    n_images: int,
    seed: int = 0,
    *,
    p_vehicle: float = 0.6,
    p_obstruction: float = 0.75,
    height: int = 36,
    width: int = 96,
    noise: float = 8.0,
) -> CrashWorld:
    """Generate ``n_images`` crash-world images, deterministically for a given ``seed``.

    Parameters
    ----------
    n_images : int
        Number of images (the article uses 15,000).
    seed : int
        Seed of the numpy generator; same seed, same images and labels.
    p_vehicle, p_obstruction : float
        Probability that each vehicle type / the obstruction is present.
    height, width : int
        Image size in pixels; ``height`` is split into three lanes. At least 36 x 72.
    noise : float
        Standard deviation of the Gaussian pixel noise (0..255 scale).

    Returns
    -------
    CrashWorld
    """
    if not isinstance(n_images, (int, np.integer)) or n_images < 1:
        raise ValueError(f"n_images must be a positive integer, got {n_images!r}")
    _check_probability("p_vehicle", p_vehicle)
    _check_probability("p_obstruction", p_obstruction)
    if height < 36 or width < 72:
        raise ValueError(f"height must be >= 36 and width >= 72, got height={height}, width={width}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")

    rng = np.random.default_rng(seed)
    lane_height = height // 3
    n = int(n_images)

    present = rng.random((n, 3)) < p_vehicle
    lane_order = np.argsort(rng.random((n, 3)), axis=1)  # a random permutation of lanes per image
    lanes = np.where(present, lane_order, -1)
    has_obstruction = rng.random(n) < p_obstruction
    obstruction_lane = np.where(has_obstruction, rng.integers(0, 3, n), -1)
    obstruction_column = rng.integers(width - 12, width - OBSTRUCTION_SIZE[0] - 1, n)
    distance = rng.random((n, 3))

    # Distance 1 puts the rear of the longest vehicle at the left edge (2 px margin).
    longest = max(length for length, _ in VEHICLE_SIZE.values())
    span = (width - 12) - 2 - longest - 2
    fronts = np.where(present, obstruction_column[:, None] - 2 - np.rint(distance * span).astype(int), -1)

    images = np.empty((n, height, width, 3), dtype=np.float32)
    images[:] = ROAD_COLOUR
    images += rng.normal(0.0, noise, images.shape)
    for y in (lane_height, 2 * lane_height):  # dashed lane markings
        images[:, y, ::6, :] = 220
        images[:, y, 1::6, :] = 220
        images[:, y, 2::6, :] = 220
    colour_jitter = rng.integers(-25, 26, (n, 4, 3))
    lane_jitter = rng.integers(-1, 2, (n, 4))

    for i in range(n):
        if has_obstruction[i]:
            length, size = OBSTRUCTION_SIZE
            top = obstruction_lane[i] * lane_height + (lane_height - size) // 2 + lane_jitter[i, 3]
            left = obstruction_column[i]
            block = images[i, top : top + size, left : left + length]
            block[:] = np.clip(np.array(OBSTRUCTION_COLOUR) + colour_jitter[i, 3], 0, 255)
            block[1::3, :, :] = 250  # white stripes make it a road barrier
        for v, vehicle in enumerate(VEHICLES):
            if not present[i, v]:
                continue
            length, size = VEHICLE_SIZE[vehicle]
            top = lanes[i, v] * lane_height + (lane_height - size) // 2 + lane_jitter[i, v]
            front = fronts[i, v]
            body = images[i, top : top + size, front - length : front]
            body[:] = np.clip(np.array(VEHICLE_COLOUR[vehicle]) + colour_jitter[i, v], 0, 255)
            body[1:-1, -3:-1, :] = 20  # windscreen at the front shows the direction of travel

    images_uint8 = torch.from_numpy(np.clip(np.rint(images), 0, 255).astype(np.uint8)).permute(0, 3, 1, 2)

    labels: dict[str, torch.Tensor] = {}
    crash = np.zeros(n, dtype=bool)
    for v, vehicle in enumerate(VEHICLES):
        obstructed = present[:, v] & (lanes[:, v] == obstruction_lane)
        labels[EXISTS[vehicle]] = torch.from_numpy(present[:, v].astype(np.float32))
        labels[OBSTRUCTED[vehicle]] = torch.from_numpy(obstructed.astype(np.float32))
        measurable = present[:, v] & has_obstruction
        labels[DISTANCE[vehicle]] = torch.from_numpy(np.where(measurable, distance[:, v], np.nan).astype(np.float32))
        crash |= obstructed & (distance[:, v] < CRITICAL_DISTANCE[vehicle])
    labels["oe"] = torch.from_numpy(has_obstruction.astype(np.float32))
    labels["Crash"] = torch.from_numpy(crash.astype(np.float32))

    return CrashWorld(
        images=images_uint8.contiguous(),
        labels=labels,
        lanes=torch.from_numpy(lanes.astype(np.int64)),
        obstruction_lane=torch.from_numpy(obstruction_lane.astype(np.int64)),
        fronts=torch.from_numpy(fronts.astype(np.int64)),
        obstruction_column=torch.from_numpy(obstruction_column.astype(np.int64)),
    )


def split(world: CrashWorld, validation_fraction: float, seed: int = 0) -> tuple[CrashWorld, CrashWorld]:
    """Shuffle (seeded) and split into (train, validation) with ``validation_fraction`` held out."""
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction!r}")
    order = torch.from_numpy(np.random.default_rng(seed).permutation(len(world)))
    n_validation = max(1, int(round(validation_fraction * len(world))))
    return world.subset(order[n_validation:]), world.subset(order[:n_validation])


def truth_outputs(world: CrashWorld) -> dict[str, torch.Tensor]:
    """The labels as a model's outputs ``{name: Tensor [N]}``: what a perfect model answers
    (an unmeasurable distance, NaN in the labels, reads 1: as far as the road goes)."""
    names = PREDICATES + FUNCTIONS + ("Crash",)
    return {name: torch.nan_to_num(world.labels[name], nan=1.0) for name in names}


def prevalence(world: CrashWorld) -> dict[str, float]:
    """Share of the images where each truth-valued label holds (the seven predicates, Crash)."""
    return {name: float(value.nanmean()) for name, value in world.labels.items() if name in PREDICATES + ("Crash",)}


def describe(world: CrashWorld, i: int) -> str:
    """Image ``i``'s labels in two lines: crash or not and what is on the road; the distances."""
    labels = world.labels
    present = [name for name in PREDICATES if labels[name][i] > 0.5]
    distances = [f"{name}={float(labels[name][i]):.2f}" for name in FUNCTIONS if labels[name][i] == labels[name][i]]
    crash = "CRASH" if labels["Crash"][i] > 0.5 else "no crash"
    return f"{crash}: {' '.join(present)}\n{' '.join(distances)}"
