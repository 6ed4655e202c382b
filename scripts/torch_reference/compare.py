#!/usr/bin/python3
"""Side-by-side table (markdown) of runs/bench/torch-*.json and the matching mindanim (C#) runs/bench/cs-*.json.

Usage: /usr/bin/python3 scripts/torch_reference/compare.py [runs/bench]
C# files expected (written by `mindanim bench NAME --threads 1 --json FILE`): cs-unet-tiny-t1.json (or
cs-unet-tiny-quick-t1.json), cs-tiny-pipeline-t1.json, cs-decoder-epoch-{semantic,structure,motion}-t1.json.
"""
import json
import os
import sys


def load(folder, *names):
    for name in names:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            with open(path) as f:
                return json.load(f), name
    return None, None


def cs_value(doc, bench, prefix):
    for m in doc.get(bench, []) if doc else []:
        if m["Name"].startswith(prefix):
            return m["Value"]
    return None


def fmt(v, unit="s"):
    if v is None:
        return "—"
    return f"{v:.0f} {unit}" if unit == "MiB" else f"{v:.3g} {unit}"


def ratio(cs, pt):
    return f"{cs / pt:.2f}" if cs is not None and pt else "—"


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "runs/bench"
    rows = []
    sd, _ = load(folder, "torch-sd-tiny.json")
    unet, unet_name = load(folder, "cs-unet-tiny-t1.json", "cs-unet-tiny-quick-t1.json")
    pipe, _ = load(folder, "cs-tiny-pipeline-t1.json")
    if sd:
        t1 = next((t for t in sd["timings"] if t["threads"] == 1), None)
        if t1:
            s = t1.get("unet3d_step_b1_ctx77_32x32")
            rows.append(("UNet3D step, 1×4×8×32×32, 77-token context, 1 thread", cs_value(unet, "unet-tiny", "unet3d step, 1 thread"),
                         s and s["median_s"], f"C#: {unet_name}; torch load {s and s['loadavg_1min_before']:.1f}", "s"))
            loop = t1.get("ddim20_cfg_16x16")
            step_ms = cs_value(pipe, "tiny-pipeline", "sample_step_median")
            rows.append(("20 DDIM steps with CFG (batch 2), 1×4×8×16×16, 1 thread",
                         step_ms and step_ms * 20 / 1000, loop and loop["median_s"],
                         "C#: 20 × tiny-pipeline sample_step_median (UNet on the CFG batch + DDIM step)", "s"))
            c = t1.get("unet3d_step_cfg_b2_ctx20_32x32")
            if c:
                rows.append(("UNet3D step, CFG batch 2, 20-token context, 32×32, 1 thread (torch only)", None, c["median_s"], "", "s"))
            l32 = t1.get("ddim20_cfg_32x32")
            if l32:
                rows.append(("20 DDIM steps with CFG, 1×4×8×32×32, 1 thread (torch only)", None, l32["median_s"], "", "s"))
    for kind in ("semantic", "structure", "motion"):
        pt, _ = load(folder, f"torch-decoder-{kind}.json")
        cs, _ = load(folder, f"cs-decoder-epoch-{kind}-t1.json")
        if not pt and not cs:
            continue
        tr = pt["training"][0] if pt else None
        cs_batch = cs_value(cs, f"decoder-epoch-{kind}", "training batch")
        rows.append((f"{kind} decoder: one training step (batch 64, fwd+bwd+Adam), 1 thread", cs_batch, tr and tr["step_s_median"],
                     tr and f"torch load {tr['loadavg_1min_before']:.1f}", "s"))
        rows.append((f"{kind} decoder: epoch of 4000 clips = 63 training batches (extrapolated)", cs_batch and cs_batch * 63,
                     tr and tr["epoch_s_extrapolated"], "train batches only (C#'s own epoch figure adds validation)", "s"))
        rows.append((f"{kind} decoder: peak RSS", cs_value(cs, f"decoder-epoch-{kind}", "peak RSS"),
                     tr and tr["peak_rss_mib_process"], "whole process", "MiB"))
    print("| measurement | mindanim (C#, TorchSharp) | PyTorch 1.13 (OpenBLAS) | C# / PyTorch | note |")
    print("|---|---|---|---|---|")
    for name, c, p, note, unit in rows:
        print(f"| {name} | {fmt(c, unit)} | {fmt(p, unit)} | {ratio(c, p)} | {note or ''} |")


if __name__ == "__main__":
    main()
