#!/usr/bin/python3
"""Plain-PyTorch reference of Mind-Animator's three fMRI decoders, for the side-by-side training benchmark.

Written for this benchmark from REFERENCE.md and the mind_animator_decoders fixture README; state-dict names equal
models/Decoder.py.  The script first proves the modules: names/shapes at full size equal full_size_state_dicts.json,
and the small fixture models (strict load) reproduce the fixture outputs (prints max |delta|).  Then it times one
training step (forward + backward + Adam step) at full size (4500 voxels, batch 64) for each decoder and extrapolates
to one epoch of 4000 clips (63 batches); peak RSS via resource.getrusage.

Usage: /usr/bin/python3 scripts/torch_reference/decoders.py [--golden DIR] [--which semantic,structure,motion]
       [--steps N] [--threads N] [--json OUT]
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from st_read import openblas_threads, read_safetensors, set_threads  # noqa: E402


def residual_mlp(x, blocks):
    residual = x
    for block in blocks:
        x = block(x) + residual
        residual = x
    return x


# Mirrors Mind-Animator models/Decoder.py (Semantic_decoder).
class SemanticDecoder(nn.Module):
    def __init__(self, in_dim=4500, out_dim=19 * 768, h=512, n_blocks=3, widths=(2048, 4096), tokens=(19, 768)):
        super().__init__()
        self.tokens = tokens
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.lin0 = nn.Sequential(nn.Linear(in_dim, h), nn.LayerNorm(h), nn.GELU(), nn.Dropout(0.3))
        self.mlp = nn.ModuleList([nn.Sequential(nn.Linear(h, h), nn.LayerNorm(h), nn.GELU(), nn.Dropout(0.15))
                                  for _ in range(n_blocks)])
        w1, w2 = widths
        self.lin1 = nn.Sequential(nn.LayerNorm(h), nn.GELU(), nn.Linear(h, w1), nn.LayerNorm(w1), nn.GELU(),
                                  nn.Linear(w1, w2), nn.LayerNorm(w2), nn.GELU(), nn.Linear(w2, out_dim))

    def forward(self, x, clip_t, clip_i):
        x = residual_mlp(self.lin0(x), self.mlp)
        y = self.lin1(x)
        scale = self.logit_scale.exp()
        fmri = x / x.norm(dim=-1, keepdim=True)
        logits_t = fmri @ (clip_t / clip_t.norm(dim=-1, keepdim=True)).t() * scale
        logits_i = fmri @ (clip_i / clip_i.norm(dim=-1, keepdim=True)).t() * scale
        return x, y.view(-1, *self.tokens), logits_t, logits_i


# Mirrors Mind-Animator models/Decoder.py (Strcuture_decoder).
class StructureDecoder(nn.Module):
    def __init__(self, in_dim=4500, out_dim=4 * 64 * 64, h=1024, n_blocks=2):
        super().__init__()
        self.lin0 = nn.Sequential(nn.Linear(in_dim, h), nn.Dropout(0.2))
        self.mlp = nn.ModuleList([nn.Sequential(nn.Linear(h, h), nn.Dropout(0.2)) for _ in range(n_blocks)])
        self.lin1 = nn.Sequential(nn.LayerNorm(h), nn.ReLU(), nn.Linear(h, out_dim))

    def forward(self, x):
        return self.lin1(residual_mlp(self.lin0(x), self.mlp)).view(x.shape[0], 1, -1)


class StdLayerNorm(nn.Module):
    """Mind-Animator's LayerNorm: unbiased std, eps added to the std (not the variance)."""

    def __init__(self, size, eps=1e-6):
        super().__init__()
        self.a_2 = nn.Parameter(torch.ones(size))
        self.b_2 = nn.Parameter(torch.zeros(size))
        self.eps = eps

    def forward(self, x):
        return self.a_2 * (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True) + self.eps) + self.b_2


class MultiHeadAttention(nn.Module):
    def __init__(self, heads, d_model, width, dropout):
        super().__init__()
        self.heads, self.d_k = heads, width // heads
        self.linears = nn.ModuleList([nn.Linear(d_model, width) for _ in range(3)])
        self.linears1 = nn.Linear(width, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, q, k, v, mask=None):
        b = q.shape[0]
        q, k, v = [lin(t).view(b, -1, self.heads, self.d_k).transpose(1, 2) for lin, t in zip(self.linears, (q, k, v))]
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(mask.unsqueeze(1) == 0, -1e9)
        x = self.dropout(scores.softmax(-1)) @ v
        return self.linears1(x.transpose(1, 2).reshape(b, -1, self.heads * self.d_k))


