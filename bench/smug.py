"""SMUG minimal-mask solve: z3 (the reference's solver) vs the MILP on HiGHS, same instances.

For a few mirrored ImageNet validation images that EfficientNet-Lite0 classifies correctly,
IG on the first layer (captum, 200 steps) picks the top-k neurons, and Eq. 3 is built once
per (k, gamma) and solved by both backends. Printed: per instance the constraint and
variable counts, kept blocks and wall time (encoding + solve) of each backend; per image
the total time of each and the ratio; how often gamma = 0 is already satisfied by the empty
mask in each constraint mode (:mod:`nesy.smt.linear`); and the summary line

    speedup_highs_vs_z3: X optima_equal: true|false

where X is total z3 time / total HiGHS time over all instances with gamma > 0 and
optima_equal says whether both proved the same optimum on every instance.

Then the per-image cost of Table 1 (``--table1-images`` images, the chapter's default
settings): the crop forward time of PyTorch and ONNX Runtime; each stage's wall seconds per
image the old way (exhaustive box search: every method's crops forwarded separately, through
PyTorch) and the new (pruned: one shared scorer, boxes that cannot win skipped, through ONNX
Runtime; the same IG in both), the crops forwarded, the largest score difference, and

    seconds_per_image: exhaustive A pruned B ratio A/B

Run: .venv/bin/python bench/smug.py [--images 5] [--k 500,1000,3000] [--gamma 0.5,0.9] [--table1-images 3]
The OpenMP wait policy is the caller's (the book runs with OMP_WAIT_POLICY=PASSIVE); the
header prints it.
"""

from __future__ import annotations

import argparse
import math
import os
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
    parser.add_argument("--table1-images", type=int, default=3, help="images of the per-image Table 1 stage table (0: skip)")
    args = parser.parse_args()
    ks = [int(v) for v in args.k.split(",")]
    gammas = [float(v) for v in args.gamma.split(",")]

    torch.manual_seed(0)
    model = models.efficientnet_lite0()
    val = data.imagenet_val_boxes(model.input_size, progress=False)
    lin = smt.linearise(model.first, model.input_size)  # the reference's constraint mode
    lins = {mode: smt.linearise(model.first, model.input_size, mode) for mode in smt.CONSTRAINT_MODES}
    print(f"torch threads: {torch.get_num_threads()}; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}; "
          f"model: {model.name}; k={ks}; gamma={gammas}; block={args.block}; IG steps={args.ig_steps}")

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
    per_image, all_equal, unknown, fallbacks = [], True, {"z3": 0, "highs": 0}, 0
    empty = {mode: [0, 0] for mode in lins}  # constraint mode -> [empty-mask instances, instances]
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
            for mode in empty:
                p0 = smt.mask_problem(lins[mode], x[0], neurons, 0.0, block=args.block)
                empty[mode][0] += p0.empty_mask_feasible
                empty[mode][1] += 1
            for gamma in gammas:
                problem = smt.mask_problem(lin, x[0], neurons, gamma, block=args.block)
                h = smt.solve_highs(problem, time_limit_s=args.timeout)
                fallbacks += h.info.get("fallback") == "z3"  # HiGHS could not prove it; its time includes z3's
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
    print(f"solves without a proven optimum: z3 {unknown['z3']}, HiGHS {unknown['highs']}; HiGHS fell back to z3 on {fallbacks}")
    for mode, (hits, count) in empty.items():
        print(f"gamma=0, {mode} constraint mode: the empty mask satisfies every constraint in {hits}/{count} (image, k) instances")
    speedup = total["z3"] / max(total["highs"], 1e-9)
    print(f"speedup_highs_vs_z3: {speedup:.1f} optima_equal: {str(all_equal).lower()}")
    if args.table1_images:
        table1_stages(model, val, chosen[: args.table1_images])


