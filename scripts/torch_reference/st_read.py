"""Minimal safetensors reader (no safetensors package here): [u64 LE header size][JSON header][raw data]."""
import json
import struct

import numpy as np
import torch

_DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8, "F16": np.float16}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(blob, dtype=_DTYPES[info["dtype"]], count=(end - begin) // np.dtype(_DTYPES[info["dtype"]]).itemsize,
                              offset=base + begin).reshape(info["shape"])
        out[name] = torch.from_numpy(array.copy())
    return out


def set_threads(n):
    """torch.set_num_threads(n) and the same for OpenBLAS: this torch build (BLAS_INFO=generic) does not forward it."""
    import ctypes
    torch.set_num_threads(n)
    try:
        ctypes.CDLL("libopenblas.so.0").openblas_set_num_threads(n)
    except (OSError, AttributeError):
        pass


def openblas_threads():
    import ctypes
    try:
        return ctypes.CDLL("libopenblas.so.0").openblas_get_num_threads()
    except (OSError, AttributeError):
        return None
