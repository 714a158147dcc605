"""The training loop: one-cycle learning rate, early stopping on the validation loss, the best
model kept, a checkpoint every epoch to resume from, mixed precision on CUDA, and
DistributedDataParallel when started by torchrun.

models/model.pt    the best model so far (lowest validation loss), ready for evaluate/predict
models/checkpoint.pt   the last epoch's full state: `train --resume` continues from it
models/history.json    loss and accuracy per epoch, train and validation (learning curves)
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset
from tqdm import tqdm

from . import distributed, model
from .images import batch_loader, image_spec, load_splits
from .plumbing import datameta, persist
from .plumbing.errors import ConfigError
from .plumbing.paths import Paths
from .plumbing.seeding import seed_everything
from .settings import Settings

CHECKPOINT = "checkpoint.pt"
# NHWC: convolutions run about a quarter faster on CPUs (and use tensor cores on GPUs)
FAST_LAYOUT = torch.channels_last
HISTORY = "history.json"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def loader(
    dataset: Dataset,
    config: Settings,
    context: distributed.Context,
    *,
    train: bool,
    batch_size: int,
) -> DataLoader:
    sampler = (
        DistributedSampler(dataset, shuffle=train, seed=config.seed)
        if context.distributed
        else None
    )
    workers = config.train.workers
    if workers == "auto":
        workers = 0 if context.device.type == "cpu" else min(8, os.cpu_count() or 1)
    return batch_loader(
        dataset,
        batch_size,
        sampler=sampler,
        shuffle=train,
        seed=config.seed,
        workers=workers,
        pin_memory=context.device.type == "cuda",
    )


def run_epoch(
    network: nn.Module,
    batches: DataLoader,
    context: distributed.Context,
    criterion: nn.Module,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    scaler: torch.amp.GradScaler | None = None,
    description: str = "",
) -> dict[str, float]:
    """One pass over the batches: trains when given an optimizer, else only measures."""
    training = optimizer is not None
    network.train(training)
    amp = scaler is not None and scaler.is_enabled()
    loss_sum = correct = seen = 0.0
    bar = tqdm(batches, desc=description, leave=False, disable=None if context.main else True)
    with torch.set_grad_enabled(training):
        for images, labels in bar:
            images = images.to(context.device, memory_format=FAST_LAYOUT, non_blocking=True)
            labels = labels.to(context.device, non_blocking=True)
            with torch.autocast("cuda", dtype=torch.float16, enabled=amp):
                logits = network(images)
                loss = criterion(logits, labels)
            if training:
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
            loss_sum += loss.item() * len(labels)
            correct += (logits.argmax(1) == labels).sum().item()
            seen += len(labels)
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
    loss_sum, correct, seen = distributed.sum_across(context, [loss_sum, correct, seen])
    return {"loss": loss_sum / max(seen, 1), "accuracy": correct / max(seen, 1)}


def subset(dataset: Dataset, limit: int | None, seed: int) -> Dataset:
    if limit is None or limit >= len(dataset):
        return dataset
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))
    return Subset(dataset, order[:limit].tolist())


def _fingerprint(arch: dict[str, Any], config: Settings) -> dict[str, Any]:
    """What a checkpoint must match to be resumed: the network and the schedule."""
    return {"arch": arch, "epochs": config.train.epochs, "batch_size": config.train.batch_size}


def train(config: Settings, paths: Paths) -> dict[str, Any]:
    context = distributed.setup(config.train.device)
    try:
        result = _train(config, paths, context)
        distributed.finish(context)
        return result
    finally:
        distributed.teardown(context)


def _train(config: Settings, paths: Paths, context: distributed.Context) -> dict[str, Any]:
    seed_everything(config.seed, config.train.deterministic)
    meta = datameta.read(paths)
    classes, sets = load_splits(config, meta, paths)
    spec = image_spec(config, meta.details)
    arch = model.describe(config, len(classes), spec["channels"])
    network = model.build(arch, pretrained=config.model.pretrained).to(
        context.device, memory_format=FAST_LAYOUT
    )
    if context.distributed:
        ids = [context.device.index] if context.device.type == "cuda" else None
        network = DistributedDataParallel(network, device_ids=ids)
    train_set = subset(sets["train"], config.train.max_train_images, config.seed)
    batches = loader(train_set, config, context, train=True, batch_size=config.train.batch_size)
    checks = loader(
        sets["validation"], config, context, train=False, batch_size=config.evaluate.batch_size
    )
    optimizer = torch.optim.AdamW(
        network.parameters(), lr=config.train.learning_rate, weight_decay=config.train.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=config.train.learning_rate,
        epochs=config.train.epochs,
        steps_per_epoch=len(batches),
    )
    amp = config.train.mixed_precision and context.device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    criterion = nn.CrossEntropyLoss(label_smoothing=config.train.label_smoothing)
    extra = {"classes": classes, "image": spec}
    state = {"epoch": 0, "history": [], "best_loss": math.inf, "best_epoch": 0, "stale": 0}
    if config.train.resume:
        state = _resume(paths, network, optimizer, scheduler, scaler, _fingerprint(arch, config))
    if context.main:
        where = f"{context.world} processes" if context.distributed else "1 process"
        log(
            f"training {arch['name']} on {len(train_set)} images, {len(classes)} classes, "
            f"{context.device.type}, {where}{', mixed precision' if amp else ''}"
        )
    started = time.perf_counter()
    for epoch in range(state["epoch"], config.train.epochs):
        positions = getattr(batches.sampler, "sampler", None)  # inside the BatchSampler
        if isinstance(positions, DistributedSampler):
            positions.set_epoch(epoch)
        tick = time.perf_counter()
        fit = run_epoch(
            network,
            batches,
            context,
            criterion,
            optimizer=optimizer,
            scheduler=scheduler,
            scaler=scaler,
            description=f"epoch {epoch + 1}/{config.train.epochs}",
        )
        check = run_epoch(network, checks, context, criterion)
        seconds = time.perf_counter() - tick
        state["history"].append(
            {
                "epoch": epoch + 1,
                "train_loss": fit["loss"],
                "train_accuracy": fit["accuracy"],
                "val_loss": check["loss"],
                "val_accuracy": check["accuracy"],
                "seconds": seconds,
            }
        )
        better = check["loss"] < state["best_loss"]
        if better:
            state.update(best_loss=check["loss"], best_epoch=epoch + 1, stale=0)
        else:
            state["stale"] += 1
        state["epoch"] = epoch + 1
        if context.main:
            log(
                f"epoch {epoch + 1}/{config.train.epochs}: train loss {fit['loss']:.4f} "
                f"acc {fit['accuracy']:.4f} | val loss {check['loss']:.4f} "
                f"acc {check['accuracy']:.4f} | {seconds:.1f}s{' *best' if better else ''}"
            )
            if better:
                model.save(paths.models / model.MODEL_FILE, network, arch, extra)
            _checkpoint(paths, network, optimizer, scheduler, scaler, state, arch, config)
        if state["stale"] >= config.train.patience:
            if context.main:
                log(f"early stop: no better validation loss for {state['stale']} epochs")
            break
    if context.main:
        history = json.dumps(state["history"], indent=2) + "\n"
        (paths.models / HISTORY).write_text(history, encoding="utf-8")
    best = next(row for row in state["history"] if row["epoch"] == state["best_epoch"])
    ran = len(state["history"])
    return {
        "best_epoch": state["best_epoch"],
        "epochs_run": ran,
        "val_loss": best["val_loss"],
        "val_accuracy": best["val_accuracy"],
        "validation": best["val_accuracy"],  # the best epoch's, what `runs` ranks by
        "seconds_per_epoch": sum(row["seconds"] for row in state["history"]) / max(ran, 1),
        "train_seconds": time.perf_counter() - started,
        "device": context.device.type,
        "processes": context.world,
        "parameters": sum(p.numel() for p in model.unwrap(network).parameters()),
    }


def _checkpoint(
    paths: Paths,
    network: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    scaler: torch.amp.GradScaler,
    state: dict[str, Any],
    arch: dict[str, Any],
    config: Settings,
) -> None:
    payload = {
        "model": {k: v.detach().cpu() for k, v in model.unwrap(network).state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(),
        "state": state,
        "fingerprint": _fingerprint(arch, config),
    }
    persist.save(payload, paths.models / CHECKPOINT, model.LIBRARIES, dump=torch.save)


def _resume(
    paths: Paths,
    network: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    scaler: torch.amp.GradScaler,
    fingerprint: dict[str, Any],
) -> dict[str, Any]:
    path = paths.models / CHECKPOINT
    if not path.is_file():
        raise ConfigError(f"{path} not found: nothing to resume", "train without --resume first")
    saved = model.read(path)
    if saved["fingerprint"] != fingerprint:
        raise ConfigError(
            "the checkpoint was made with another model, number of epochs or batch size",
            "resume with the same settings, or train without --resume",
        )
    model.unwrap(network).load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    scaler.load_state_dict(saved["scaler"])
    log(f"resuming after epoch {saved['state']['epoch']} from {path}")
    return saved["state"]
