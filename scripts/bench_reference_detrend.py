#!/usr/bin/python3
"""Times the reference approach of the official CC2017 preprocessing for comparison with `mindanim bench neuro-import`:
nibabel get_fdata() of a 245 x 91,282 float32 dense time series, and a per-voxel numpy.polyfit (order 4) detrend loop
plus z-score over 240 volumes. The polyfit loop is timed on a subset of voxels and scaled to the full width.

Needs Debian's python3-nibabel (brings numpy). Usage: scripts/bench_reference_detrend.py [--voxels-timed 3000]
"""
import argparse
import os
import tempfile
import time

import nibabel as nib
import numpy as np


def detrend_loop(data, order):
    nt = data.shape[0]
    t = np.linspace(0, 1, nt)
    out = np.zeros(data.shape)
    for v in range(data.shape[1]):
        fit = np.polyfit(t, data[:, v], order)
        out[:, v] = data[:, v] - np.polyval(fit, t)
    return (out - out.mean(axis=0)) / out.std(axis=0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--voxels-timed", type=int, default=3000)
    args = parser.parse_args()
    volumes, columns, cortex = 245, 91282, 59412
    rng = np.random.default_rng(1)
    data = (1000 + 10 * rng.random((volumes, columns))).astype(np.float32)

    left, right = cortex // 2, cortex - cortex // 2
    bm = (nib.cifti2.BrainModelAxis.from_surface(np.arange(left), 32492, "CortexLeft")
          + nib.cifti2.BrainModelAxis.from_surface(np.arange(right), 32492, "CortexRight"))
    vox = np.stack([np.arange(columns - cortex) % 91, np.arange(columns - cortex) // 91 % 109,
                    np.arange(columns - cortex) // (91 * 109)], axis=1)
    affine = np.array([[-2, 0, 0, 90], [0, 2, 0, -126], [0, 0, 2, -72], [0, 0, 0, 1]], float)
    bm = bm + nib.cifti2.BrainModelAxis(name=["CIFTI_STRUCTURE_BRAIN_STEM"] * len(vox), voxel=vox, affine=affine, volume_shape=(91, 109, 91))
    series = nib.cifti2.SeriesAxis(start=0, step=2, size=volumes)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "run.dtseries.nii")
        nib.Cifti2Image(data, header=(series, bm)).to_filename(path)
        size_mb = os.path.getsize(path) / 1e6
        nib.load(path).get_fdata()
        best = min(timed(lambda: nib.load(path).get_fdata()) for _ in range(3))
        print(f"nibabel_get_fdata_full {size_mb / best:.1f} MB/s ({best:.3f} s for {size_mb:.0f} MB)")
        best = min(timed(lambda: np.asarray(nib.load(path).get_fdata()[1:241, :cortex])) for _ in range(3))
        print(f"nibabel_get_fdata_cortex_slice {best:.3f} s (official [[1+j for j in range(240)], :59412] indexing)")

    sub = data[1:241, : args.voxels_timed].astype(np.float64)
    seconds = timed(lambda: detrend_loop(sub, 4))
    for width in (columns, cortex):
        print(f"polyfit_loop_detrend_zscore_{width} {seconds * width / args.voxels_timed:.2f} s (timed on {args.voxels_timed} voxels, scaled)")


def timed(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
