"""State dicts trained/initialised by PyTorch, for the import tests.

usage: torch_state.py exported EXPORT_DIR OUT.safetensors
         PyTorch's own initialisation of the exported Model (seeded), biases random too.
       torch_state.py sequential INPUT.safetensors OUT.safetensors OUTPUTS.safetensors
         A hand-built nn.Sequential of test/export/models.ts' classifier (numeric names)
         and its logits on INPUT's `x`.
"""
import importlib.util
import sys

import torch
from safetensors.torch import load_file, save_file
from torch import nn

torch.manual_seed(7)


def randomize_biases(m):
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("bias"):
                p.uniform_(-0.1, 0.1)


if sys.argv[1] == "exported":
    export_dir, out = sys.argv[2:4]
    spec = importlib.util.spec_from_file_location("exported_model", f"{export_dir}/model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    m = mod.Model()
    randomize_biases(m)
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, out)
else:
    inp, out, outputs = sys.argv[2:5]
    m = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(288, 32), nn.LeakyReLU(0.01),
        nn.Dropout(0.5), nn.Linear(32, 10),
    )
    randomize_biases(m)
    m.eval()
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, out)
    with torch.no_grad():
        save_file({"logits": m(load_file(inp)["x"]).contiguous()}, outputs)
