"""The ``device`` parameter: what ``auto``, ``cpu`` and ``cuda`` resolve to, the error for a
device this machine lacks or a value that is no device, and that on the CPU the library's
training functions give the same bits whatever form ``device`` takes (and with it left out)."""
import doctest

import ltn
import pytest
import torch
from torch import nn

from nesy import device as devices
from nesy import params, satnet, smt
from nesy.logic import conv_ltn, crash_world
from nesy.rules import patch_model as pm


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_auto_is_the_cpu_without_cuda(no_cuda):
    assert devices.resolve("auto") == torch.device("cpu")
    assert devices.resolve() == torch.device("cpu")


def test_auto_is_cuda_when_torch_sees_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert devices.resolve("auto") == torch.device("cuda")
    assert devices.resolve("cuda") == torch.device("cuda")
    assert devices.resolve(torch.device("cuda", 1)) == torch.device("cuda", 1)


@pytest.mark.parametrize("value", ["cpu", torch.device("cpu")])
def test_cpu_is_the_cpu(value):
    assert devices.resolve(value) == torch.device("cpu")


@pytest.mark.parametrize("value", ["cuda", torch.device("cuda")])
def test_cuda_without_cuda_names_the_parameter_and_the_choices(no_cuda, value):
    with pytest.raises(params.ParameterError, match=r"parameter 'device' is 'cuda'.*no CUDA.*\['auto', 'cpu', 'cuda'\]"):
        devices.resolve(value)
    assert issubclass(params.ParameterError, ValueError)


@pytest.mark.parametrize("value", ["gpu", "CPU", "cuda:0", "", None, 0, torch.device("meta")])
def test_other_values_name_the_parameter_and_the_choices(value):
    with pytest.raises(ValueError, match=r"parameter 'device' must be one of \['auto', 'cpu', 'cuda'\], got "):
        devices.resolve(value)


def test_the_schema_allows_the_same_values():
    for chapter in ("ltn_crash", "patch_rules", "smug", "vi_satnet"):
        assert params.schema(chapter)["device"]["choices"] == list(devices.DEVICES), chapter


def test_the_module_examples_hold():
    assert doctest.testmod(devices).failed == 0


def test_placed_leaves_a_module_on_the_cpu_where_it_is():
    net = nn.Linear(3, 2)
    weight = net.weight
    with devices.placed(net, "cpu") as device:
        assert device == torch.device("cpu") and net.weight is weight
    assert devices.of(net) == torch.device("cpu") and devices.of(nn.ReLU()) == torch.device("cpu")


# --- on the CPU, device="cpu" or torch.device("cpu") changes no bit ---------------------------------

CPU_FORMS = [{}, {"device": "cpu"}, {"device": torch.device("cpu")}]


def _same_weights(models):
    first = models[0].state_dict()
    for other in models[1:]:
        assert all(devices.of(m) == torch.device("cpu") for m in models)
        state = other.state_dict()
        assert state.keys() == first.keys()
        for name in first:
            assert torch.equal(first[name], state[name]), name


def test_train_classifier_is_bit_identical_on_the_cpu():
    g = torch.Generator().manual_seed(0)
    fmaps, labels = torch.randn(24, 4, 3, 3, generator=g), torch.arange(24) % 3
    _same_weights([satnet.train_classifier(fmaps, labels, hidden=8, epochs=2, batch_size=8, seed=3, **kw) for kw in CPU_FORMS])
    nets = [satnet.train_classifier(fmaps, labels, head="pooled", epochs=2, batch_size=8, seed=3, **kw) for kw in CPU_FORMS]
    _same_weights(nets)
    accuracies = {satnet.classifier_accuracy(nets[0], fmaps, labels, **kw) for kw in CPU_FORMS}
    assert len(accuracies) == 1


def test_train_mlp_and_patch_fit_are_bit_identical_on_the_cpu():
    g = torch.Generator().manual_seed(1)
    images, labels = torch.randint(0, 256, (40, 28, 28), dtype=torch.uint8, generator=g), torch.arange(40) % 10
    _same_weights([smt.train_mlp(images, labels, hidden=4, epochs=1, batch_size=16, seed=2, **kw) for kw in CPU_FORMS])
    patches, positions = torch.rand(64, 9, generator=g), torch.randint(0, 5, (64, 2), generator=g)
    fitted, histories = [], []
    for kw in CPU_FORMS:
        torch.manual_seed(0)
        mlp = pm.PatchMLP(9, 3, 5)
        histories.append(pm.fit(mlp, (patches, positions), torch.arange(64) % 3, epochs=2, batch_size=16,
                                learning_rate=1e-2, seed=4, **kw))
        fitted.append(mlp)
    assert histories[0] == histories[1] == histories[2]
    _same_weights(fitted)
    probs = [pm.predict_proba(fitted[0], (patches, positions), 32, **kw) for kw in CPU_FORMS]
    assert all(torch.equal(probs[0], p) for p in probs[1:])


def test_conv_ltn_training_is_bit_identical_on_the_cpu_and_restores_ltn_device():
    train_world, validation_world = crash_world.split(crash_world.generate(120, seed=1), 0.25, seed=1)
    chosen = ltn.device
    histories, trained = [], []
    for kw in CPU_FORMS:
        torch.manual_seed(0)
        model = conv_ltn.ConvLTN(feature_dim=8)
        histories.append(conv_ltn.train(model, train_world, validation_world, objective="ltn", max_epochs=1,
                                        batch_size=32, seed=0, progress=False, **kw))
        trained.append(model)
        assert ltn.device == chosen
    assert histories[0].train_loss == histories[1].train_loss == histories[2].train_loss
    assert histories[0].validation_loss == histories[1].validation_loss == histories[2].validation_loss
    _same_weights(trained)
    outputs = [conv_ltn.predict(trained[0], validation_world, **kw) for kw in CPU_FORMS]
    assert all(torch.equal(outputs[0][name], other[name]) for other in outputs[1:] for name in outputs[0])


def test_cpu_threads_sets_and_restores_the_thread_count_even_on_an_error():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="inside"):
        with devices.cpu_threads(1):
            assert torch.get_num_threads() == 1
            raise RuntimeError("inside")
    assert torch.get_num_threads() == before
    with devices.cpu_threads(None):
        assert torch.get_num_threads() == before
    for bad in (0, 1.5, True, "2"):
        with pytest.raises(ValueError, match="n must be"):
            with devices.cpu_threads(bad):
                pass


def test_fit_trains_on_the_threads_it_is_given_and_gives_them_back():
    seen = []

    class Probe(torch.nn.Linear):
        def forward(self, x):
            seen.append(torch.get_num_threads())
            return super().forward(x)

    before = torch.get_num_threads()
    pm.fit(Probe(3, 2), (torch.randn(8, 3),), torch.arange(8) % 2, epochs=1, batch_size=4, learning_rate=1e-3, threads=1)
    assert seen == [1, 1] and torch.get_num_threads() == before
