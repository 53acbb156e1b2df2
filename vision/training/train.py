"""Trains the facing-embedding model and exports it to ONNX.

A small CNN maps a 64x32 facing crop to a unit-length 64-d embedding. It is trained with a CosFace head over
the training SKUs plus two pseudo-classes (_EMPTY, _OCCLUDED); at run time the head is thrown away and the
embedding is matched against enrolment prototypes, so a new SKU joins by enrolment, without retraining.

    python3 vision/training/train.py --data /tmp/vision-data --out vision/model --seed 7

Reproducible from the seed on the same data (single-threaded kernels are deterministic on CPU). Prints progress;
writes <out>/embedder.onnx and <out>/training.json (seed, commit, data hash, metrics, timings).
"""
import argparse
import hashlib
import json
import math
import os
import subprocess
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CROP_H, CROP_W = 64, 32
PIXEL_MEAN, PIXEL_SCALE = 127.5, 1 / 64  # vision/recognition/crop.ts uses the same constants
EMBED_DIM = 64


def block(cin, cout):
    # BatchNorm momentum: torchvision's MobileNetV3 uses 0.01, which leaves the running statistics near their
    # initial values after a short training; the default 0.1 plus a re-estimation pass before export is safe.
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout, momentum=0.1), nn.ReLU(inplace=True))


class Embedder(nn.Module):
    def __init__(self, dim=EMBED_DIM):
        super().__init__()
        # ~5 MFLOP per crop: a stride-2 stem, then three conv blocks; about 0.5 ms per crop on one core.
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),  # 32x16
            block(16, 32), nn.MaxPool2d(2),  # 16x8
            block(32, 48), nn.MaxPool2d(2),  # 8x4
            block(48, 64),
        )
        self.fc = nn.Linear(64 * 8 * 4, dim)

    def forward(self, x):
        z = self.fc(torch.flatten(self.features(x), 1))
        return F.normalize(z, dim=1)


class CosFace(nn.Module):
    def __init__(self, dim, classes, s=20.0, m=0.25):
        super().__init__()
        self.w = nn.Parameter(torch.randn(classes, dim) * 0.1)
        self.s, self.m = s, m

    def forward(self, z, y=None):
        cos = z @ F.normalize(self.w, dim=1).t()
        if y is not None:
            cos = cos - self.m * F.one_hot(y, cos.shape[1]).float()
        return self.s * cos


def augment(x, g):
    """Photometric and geometric jitter on a uint8 NHWC batch -> normalised NCHW float."""
    n = x.shape[0]
    x = x.float()
    gain = 1 + 0.15 * (torch.rand(n, 1, 1, 1, generator=g) * 2 - 1)
    tint = 1 + 0.04 * (torch.rand(n, 1, 1, 3, generator=g) * 2 - 1)
    x = x * gain * tint + 6 * torch.randn(x.shape, generator=g) * torch.rand(n, 1, 1, 1, generator=g)
    x = x.clamp(0, 255)
    x = (x - PIXEL_MEAN) * PIXEL_SCALE
    x = x.permute(0, 3, 1, 2).contiguous()
    dx, dy = [int(v) for v in torch.randint(-2, 3, (2,), generator=g)]
    return torch.roll(x, shifts=(dy, dx), dims=(2, 3))


