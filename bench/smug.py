"""SMUG minimal-mask solve: z3 (the reference's solver) vs the MILP on HiGHS, same instances.

For a few mirrored ImageNet validation images that EfficientNet-Lite0 classifies correctly,
IG on the first layer (captum, 200 steps) picks the top-k neurons, and Eq. 3 is built once
per (k, gamma) and solved by both backends. Printed: per instance the constraint and
variable counts, kept blocks and wall time (encoding + solve) of each backend; per image
the total time of each and the ratio; how often gamma = 0 is already satisfied by the empty
mask (black masking as the reference, and grey); and the closing summary line

    speedup_highs_vs_z3: X optima_equal: true|false

where X is total z3 time / total HiGHS time over all instances with gamma > 0 and
optima_equal says whether both proved the same optimum on every instance.

Run: .venv/bin/python bench/smug.py [--images 5] [--k 500,1000,3000] [--gamma 0.5,0.9]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from nesy import data, models, smt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=5, help="correctly classified images to use")
    parser.add_argument("--k", default="500,1000,3000", help="top-k values")
    parser.add_argument("--gamma", default="0.5,0.9", help="gamma values timed (gamma=0 is always checked)")
    parser.add_argument("--ig-steps", type=int, default=200, help="IG path points")
    parser.add_argument("--timeout", type=float, default=600.0, help="per-solve limit (s) for both backends")
    parser.add_argument("--block", type=int, default=4)
    args = parser.parse_args()
    ks = [int(v) for v in args.k.split(",")]
    gammas = [float(v) for v in args.gamma.split(",")]

    torch.manual_seed(0)
    model = models.efficientnet_lite0()
    val = data.imagenet_val_boxes(model.input_size, progress=False)
    lin = smt.linearise(model.first, model.input_size)
    print(f"torch threads: {torch.get_num_threads()}; model: {model.name}; k={ks}; gamma={gammas}; "
          f"block={args.block}; IG steps={args.ig_steps}")

    chosen, i = [], 0
    while len(chosen) < args.images and i < len(val):
        batch = models.preprocess(val.images[i : i + 16], model.input_size)
        pred = model.predict(batch).argmax(1)
        chosen += [i + j for j in range(len(batch)) if pred[j] == val.labels[i + j]]
        i += 16
    chosen = chosen[: args.images]

    header = f"{'image':>26} {'k':>5} {'gamma':>5} {'cons':>5} {'vars':>5} {'z3 blocks':>9} {'z3 s':>7} {'HiGHS blocks':>12} {'HiGHS s':>8} {'ratio':>7}"
    print(header)
    total = {"z3": 0.0, "highs": 0.0}
    per_image, all_equal, unknown = [], True, {"z3": 0, "highs": 0}
    empty = {0.0: [0, 0], 0.5: [0, 0]}  # masked value -> [empty-mask instances, instances]
    ig_times = []
    for index in chosen:
        x = models.preprocess(val.images[index], model.input_size)
        label = int(val.labels[index])
        t0 = time.perf_counter()
        _, attr = smt.first_layer_ig(model, x, [label], n_steps=args.ig_steps)
        ig_times.append(time.perf_counter() - t0)
        image_time = {"z3": 0.0, "highs": 0.0}
        for k in ks:
            neurons = smt.top_k_neurons(attr[0], k)
            for masked_value in empty:
                p0 = smt.mask_problem(lin, x[0], neurons, 0.0, block=args.block, masked_value=masked_value)
                empty[masked_value][0] += p0.empty_mask_feasible
                empty[masked_value][1] += 1
            for gamma in gammas:
                problem = smt.mask_problem(lin, x[0], neurons, gamma, block=args.block)
                h = smt.solve_highs(problem, time_limit_s=args.timeout)
                z = smt.solve_z3(problem, timeout_s=args.timeout)
                for s in (h, z):
                    unknown[s.backend] += s.status != "optimal"
                equal = z.status == h.status == "optimal" and z.n_blocks == h.n_blocks
                all_equal &= equal
                image_time["z3"] += z.time_s
                image_time["highs"] += h.time_s
                print(f"{val.files[index]:>26} {k:>5} {gamma:>5} {problem.n_constraints:>5} {problem.n_vars:>5} "
                      f"{str(z.n_blocks) if z.n_blocks is not None else z.status:>9} {z.time_s:>7.3f} "
                      f"{str(h.n_blocks) if h.n_blocks is not None else h.status:>12} {h.time_s:>8.4f} "
                      f"{z.time_s / max(h.time_s, 1e-9):>7.1f}{'' if equal else '  OPTIMA DIFFER'}")
        per_image.append(image_time)
        for name in total:
            total[name] += image_time[name]

    print()
    print(f"IG ({args.ig_steps} steps, captum) per image: mean {statistics.mean(ig_times):.1f} s")
    for n, (index, t) in enumerate(zip(chosen, per_image)):
        print(f"image {n} ({val.files[index]}): z3 {t['z3']:.3f} s, HiGHS {t['highs']:.4f} s, ratio {t['z3'] / max(t['highs'], 1e-9):.1f}")
    n = len(per_image)
    print(f"mean time per image over {len(ks) * len(gammas)} instances: z3 {total['z3'] / n:.3f} s, HiGHS {total['highs'] / n:.4f} s")
    print(f"solves without a proven optimum: z3 {unknown['z3']}, HiGHS {unknown['highs']}")
    for masked_value, (hits, count) in empty.items():
        print(f"gamma=0, masked pixels {'black' if masked_value == 0 else 'grey'}: the empty mask satisfies "
              f"every constraint in {hits}/{count} (image, k) instances")
    speedup = total["z3"] / max(total["highs"], 1e-9)
    print(f"speedup_highs_vs_z3: {speedup:.1f} optima_equal: {str(all_equal).lower()}")


if __name__ == "__main__":
    main()
