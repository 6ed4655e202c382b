#!/usr/bin/python3
"""Which BLAS and thread pools this torch really uses (the benchmark means nothing on the reference BLAS)."""
import ctypes
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from st_read import openblas_threads, set_threads  # noqa: E402


def loaded_libraries():
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if path.endswith((".so",)) or ".so." in path:
                if any(s in path for s in ("blas", "lapack", "gomp", "dnnl", "mkl", "omp")):
                    libs.add(os.path.realpath(path))
    return sorted(libs)


def openblas_config():
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_config.restype = ctypes.c_char_p
        return {"config": lib.openblas_get_config().decode(), "num_threads": lib.openblas_get_num_threads()}
    except OSError as e:
        return {"error": str(e)}


def gflops(threads, n=1024, reps=5):
    set_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e9


def main():
    torch.ones(2, 2) @ torch.ones(2, 2)  # make sure the BLAS is loaded
    info = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "config_show": torch.__config__.show(),
        "parallel_info": torch.__config__.parallel_info(),
        "loaded_blas_like_libraries": loaded_libraries(),
        "openblas": openblas_config(),
        "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
        "sgemm_1024_gflops": {"1_thread": gflops(1), "2_threads": gflops(2), "openblas_threads_after": openblas_threads()},
        "cpu_count": os.cpu_count(),
        "loadavg": os.getloadavg(),
    }
    info["openblas_in_use"] = any("openblas" in p for p in info["loaded_blas_like_libraries"])
    text = json.dumps(info, indent=2)
    print(text)
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
