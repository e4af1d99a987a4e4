"""The Conv-LTN model: shapes, the article's MSE objective, the LTN knowledge base, training."""
import ltn
import pytest
import torch

from nesy.logic import conv_ltn, crash_world


@pytest.fixture(scope="module")
def tiny_world():
    return crash_world.split(crash_world.generate(300, seed=1), 0.2, seed=1)


def test_forward_gives_every_output_in_unit_interval():
    torch.manual_seed(0)
    model = conv_ltn.ConvLTN(feature_dim=8)
    out = model(torch.rand(5, 3, 36, 96))
    assert set(out) == set(conv_ltn.OUTPUTS) | {"Crash"}
    for name, value in out.items():
        assert value.shape == (5,) and torch.all((value > 0) & (value < 1)), name


def test_crash_predicate_over_features_matches_forward():
    torch.manual_seed(0)
    model = conv_ltn.ConvLTN(feature_dim=8)
    features = torch.randn(4, 8)
    assert torch.allclose(model.crash(features)[:, 0], model.outputs_from_features(features)["Crash"])


def test_mse_loss_by_hand():
    names = crash_world.PREDICATES + crash_world.FUNCTIONS
    labels = {name: torch.zeros(2) for name in names} | {"Crash": torch.tensor([1.0, 0.0])}
    labels["sco"] = torch.tensor([1.0, 0.0])
    labels["scd"] = torch.tensor([0.2, float("nan")])
    outputs = {name: torch.zeros(2) for name in names} | {"Crash": torch.tensor([0.5, 0.0])}
    outputs["scd"] = torch.tensor([0.5, 0.9])  # only the obstructed image counts
    # sco: mean((0-1)^2, 0) = 0.5; Crash: mean(0.25, 0) = 0.125; scd over 1 relevant: 0.09
    assert conv_ltn.mse_loss(outputs, labels).item() == pytest.approx(0.5 + 0.125 + 0.09)


def test_knowledge_base_satisfaction_is_a_differentiable_truth_value():
    """SatAgg over a batch's axioms is in [0, 1] and sends gradients to the heads."""
    torch.manual_seed(0)
    model = conv_ltn.ConvLTN(feature_dim=4)
    kb = conv_ltn.LTNKnowledgeBase(model)
    world = crash_world.generate(64, seed=2)
    features = torch.randn(64, 4)
    sat = kb.satisfaction(features, world.labels)
    assert 0.0 <= float(sat.detach()) <= 1.0 and sat.requires_grad
    sat.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.heads.parameters())


def test_ltn_objects_wrap_the_same_heads():
    model = conv_ltn.ConvLTN(feature_dim=4)
    kb = conv_ltn.LTNKnowledgeBase(model)
    f = torch.randn(3, 4)
    x = ltn.Variable("f", f)
    assert torch.allclose(kb.symbols["sce"](x).value, model.heads["sce"](f)[:, 0])


@pytest.mark.integration
@pytest.mark.parametrize("objective", conv_ltn.OBJECTIVES)
def test_training_lowers_the_validation_loss(tiny_world, objective):
    train, validation = tiny_world
    torch.manual_seed(0)
    model = conv_ltn.ConvLTN(feature_dim=16)
    history = conv_ltn.train(model, train, validation, objective=objective, max_epochs=4, batch_size=32,
                             learning_rate=3e-3, progress=False)
    assert history.epochs == 4
    assert history.validation_loss[-1] < history.validation_loss[0]


@pytest.mark.integration
def test_training_is_reproducible(tiny_world):
    train, validation = tiny_world
    losses = []
    for _ in range(2):
        torch.manual_seed(0)
        model = conv_ltn.ConvLTN(feature_dim=8)
        losses.append(conv_ltn.train(model, train, validation, max_epochs=1, progress=False).train_loss)
    assert losses[0] == losses[1]


@pytest.mark.integration
def test_patience_stops_early(tiny_world):
    train, validation = tiny_world
    model = conv_ltn.ConvLTN(feature_dim=8)
    history = conv_ltn.train(model, train, validation, max_epochs=50, patience=1, learning_rate=1e-6, progress=False)
    assert history.epochs < 50


@pytest.mark.parametrize(
    "kwargs, parameter",
    [(dict(objective="sgd"), "objective"), (dict(max_epochs=0), "max_epochs"), (dict(batch_size=0), "batch_size"),
     (dict(patience=-1), "patience"), (dict(learning_rate=0.0), "learning_rate")],
)
def test_bad_training_parameters(tiny_world, kwargs, parameter):
    with pytest.raises(ValueError, match=parameter):
        conv_ltn.train(conv_ltn.ConvLTN(feature_dim=4), *tiny_world, progress=False, **kwargs)


def test_validation_metrics_by_hand():
    labels = {name: torch.tensor([1.0, 0.0, 1.0, 0.0]) for name in crash_world.PREDICATES} | {
        "Crash": torch.tensor([1.0, 0.0, 0.0, 0.0])
    }
    for name in crash_world.FUNCTIONS:
        labels[name] = torch.tensor([0.5, float("nan"), 0.1, float("nan")])
    outputs = {name: torch.tensor([0.9, 0.1, 0.2, 0.3]) for name in crash_world.PREDICATES}
    outputs["Crash"] = torch.tensor([0.9, 0.1, 0.1, 0.1])
    for name in crash_world.FUNCTIONS:
        outputs[name] = torch.tensor([0.4, 0.0, 0.1, 0.0])
    metrics = conv_ltn.validation_metrics(outputs, labels)
    assert metrics["sce_accuracy"] == pytest.approx(75.0)
    assert metrics["Crash_accuracy"] == pytest.approx(100.0)
    # obstructed = images 0 and 2 for every vehicle: errors 0.1 and 0.0
    assert metrics["distance_error"] == pytest.approx(5.0)
