"""Runs an ONNX file with Python's onnxruntime on input.safetensors' `x`; writes output `y`.

usage: ort_run.py MODEL.onnx INPUT.safetensors OUTPUT.safetensors
"""
import sys

import numpy as np
import onnxruntime as ort
import torch
from safetensors.torch import load_file, save_file

model, inp, out = sys.argv[1:4]
s = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
x = load_file(inp)["x"].numpy()
(y,) = s.run(None, {"x": x})
save_file({"y": torch.from_numpy(np.ascontiguousarray(y))}, out)
