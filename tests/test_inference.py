"""nesy.inference: the ONNX Runtime forward equals the PyTorch model's."""
import pytest
import torch

from nesy import inference


def test_onnxruntime_forward_matches_torch(tiny_saliency_model):
    pytest.importorskip("onnxruntime")
    model = tiny_saliency_model()
    fast = inference.fast_forward(model, 16)
    assert fast.backend == "onnxruntime"
    x = torch.rand(5, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(fast(x), model(x), rtol=1e-4, atol=1e-5)
    assert fast(x[:1]).shape == (1, 3)  # any batch size
    with pytest.raises(ValueError, match=r"x must be \(N, 3, 16, 16\)"):
        fast(torch.rand(2, 3, 8, 8))


def test_torch_backend_and_bad_backend(tiny_saliency_model):
    model = tiny_saliency_model()
    slow = inference.fast_forward(model, 16, backend="torch")
    x = torch.rand(2, 3, 16, 16)
    assert slow.backend == "torch"
    with torch.no_grad():
        torch.testing.assert_close(slow(x), model(x))
    with pytest.raises(ValueError, match="backend must be one of"):
        inference.fast_forward(model, 16, backend="tensorrt")
