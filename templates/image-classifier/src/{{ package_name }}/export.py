"""ONNX export of the trained model, for serving without PyTorch (onnxruntime, browsers,
mobile). Needs the `export` extra: pip install -e ".[export]"."""

from __future__ import annotations

from pathlib import Path

import torch

from . import model
from .plumbing.paths import Paths

ONNX_FILE = "model.onnx"


def export(paths: Paths) -> Path:
    """models/model.pt → models/model.onnx, with a dynamic batch size."""
    network, saved = model.load(paths.models / model.MODEL_FILE)
    spec = saved["image"]
    example = torch.zeros(1, spec["channels"], spec["side"], spec["side"])
    target = paths.models / ONNX_FILE
    tmp = target.with_name("model.tmp.onnx")
    program = torch.onnx.export(
        network,
        (example,),
        input_names=["images"],
        output_names=["logits"],
        dynamic_shapes={"images": {0: torch.export.Dim("batch")}},
        dynamo=True,
    )
    program.save(str(tmp))
    tmp.replace(target)
    return target


def max_difference(paths: Paths, images: torch.Tensor) -> tuple[float, bool]:
    """Largest |PyTorch - onnxruntime| logit on these images, and whether the predicted
    classes all agree."""
    import onnxruntime

    network, _ = model.load(paths.models / model.MODEL_FILE)
    with torch.inference_mode():
        expected = network(images).numpy()
    session = onnxruntime.InferenceSession(
        str(paths.models / ONNX_FILE), providers=["CPUExecutionProvider"]
    )
    (got,) = session.run(None, {"images": images.numpy()})
    same = bool((got.argmax(axis=1) == expected.argmax(axis=1)).all())
    return float(abs(got - expected).max()), same