def table1_stages(model, val, chosen) -> None:
    """Per-image Table 1 cost by stage, exhaustive vs pruned box search, the chapter's defaults."""
    from nesy import params

    p = params.load_profile("smug", "default")
    lins = {mode: smt.linearise(model.first, model.input_size, mode) for mode in smt.CONSTRAINT_MODES}
    main = (p["constraint"], float(p["gamma"]))
    variants = [main] + [(m, float(g)) for m in lins for g in p["ablation_gammas"] if (m, float(g)) != main]
    print(f"\nTable 1 per image ({len(chosen)} images; k={p['k']}, IG steps={p['ig_steps']}, {p['n_thresholds']} thresholds, "
          f"OPTBOX {p['optbox_cells']}x{p['optbox_cells']}/{p['optbox_min_cells']}, SMUG variants {variants})")
    from nesy import inference

    fast = inference.fast_forward(model)
    crops = torch.rand(32, 3, model.input_size, model.input_size)
    timing = {}
    slow = inference.fast_forward(model, backend="torch")
    for name, forward in (("torch", slow), (fast.backend, fast)):
        forward(crops[:2])
        t0 = time.perf_counter()
        for _ in range(3):
            forward(crops)
        timing[name] = (time.perf_counter() - t0) / (3 * len(crops))
    print(f"crop forward, batch 32: torch {1000 * timing['torch']:.1f} ms/crop, {fast.backend} "
          f"{1000 * timing[fast.backend]:.1f} ms/crop, ratio {timing['torch'] / timing[fast.backend]:.1f}")
    seconds = {"exhaustive": {}, "pruned": {}}
    crops, largest_gap, box_changes = {"exhaustive": 0, "pruned": 0}, 0.0, 0
    for index in chosen:
        x = models.preprocess(val.images[index], model.input_size)[0]
        label = int(val.labels[index])
        t0 = time.perf_counter()
        _, attr = smt.first_layer_ig(model, x[None], [label], n_steps=p["ig_steps"])
        ig = time.perf_counter() - t0
        runs = {}
        for search in ("exhaustive", "pruned"):
            ev = smt.evaluate_image(model, lins, x, label, val.boxes[index], k=p["k"], variants=variants, block=p["block"],
                                    forward=slow if search == "exhaustive" else fast,
                                    ig_steps=p["ig_steps"], n_thresholds=p["n_thresholds"], optbox_cells=p["optbox_cells"],
                                    optbox_min_cells=p["optbox_min_cells"], attributions=attr[0], box_search=search,
                                    top_k_rule=p["top_k_rule"], crop_normalise=p["crop_normalise"])
            runs[search] = ev
            stages = {"first-layer IG": ig, **ev.seconds}
            for name, value in stages.items():
                seconds[search][name] = seconds[search].get(name, 0.0) + value
            crops[search] += ev.n_forward
        for name, r in runs["exhaustive"].lsc.items():  # equal up to float noise: a crop's batch-mates change its rounding
            other = runs["pruned"].lsc[name]
            if not (math.isnan(r.score) and math.isnan(other.score)):
                largest_gap = max(largest_gap, abs(r.score - other.score))
            box_changes += r.box != other.box
    n = len(chosen)
    print(f"{'stage':>18} {'exhaustive s':>13} {'pruned s':>9}")
    for name in seconds["pruned"]:
        print(f"{name:>18} {seconds['exhaustive'][name] / n:>13.2f} {seconds['pruned'][name] / n:>9.2f}")
    print(f"{'crops forwarded':>18} {crops['exhaustive'] / n:>13.0f} {crops['pruned'] / n:>9.0f}")
    before, after = (sum(seconds[s].values()) / n for s in ("exhaustive", "pruned"))
    print(f"largest LSC difference exhaustive vs pruned: {largest_gap:.1e}; best boxes that differ: {box_changes}")
    print(f"seconds_per_image: exhaustive {before:.2f} pruned {after:.2f} ratio {before / after:.2f}")


if __name__ == "__main__":
    main()
