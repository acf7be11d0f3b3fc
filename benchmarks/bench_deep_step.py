"""Training-step cost of the deep models: stochastic (exact and filter-mean variance, independent
or comonotone max pooling with sampled units) against BinaryConnect.

One training step = forward in training mode, cross-entropy, backward and an Adam step,
on one batch of 100 random images, 1 torch thread. The three models are timed in
interleaved rounds (round r times every model once, 5 steps each) and the best round
of each is kept, so a busy machine cannot flatter a ratio; by default the clock is the
process's CPU time (one thread), which other jobs on the machine inflate far less than
elapsed time. ``--compile`` times
``torch.compile`` d forwards, as ``stochsyn deep train --compile`` does (the first,
compiling step is excluded).

    python benchmarks/bench_deep_step.py --arch mlp:784-1024-1024-10
    python benchmarks/bench_deep_step.py --arch cnn --compile

Prints milliseconds per step and the ratios to BinaryConnect (the issue-13 cost bar is
an epoch ratio <= 1.5; a step ratio is its upper part: an epoch adds data handling and
evaluation, which cost the same for every model).
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from stochsyn.deep import DEFAULT_CNN, build_model

ROWS = (
    ("stochastic", "stochastic", {}),
    ("stochastic-fm", "stochastic", {"variance": "filter-mean"}),
    ("stochastic-com-su", "stochastic", {"max_pool": "comonotone", "sample_units": 0.5}),
    ("stochastic-fm-com-su", "stochastic", {"variance": "filter-mean", "max_pool": "comonotone", "sample_units": 0.5}),
    # every hidden unit drawn: the layers after the first see ±1 inputs and need no variance product
    ("stochastic-su1", "stochastic", {"sample_units": 1.0}),
    ("stochastic-fm-su1", "stochastic", {"variance": "filter-mean", "sample_units": 1.0}),
    ("binaryconnect", "binaryconnect", {}),
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", default="mlp:784-1024-1024-10", help="architecture ('cnn' = the default CNN)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=5, help="steps per model and round")
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--compile", action="store_true", help="time torch.compile'd forwards")
    ap.add_argument("--clock", choices=("process", "wall"), default="process",
                    help="process: CPU seconds of this process (one thread; robust to other jobs taking "
                         "the cores), wall: elapsed seconds")
    args = ap.parse_args()
    arch = DEFAULT_CNN if args.arch == "cnn" else args.arch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        gen = torch.Generator().manual_seed(0)
        x = torch.rand(args.batch_size, 1, 28, 28, generator=gen)
        y = torch.randint(0, 10, (args.batch_size,), generator=gen)
        models, forwards, opts = {}, {}, {}
        for name, kind, options in ROWS:
            torch.manual_seed(0)
            model = build_model(kind, arch, **options)
            model.train()
            models[name] = model
            forwards[name] = torch.compile(model, dynamic=False) if args.compile else model
            opts[name] = torch.optim.Adam(model.parameters(), lr=1e-3)

        clock = time.process_time if args.clock == "process" else time.perf_counter

        def steps(name: str, count: int) -> float:
            t0 = clock()
            for _ in range(count):
                opts[name].zero_grad()
                F.cross_entropy(forwards[name](x), y).backward()
                opts[name].step()
            return (clock() - t0) / count

        for name in models:  # warm-up (and compilation)
            steps(name, 1)
        best = {name: float("inf") for name in models}
        for _ in range(args.rounds):
            for name in models:
                best[name] = min(best[name], steps(name, args.steps))
    finally:
        torch.set_num_threads(threads)
    ref = best["binaryconnect"]
    print(f"{arch}, batch {args.batch_size}, 1 thread, {'compiled' if args.compile else 'eager'}, "
          f"best of {args.rounds} interleaved rounds of {args.steps} steps, {args.clock} time")
    for name, t in best.items():
        print(f"  {name:21s} {1000 * t:8.1f} ms/step   ratio to binaryconnect {t / ref:5.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
