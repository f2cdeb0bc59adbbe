"""Runs an exported convae model in PyTorch on input.safetensors' `x`, writes the outputs.

usage: torch_run.py EXPORT_DIR WEIGHTS INPUT OUTPUT
Classifier: logits, codes. Stack: codes and recon<k> (block k's reconstruction of its input).
"""
import importlib.util
import sys

import torch
from safetensors.torch import load_file, save_file

export_dir, weights, inp, out = sys.argv[1:5]
spec = importlib.util.spec_from_file_location("exported_model", f"{export_dir}/model.py")
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
m = mod.Model()
m.load_state_dict(load_file(weights))  # strict: every name and shape must match
m.eval()
x = load_file(inp)["x"]
res = {}
with torch.no_grad():
    res["codes"] = m.encode(x)
    if hasattr(m, "reconstruct"):
        # The blocks, not the Normalize module an export of a normalised model starts with.
        blocks = [c for name, c in m.named_children() if name.startswith("block")]
        for k in range(len(blocks)):
            res[f"recon{k}"] = m.reconstruct(x, k)
    else:
        res["logits"] = m(x)
save_file({k: v.contiguous() for k, v in res.items()}, out)
