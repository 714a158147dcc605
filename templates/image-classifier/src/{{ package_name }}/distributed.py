"""One process, or many under `torchrun` (DistributedDataParallel): the device, the process
group, and sums across processes.

    torchrun --standalone --nproc-per-node 2 -m <package> train

NCCL on GPUs, Gloo on CPU. Each process trains on its share of the data (a distributed
sampler); metrics are summed across processes; only rank 0 writes files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Context:
    device: torch.device
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1


def pick_device(wanted: str, local_rank: int = 0) -> torch.device:
    """auto: CUDA, then Apple's MPS, then CPU."""
    if wanted == "cuda" or (wanted == "auto" and torch.cuda.is_available()):
        return torch.device("cuda", local_rank)
    mps = getattr(torch.backends, "mps", None)
    if wanted == "mps" or (wanted == "auto" and mps is not None and mps.is_available()):
        return torch.device("mps")
    return torch.device("cpu")


def setup(wanted_device: str) -> Context:
    """Join the process group when started by torchrun (it sets WORLD_SIZE and RANK)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Context(pick_device(wanted_device))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(wanted_device, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    else:  # share the CPU cores between the processes on this machine
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_world))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Context(device, rank, world, local_rank)


def finish(context: Context) -> None:
    """Wait for every process at the end of a run that went well: rank 0 still saves the
    model and figures after the last epoch, and a process that left the group meanwhile
    made gloo abort (SIGABRT, "terminate called without an active exception")."""
    if context.distributed and dist.is_initialized():
        dist.barrier()


def teardown(context: Context) -> None:
    if context.distributed and dist.is_initialized():
        dist.destroy_process_group()


def sum_across(context: Context, values: list[float]) -> list[float]:
    """Element-wise sums over every process (the values themselves with one process)."""
    if not context.distributed:
        return values
    backend_device = context.device if context.device.type == "cuda" else torch.device("cpu")
    tensor = torch.tensor(values, dtype=torch.float64, device=backend_device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()