def normalise(x):
    return ((x.float() - PIXEL_MEAN) * PIXEL_SCALE).permute(0, 3, 1, 2).contiguous()


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default='/tmp/vision-data')
    ap.add_argument('--out', default='vision/model')
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--epochs', type=int, default=6)
    ap.add_argument('--batch', type=int, default=256)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--limit', type=int, default=0, help='use only the first N crops (smoke runs)')
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    meta = json.load(open(os.path.join(args.data, 'meta.json')))
    classes = meta['classes']
    labels = open(os.path.join(args.data, 'labels.txt')).read().split()
    crops = np.fromfile(os.path.join(args.data, 'crops.u8'), dtype=np.uint8).reshape(-1, CROP_H, CROP_W, 3)
    assert len(labels) == crops.shape[0], (len(labels), crops.shape)
    if args.limit:
        crops, labels = crops[: args.limit], labels[: args.limit]
    index = {c: i for i, c in enumerate(classes)}
    y = torch.tensor([index[l] for l in labels], dtype=torch.long)
    x = torch.from_numpy(crops)
    n = len(labels)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(args.seed))
    n_val = max(500, n // 20)
    val_idx, tr_idx = perm[:n_val], perm[n_val:]
    print(f'data: {n} crops, {len(classes)} classes, train {len(tr_idx)}, holdout {n_val}  ({time.time() - t0:.1f} s)', flush=True)

    model = Embedder()
    head = CosFace(EMBED_DIM, len(classes))
    params = list(model.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    steps_per_epoch = math.ceil(len(tr_idx) / args.batch)
    total = steps_per_epoch * args.epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total, pct_start=0.15)
    g = torch.Generator().manual_seed(args.seed + 1)
    step = 0
    history = []
    for epoch in range(args.epochs):
        model.train()
        head.train()
        order = tr_idx[torch.randperm(len(tr_idx), generator=g)]
        te = time.time()
        loss_sum, correct, seen = 0.0, 0, 0
        for b in range(steps_per_epoch):
            idx = order[b * args.batch:(b + 1) * args.batch]
            xb, yb = augment(x[idx], g), y[idx]
            logits = head(model(xb), yb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            loss_sum += float(loss) * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            seen += len(idx)
            if b % 50 == 0:
                el = time.time() - t0
                print(f'  epoch {epoch + 1}/{args.epochs} step {b}/{steps_per_epoch} loss {loss_sum / seen:.3f} acc {correct / seen:.3f}  {el:.0f} s, eta {el / max(step, 1) * (total - step):.0f} s', flush=True)
        acc = evaluate(model, head, x, y, val_idx)
        history.append({'epoch': epoch + 1, 'loss': round(loss_sum / seen, 4), 'trainAcc': round(correct / seen, 4), 'holdoutAcc': round(acc, 4), 'seconds': round(time.time() - te, 1)})
        print(f'epoch {epoch + 1}: loss {loss_sum / seen:.4f} train acc {correct / seen:.4f} holdout acc {acc:.4f} ({time.time() - te:.0f} s)', flush=True)

    recalibrate_batchnorm(model, x, tr_idx, g, args.batch)
    final_acc = evaluate(model, head, x, y, val_idx)
    print(f'after batchnorm re-estimation: holdout acc {final_acc:.4f}', flush=True)

    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, 'embedder.onnx')
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 3, CROP_H, CROP_W), onnx_path, input_names=['crops'], output_names=['embedding'],
                      dynamic_axes={'crops': {0: 'n'}, 'embedding': {0: 'n'}}, opset_version=13, do_constant_folding=True)
    commit, dirty = code_commit()
    report = {
        'seed': args.seed, 'commit': commit, 'codeDirty': dirty, 'torch': torch.__version__, 'epochs': args.epochs, 'batch': args.batch, 'lr': args.lr,
        'threads': args.threads, 'data': {'crops': n, 'scenes': meta.get('scenes'), 'seedBase': meta.get('seedBase'), 'sha256Labels': sha256(os.path.join(args.data, 'labels.txt')),
                                          'sha256Crops': sha256(os.path.join(args.data, 'crops.u8'))},
        'classes': classes, 'embedDim': EMBED_DIM, 'input': [3, CROP_H, CROP_W], 'pixelMean': PIXEL_MEAN, 'pixelScale': PIXEL_SCALE,
        'history': history, 'holdoutCropAccuracy': round(final_acc, 4), 'seconds': round(time.time() - t0, 1), 'sha256': {'embedder.onnx': sha256(onnx_path)},
    }
    json.dump(report, open(os.path.join(args.out, 'training.json'), 'w'), indent=2)
    print(f'wrote {onnx_path} ({os.path.getsize(onnx_path) / 1e6:.2f} MB) in {time.time() - t0:.0f} s', flush=True)


# The code that defines the training data and the model: a retrain must check out this commit.
CODE_PATHS = ['vision/training', 'vision/render', 'vision/recognition/crop.ts', 'contracts/demo-data.ts']


def code_commit():
    """The last commit of the data and model code, and whether the working tree differs from it there."""
    try:
        commit = subprocess.check_output(['git', 'log', '-1', '--format=%H', '--', *CODE_PATHS], text=True).strip()
        dirty = subprocess.check_output(['git', 'status', '--porcelain', '--', *CODE_PATHS], text=True).strip() != ''
        return commit or 'unknown', dirty
    except Exception:  # noqa: BLE001 - a training run outside git still reports
        return 'unknown', True


@torch.no_grad()
def evaluate(model, head, x, y, idx):
    model.eval()
    head.eval()
    correct = 0
    for b in range(0, len(idx), 1024):
        i = idx[b:b + 1024]
        correct += int((head(model(normalise(x[i]))).argmax(1) == y[i]).sum())
    return correct / len(idx)


@torch.no_grad()
def recalibrate_batchnorm(model, x, idx, g, batch, batches=60):
    """Re-estimates BatchNorm statistics with the final weights (cumulative average) before export."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    order = idx[torch.randperm(len(idx), generator=g)]
    for b in range(min(batches, len(order) // batch)):
        model(augment(x[order[b * batch:(b + 1) * batch]], g))
    model.eval()


if __name__ == '__main__':
    main()
