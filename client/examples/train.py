#!/usr/bin/env python3
"""A training command for `sibyl run` (docs/client.md), standard library only.

It takes its hyperparameters as arguments, as a real training script does,
trains a stand-in model for a few epochs and prints one metric line per
epoch, `sibyl: loss=0.123 step=3`:

    sibyl run --study demo/mnist --client-id w1 --max-trials 50 -- \\
          python3 train.py --lr {lr} --layers {layers}

A trial that was resumed (the worker restarted) starts at SIBYL_STEP_START.
"""
import argparse
import math
import os
import random


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lr", type=float, required=True, help="learning rate")
    p.add_argument("--layers", type=int, required=True, help="number of layers")
    p.add_argument("--epochs", type=int, default=5)
    a = p.parse_args()
    rng = random.Random(int(os.environ.get("SIBYL_TRIAL_ID", "0")))
    # The stand-in: best near lr = 0.01 with 3 layers; more epochs help.
    floor = (math.log10(a.lr) + 2) ** 2 / 4 + 0.05 * (a.layers - 3) ** 2
    for step in range(int(os.environ.get("SIBYL_STEP_START", "1")), a.epochs + 1):
        loss = floor + 1.0 / step + rng.uniform(0, 0.01)
        print("sibyl: loss=%.5f step=%d" % (loss, step), flush=True)


if __name__ == "__main__":
    main()
