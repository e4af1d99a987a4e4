"""The crash-world generator: labels agree with the picture and with the rules of the road."""
import numpy as np
import pytest
import torch

from nesy.logic import crash_world as cw


@pytest.fixture(scope="module")
def world():
    return cw.generate(600, seed=3)


def test_shapes_and_types(world):
    assert world.images.shape == (600, 3, 36, 96) and world.images.dtype == torch.uint8
    assert set(world.labels) == set(cw.PREDICATES + cw.FUNCTIONS + ("Crash",))
    for name, value in world.labels.items():
        assert value.shape == (600,) and value.dtype == torch.float32, name


def test_same_seed_same_world_other_seed_other_world(world):
    again = cw.generate(600, seed=3)
    assert torch.equal(again.images, world.images)
    for name in world.labels:
        assert torch.allclose(again.labels[name], world.labels[name], equal_nan=True)
    assert not torch.equal(cw.generate(600, seed=4).images, world.images)


def test_labels_follow_the_geometry(world):
    lane_height = 36 // 3
    for i in range(len(world)):
        obstruction = int(world.obstruction_lane[i])
        assert world.labels["oe"][i] == (obstruction >= 0)
        crash = False
        for v, vehicle in enumerate(cw.VEHICLES):
            lane = int(world.lanes[i, v])
            present = lane >= 0
            assert world.labels[cw.EXISTS[vehicle]][i] == present
            obstructed = present and lane == obstruction
            assert world.labels[cw.OBSTRUCTED[vehicle]][i] == obstructed
            distance = float(world.labels[cw.DISTANCE[vehicle]][i])
            assert np.isnan(distance) == (not present or obstruction < 0)
            if obstructed:
                crash |= distance < cw.CRITICAL_DISTANCE[vehicle]
            if present:
                # The vehicle's body colour is where the geometry says: centre row of its
                # lane, just behind the windscreen.
                row = lane * lane_height + lane_height // 2
                pixel = world.images[i, :, row, int(world.fronts[i, v]) - 5].float()
                assert torch.dist(pixel, torch.tensor(cw.VEHICLE_COLOUR[vehicle], dtype=torch.float)) < 70, (i, vehicle)
        assert world.labels["Crash"][i] == crash


def test_distance_is_the_gap_to_the_obstruction(world):
    span = (96 - 12) - 2 - 20 - 2
    for v, vehicle in enumerate(cw.VEHICLES):
        distance = world.labels[cw.DISTANCE[vehicle]]
        known = ~torch.isnan(distance)
        gap = world.obstruction_column[known] - 2 - world.fronts[known, v]
        assert torch.all((gap - distance[known] * span).abs() <= 0.5 + 1e-4)


def test_probabilities_are_respected():
    world = cw.generate(4000, seed=0, p_vehicle=0.3, p_obstruction=0.9)
    assert abs(float(world.labels["sce"].mean()) - 0.3) < 0.03
    assert abs(float(world.labels["oe"].mean()) - 0.9) < 0.03


def test_split_is_disjoint_and_seeded(world):
    train, validation = cw.split(world, 0.25, seed=1)
    assert len(train) == 450 and len(validation) == 150
    train_again, _ = cw.split(world, 0.25, seed=1)
    assert torch.equal(train.images, train_again.images)


@pytest.mark.parametrize(
    "kwargs, parameter",
    [
        (dict(n_images=0), "n_images"),
        (dict(n_images=10, p_vehicle=1.5), "p_vehicle"),
        (dict(n_images=10, p_obstruction=-0.1), "p_obstruction"),
        (dict(n_images=10, height=20), "height"),
        (dict(n_images=10, noise=-1), "noise"),
    ],
)
def test_bad_parameters_name_themselves(kwargs, parameter):
    with pytest.raises(ValueError, match=parameter):
        cw.generate(**kwargs)


def test_bad_split_fraction():
    with pytest.raises(ValueError, match="validation_fraction"):
        cw.split(cw.generate(10), 1.0)


def test_data_layer_serves_the_same_world():
    from nesy import data

    assert torch.equal(data.crash_world(50, seed=9).images, cw.generate(50, seed=9).images)