class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, dropout):
        super().__init__()
        self.w_1 = nn.Linear(d_model, d_ff)
        self.w_2 = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.w_2(self.dropout(F.relu(self.w_1(x))))


class Sublayer(nn.Module):
    def __init__(self, size, dropout):
        super().__init__()
        self.norm = StdLayerNorm(size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, fn):
        return x + self.norm(self.dropout(fn(x)))  # norm on the sub-layer output (post-sublayer), not pre-norm


class DecoderLayer(nn.Module):
    def __init__(self, d_model, d_ff, heads, width, dropout):
        super().__init__()
        self.self_attn = MultiHeadAttention(heads, d_model, width, 0.15)
        self.src_attn = MultiHeadAttention(heads, d_model, width, 0.15)
        self.feed_forward = FeedForward(d_model, d_ff, dropout)
        self.sublayer = nn.ModuleList([Sublayer(d_model, dropout) for _ in range(3)])

    def forward(self, x, memory, tgt_mask):
        x = self.sublayer[0](x, lambda t: self.self_attn(t, t, t, tgt_mask))
        x = self.sublayer[1](x, lambda t: self.src_attn(t, memory, memory, None))
        return self.sublayer[2](x, self.feed_forward)


class TransformerDecoder(nn.Module):
    def __init__(self, n, d_model, d_ff, heads, width, dropout):
        super().__init__()
        self.layers = nn.ModuleList([DecoderLayer(d_model, d_ff, heads, width, dropout) for _ in range(n)])
        self.norm = StdLayerNorm(d_model)

    def forward(self, x, memory, tgt_mask):
        for layer in self.layers:
            x = layer(x, memory, tgt_mask)
        return self.norm(x)


class BrainEncoder(nn.Module):
    def __init__(self, out_dim, in_dim, h, n_blocks=1):
        super().__init__()
        self.lin0 = nn.Sequential(nn.Linear(in_dim, h), nn.LayerNorm(h), nn.GELU(), nn.Dropout(0.3))
        self.mlp = nn.ModuleList([nn.Sequential(nn.Linear(h, h), nn.LayerNorm(h), nn.GELU(), nn.Dropout(0.15))
                                  for _ in range(n_blocks)])
        self.lin1 = nn.Linear(h, out_dim)

    def forward(self, x):
        return self.lin1(residual_mlp(self.lin0(x), self.mlp))


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout, max_len=10):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        pe = torch.zeros(max_len, d_model)
        pos = torch.arange(0, max_len).unsqueeze(1)
        div = torch.exp(torch.arange(0, d_model, 2) * -(math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("pe", pe.unsqueeze(0))

    def forward(self, x):
        return self.dropout(x + self.pe[:, :x.shape[1]])


# Mirrors Mind-Animator models/Decoder.py (make_CMG_model / EncoderDecoder).
class ConsistencyMotionGenerator(nn.Module):
    def __init__(self, n=2, d_model=16384, d_ff=768, heads=4, dropout=0.2, width=None, in_dim=4500, enc_h=768):
        super().__init__()
        width = width or d_model // 16  # 1024 at d_model 16384, as the reference hard-codes
        self.encoder = BrainEncoder(d_model, in_dim, enc_h)
        self.decoder = TransformerDecoder(n, d_model, d_ff, heads, width, dropout)
        self.tgt_embed = nn.Sequential(nn.Identity(), PositionalEncoding(d_model, dropout))
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def encode(self, src):
        return self.encoder(src)

    def forward(self, src, tgt, tgt_mask):
        return self.decoder(self.tgt_embed(tgt), self.encode(src), tgt_mask)


def info_nce(logits):
    labels = torch.arange(logits.shape[0])
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels))


def semantic_loss(model, batch):
    x, y, lt, li = model(batch["fmri"], batch["clip_t"], batch["clip_i"])
    return (F.mse_loss(x, batch["clip_t"]) + 0.01 * 0.5 * (info_nce(lt) + info_nce(li))
            + 0.5 * F.mse_loss(y, batch["tokens"]))


def l1_penalty(model):
    return sum(p.abs().sum() for n, p in model.named_parameters() if n.endswith("weight"))


def structure_loss(model, batch):
    return F.mse_loss(model(batch["fmri"]), batch["first_frame"]) + 4e-6 * l1_penalty(model)


def sparse_causal_mask(size, keep_ratio, gen):
    # lower-triangular; rows > 1 hide each visible non-first column with probability 1 - keep_ratio
    mask = torch.tril(torch.ones(size, size))
    drop = (torch.rand(size, size, generator=gen) < 1 - keep_ratio) & (torch.arange(size)[:, None] > 1)
    drop[:, 0] = False
    return mask.masked_fill(drop, 0).unsqueeze(0)


def motion_loss(model, batch, gen):
    frames = batch["latents"]  # (B, 8, d_model): teacher forcing 0..6 -> 1..7
    out = model(batch["fmri"], frames[:, :-1], sparse_causal_mask(frames.shape[1] - 1, 0.6, gen))
    return F.mse_loss(out, frames[:, 1:]) + 6e-7 * l1_penalty(model)


def max_abs(a, b):
    return float((a - b).abs().max())


def check_equivalence(golden):
    d = os.path.join(golden, "mind_animator_decoders")
    with open(os.path.join(d, "full_size_state_dicts.json")) as f:
        full = json.load(f)
    full_models = {"semantic": lambda: SemanticDecoder(), "structure": lambda: StructureDecoder(),
                   "cmg": lambda: ConsistencyMotionGenerator()}
    names_ok = {}
    for key, build in full_models.items():
        model = build()
        mine = [(k, list(v.shape)) for k, v in model.state_dict().items()]
        expected = [(e["key"], list(e["shape"])) for e in full[key]["state_dict"]]
        n_params = sum(p.numel() for p in model.parameters())
        if mine != expected or n_params != full[key]["n_parameters"]:
            raise SystemExit(f"full-size {key}: state dict differs from full_size_state_dicts.json")
        names_ok[key] = {"tensors": len(mine), "parameters": n_params}
        print(f"full-size {key}: {len(mine)} tensors, {n_params:,} parameters, names/shapes/order equal the fixture", flush=True)
        del model
    io = read_safetensors(os.path.join(d, "io.safetensors"))
    with open(os.path.join(d, "small_models.json")) as f:
        small = json.load(f)
    res = {}
    with torch.no_grad():
        kw = small["semantic_small"]["kwargs"]
        sem = SemanticDecoder(kw["in_dim"], kw["out_dim"], kw["h"], kw["n_blocks"], widths=(48, 64)).eval()
        sem.load_state_dict(read_safetensors(os.path.join(d, "semantic_small.weights.safetensors")), strict=True)
        outs = sem(io["small.semantic.input.x"], io["small.semantic.input.y_CLIP_t"], io["small.semantic.input.y_CLIP_i"])
        for name, o in zip(["x", "y", "logits_per_fMRI_t", "logits_per_fMRI_i"], outs):
            res[f"small.semantic.output.{name}"] = (max_abs(o, io[f"small.semantic.output.{name}"]), 2e-5)
        kw = small["structure_small"]["kwargs"]
        st = StructureDecoder(kw["in_dim"], kw["out_dim"], kw["h"], kw["n_blocks"]).eval()
        st.load_state_dict(read_safetensors(os.path.join(d, "structure_small.weights.safetensors")), strict=True)
        res["small.structure.output"] = (max_abs(st(io["small.structure.input.x"]), io["small.structure.output"]), 1e-5)
        kw = small["cmg_small"]["kwargs"]
        cmg = ConsistencyMotionGenerator(kw["N"], kw["d_model"], kw["d_ff"], kw["h"], kw["dropout"], in_dim=64, enc_h=48).eval()
        cmg.load_state_dict(read_safetensors(os.path.join(d, "cmg_small.weights.safetensors")), strict=True)
        src, tgt = io["small.cmg.input.src"], io["small.cmg.input.tgt"]
        tol = {"causal": 4e-5, "ratio0": 3e-5, "sparse_seed7_ratio0.5": 6e-5}
        for m, t in tol.items():
            out = cmg(src, tgt, io[f"small.cmg.mask.{m}"])
            res[f"small.cmg.output.forward.{m}"] = (max_abs(out, io[f"small.cmg.output.forward.{m}"]), t)
        res["small.cmg.output.memory"] = (max_abs(cmg.encode(src), io["small.cmg.output.memory"]), 3e-5)
    for k, (v, tol) in res.items():
        print(f"equivalence {k}: max|delta| = {v:.3g} (atol {tol:g})", flush=True)
        if not v <= tol:
            raise SystemExit(f"equivalence FAILED for {k}: {v} > {tol}")
    return {k: v for k, (v, _) in res.items()}, names_ok


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def time_training(kind, steps, batch=64, voxels=4500, clips=4000):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    mask_gen = torch.Generator().manual_seed(2)
    if kind == "semantic":
        model = SemanticDecoder()
        data = {"fmri": torch.randn(batch, voxels, generator=g), "clip_t": torch.randn(batch, 512, generator=g),
                "clip_i": torch.randn(batch, 512, generator=g), "tokens": torch.randn(batch, 19, 768, generator=g)}
        opt = torch.optim.Adam(model.parameters(), lr=2e-4)
        loss_fn = semantic_loss
        note = "MSE(x, CLIP text) + 0.01*(InfoNCE_t + InfoNCE_i)/2 + 0.5*MSE(19x768); 10% voxels zeroed"
        voxel_drop = 0.1
    elif kind == "structure":
        model = StructureDecoder()
        data = {"fmri": torch.randn(batch, voxels, generator=g), "first_frame": torch.randn(batch, 1, 16384, generator=g)}
        opt = torch.optim.Adam(model.parameters(), lr=1e-6)
        loss_fn = structure_loss
        note = "MSE + 4e-6 * L1 of all weights; 20% voxels zeroed"
        voxel_drop = 0.2
    else:
        model = ConsistencyMotionGenerator()
        data = {"fmri": torch.randn(batch, voxels, generator=g), "latents": torch.randn(batch, 8, 16384, generator=g)}
        opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
        loss_fn = lambda m, b: motion_loss(m, b, mask_gen)  # noqa: E731
        note = "teacher forcing frames 0..6 -> 1..7, MSE + 6e-7 * L1, sparse causal mask (keep 0.6) per batch; Adam(0.9,0.98,1e-9)"
        voxel_drop = 0.0
    model.train()
    n_params = sum(p.numel() for p in model.parameters())

    def step():
        b = dict(data)
        if voxel_drop:
            b["fmri"] = b["fmri"] * (torch.rand(b["fmri"].shape, generator=g) >= voxel_drop)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model, b)
        loss.backward()
        opt.step()
        return float(loss)

    before = os.getloadavg()[0]
    t0 = time.perf_counter()
    step()
    warm = time.perf_counter() - t0
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    per = sorted(times)[len(times) // 2]
    batches = math.ceil(clips / batch)
    out = {
        "decoder": kind, "parameters": n_params, "batch": batch, "voxels": voxels,
        "warmup_step_s": warm, "step_s_runs": times, "step_s_median": per,
        "epoch_train_batches": batches, "epoch_s_extrapolated": per * batches,
        "extrapolation": f"median of {steps} timed steps (after 1 warm-up) x {batches} batches ({clips} clips / {batch})",
        "loss": note, "rss_now_mib": rss_mib(),
        "peak_rss_mib_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "loadavg_1min_before": before, "loadavg_1min_after": os.getloadavg()[0], "torch_threads": torch.get_num_threads(), "openblas_threads": openblas_threads(),
    }
    print(f"{kind}: {per:.3f} s/step (warm-up {warm:.2f} s), epoch ~ {per * batches:.1f} s, peak RSS "
          f"{out['peak_rss_mib_process']:.0f} MiB (load {before:.1f}->{out['loadavg_1min_after']:.1f})", flush=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--golden", default=os.environ.get("MINDANIM_GOLDEN", "/work/shared/golden"))
    ap.add_argument("--which", default="semantic,structure,motion")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--skip-check", action="store_true", help="time only (scripts/bench-torch runs the check once, then "
                    "each decoder in its own process so peak RSS is per decoder)")
    ap.add_argument("--json")
    args = ap.parse_args()
    set_threads(args.threads)
    result = {"benchmark": "torch-decoders", "torch": torch.__version__, "threads": args.threads}
    if not args.skip_check:
        eq, names = check_equivalence(args.golden)
        result["equivalence_max_abs"], result["full_size_state_dicts"] = eq, names
    result["training"] = [time_training(k, args.steps) for k in args.which.split(",") if k]
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["loadavg_end"] = os.getloadavg()
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
