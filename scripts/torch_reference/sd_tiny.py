#!/usr/bin/python3
"""Plain-PyTorch reference UNets for the side-by-side benchmark with mindanim (C#/TorchSharp).

Written for this benchmark (no diffusers here): the diffusers 0.11.1 UNet2DConditionModel with SD v1.x's block layout
and the Tune-A-Video inflated UNet3DConditionModel, with the reference state-dict names so the golden fixtures load
with load_state_dict(strict=True).  The script first reproduces the fixture outputs (prints max |delta|, fails above
the README tolerance), then times: one UNet3D step and a 20-step DDIM loop with classifier-free guidance.

Usage: /usr/bin/python3 scripts/torch_reference/sd_tiny.py [--golden DIR] [--threads 1,2] [--repeats N] [--json OUT]
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from st_read import openblas_threads, read_safetensors, set_threads  # noqa: E402


def frames_to_batch(x):
    # (B, C, F, H, W) -> (B*F, C, H, W)
    b, c, f, h, w = x.shape
    return x.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)


def batch_to_frames(x, f):
    bf, c, h, w = x.shape
    return x.reshape(bf // f, f, c, h, w).permute(0, 2, 1, 3, 4)


class FrameConv(nn.Conv2d):
    """A 2-D conv; on a 5-D video tensor it is applied to every frame (Tune-A-Video's InflatedConv3d)."""

    def forward(self, x):
        if x.dim() == 5:
            return batch_to_frames(super().forward(frames_to_batch(x)), x.shape[2])
        return super().forward(x)


# Mirrors diffusers 0.11.1 src/diffusers/models/resnet.py (ResnetBlock2D) and Tune-A-Video tuneavideo/models/resnet.py (ResnetBlock3D).
class ResnetBlock(nn.Module):
    def __init__(self, cin, cout, temb, groups, eps):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps)
        self.conv1 = FrameConv(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps)
        self.dropout = nn.Dropout(0.0)
        self.conv2 = FrameConv(cout, cout, 3, padding=1)
        self.conv_shortcut = FrameConv(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        # GroupNorm on the 5-D tensor: statistics over all frames jointly, as Tune-A-Video does.
        h = self.conv1(F.silu(self.norm1(x)))
        t = self.time_emb_proj(F.silu(temb))
        h = h + t.reshape(t.shape + (1,) * (h.dim() - 2))
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return x + h


# Mirrors diffusers 0.11.1 src/diffusers/models/attention.py (CrossAttention), plus Tune-A-Video's SparseCausalAttention.
class Attention(nn.Module):
    def __init__(self, dim, heads, head_dim, context_dim=None, sparse_causal=False):
        super().__init__()
        inner = heads * head_dim
        self.heads = heads
        self.scale = head_dim ** -0.5
        self.sparse_causal = sparse_causal
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim or dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim or dim, inner, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(inner, dim), nn.Dropout(0.0)])

    def split(self, x):
        b, n, c = x.shape
        return x.reshape(b, n, self.heads, c // self.heads).permute(0, 2, 1, 3).reshape(b * self.heads, n, c // self.heads)

    def forward(self, x, context=None, video_length=None):
        q = self.to_q(x)
        src = x if context is None else context
        k, v = self.to_k(src), self.to_v(src)
        if self.sparse_causal:
            # frame i attends to the tokens of frame 0 and frame max(i-1, 0)
            f = video_length
            prev = [max(i - 1, 0) for i in range(f)]
            first = [0] * f

            def gather(t):
                t = t.reshape(t.shape[0] // f, f, t.shape[1], t.shape[2])
                return torch.cat([t[:, first], t[:, prev]], dim=2).reshape(-1, 2 * t.shape[2], t.shape[3])

            k, v = gather(k), gather(v)
        q, k, v = self.split(q) * self.scale, self.split(k), self.split(v)
        # scaling q (small) instead of the (tokens x keys) scores saves a full pass over the largest tensor;
        # torch 1.13 has no fused scaled_dot_product_attention, so the score matrix is materialised as in diffusers 0.11.1
        p = torch.softmax(torch.bmm(q, k.transpose(1, 2)), dim=-1)
        o = torch.bmm(p, v)
        bh, n, d = o.shape
        o = o.reshape(bh // self.heads, self.heads, n, d).permute(0, 2, 1, 3).reshape(bh // self.heads, n, self.heads * d)
        return self.to_out[1](self.to_out[0](o))


class GEGLU(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x):
        h, gate = self.proj(x).chunk(2, dim=-1)
        return h * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.net = nn.ModuleList([GEGLU(dim, dim * 4), nn.Dropout(0.0), nn.Linear(dim * 4, dim)])

    def forward(self, x):
        for m in self.net:
            x = m(x)
        return x


# Mirrors diffusers 0.11.1 src/diffusers/models/attention.py (BasicTransformerBlock) and Tune-A-Video tuneavideo/models/attention.py.
class TransformerBlock(nn.Module):
    def __init__(self, dim, heads, head_dim, context_dim, video):
        super().__init__()
        self.video = video
        parts = {
            "attn1": lambda: Attention(dim, heads, head_dim, sparse_causal=video),
            "ff": lambda: FeedForward(dim),
            "attn2": lambda: Attention(dim, heads, head_dim, context_dim=context_dim),
            "norm1": lambda: nn.LayerNorm(dim), "norm2": lambda: nn.LayerNorm(dim), "norm3": lambda: nn.LayerNorm(dim),
            "attn_temp": lambda: Attention(dim, heads, head_dim), "norm_temp": lambda: nn.LayerNorm(dim),
        }
        # registration order = each reference's state-dict order
        order = (["attn1", "norm1", "attn2", "norm2", "ff", "norm3", "attn_temp", "norm_temp"] if video
                 else ["attn1", "ff", "attn2", "norm1", "norm2", "norm3"])
        for name in order:
            self.add_module(name, parts[name]())

    def forward(self, x, context, video_length=None):
        x = self.attn1(self.norm1(x), video_length=video_length) + x
        x = self.attn2(self.norm2(x), context=context) + x
        x = self.ff(self.norm3(x)) + x
        if self.video:
            # (B*F, D, C) -> (B*D, F, C): full attention across frames per token position
            bf, d, c = x.shape
            f = video_length
            x = x.reshape(bf // f, f, d, c).permute(0, 2, 1, 3).reshape(-1, f, c)
            x = self.attn_temp(self.norm_temp(x)) + x
            x = x.reshape(bf // f, d, f, c).permute(0, 2, 1, 3).reshape(bf, d, c)
        return x


# Mirrors diffusers 0.11.1 src/diffusers/models/attention.py (Transformer2DModel) and Tune-A-Video tuneavideo/models/attention.py (Transformer3DModel).
class Transformer(nn.Module):
    def __init__(self, channels, heads, context_dim, groups, video):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.proj_in = nn.Conv2d(channels, channels, 1)
        self.transformer_blocks = nn.ModuleList([TransformerBlock(channels, heads, channels // heads, context_dim, video)])
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x, context):
        f = None
        if x.dim() == 5:
            f = x.shape[2]
            x = frames_to_batch(x)
            context = context.repeat_interleave(f, dim=0)
        residual = x
        bf, c, h, w = x.shape
        y = self.proj_in(self.norm(x)).permute(0, 2, 3, 1).reshape(bf, h * w, c)
        for block in self.transformer_blocks:
            y = block(y, context, video_length=f)
        y = self.proj_out(y.reshape(bf, h, w, c).permute(0, 3, 1, 2)) + residual
        return batch_to_frames(y, f) if f is not None else y


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = FrameConv(c, c, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = FrameConv(c, c, 3, padding=1)

    def forward(self, x, size):
        scale = (1.0, 2.0, 2.0) if x.dim() == 5 else 2.0
        x = F.interpolate(x, scale_factor=scale, mode="nearest") if size is None else F.interpolate(x, size=size, mode="nearest")
        return self.conv(x)


# Mirrors diffusers 0.11.1 src/diffusers/models/unet_2d_blocks.py (CrossAttnDownBlock2D, DownBlock2D, UNetMidBlock2DCrossAttn, UpBlock2D, CrossAttnUpBlock2D) and Tune-A-Video unet_blocks.py.
class DownBlock(nn.Module):
    def __init__(self, cin, cout, temb, layers, attn, heads, context_dim, groups, eps, downsample, video):
        super().__init__()
        if attn:  # registered before the resnets, as the reference does (state-dict order)
            self.attentions = nn.ModuleList([Transformer(cout, heads, context_dim, groups, video) for _ in range(layers)])
        self.resnets = nn.ModuleList([ResnetBlock(cin if i == 0 else cout, cout, temb, groups, eps) for i in range(layers)])
        self.has_attn = attn
        if downsample:
            self.downsamplers = nn.ModuleList([Downsample(cout)])
        self.has_down = downsample

    def forward(self, x, temb, context):
        states = []
        for i, resnet in enumerate(self.resnets):
            x = resnet(x, temb)
            if self.has_attn:
                x = self.attentions[i](x, context)
            states.append(x)
        if self.has_down:
            x = self.downsamplers[0](x)
            states.append(x)
        return x, states


class MidBlock(nn.Module):
    def __init__(self, c, temb, heads, context_dim, groups, eps, video):
        super().__init__()
        self.attentions = nn.ModuleList([Transformer(c, heads, context_dim, groups, video)])
        self.resnets = nn.ModuleList([ResnetBlock(c, c, temb, groups, eps), ResnetBlock(c, c, temb, groups, eps)])

    def forward(self, x, temb, context):
        x = self.resnets[0](x, temb)
        x = self.attentions[0](x, context)
        return self.resnets[1](x, temb)


class UpBlock(nn.Module):
    def __init__(self, cin, cprev, cout, temb, layers, attn, heads, context_dim, groups, eps, upsample, video):
        super().__init__()
        if attn:
            self.attentions = nn.ModuleList([Transformer(cout, heads, context_dim, groups, video) for _ in range(layers)])
        self.resnets = nn.ModuleList([
            ResnetBlock((cprev if i == 0 else cout) + (cin if i == layers - 1 else cout), cout, temb, groups, eps)
            for i in range(layers)])
        self.has_attn = attn
        if upsample:
            self.upsamplers = nn.ModuleList([Upsample(cout)])
        self.has_up = upsample

    def forward(self, x, skips, temb, context, size):
        for i, resnet in enumerate(self.resnets):
            x = resnet(torch.cat([x, skips.pop()], dim=1), temb)
            if self.has_attn:
                x = self.attentions[i](x, context)
        if self.has_up:
            x = self.upsamplers[0](x, size)
        return x


class TimestepEmbedding(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.linear_1 = nn.Linear(cin, cout)
        self.linear_2 = nn.Linear(cout, cout)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


# Mirrors diffusers 0.11.1 src/diffusers/models/unet_2d_condition.py (UNet2DConditionModel) and Tune-A-Video tuneavideo/models/unet.py (UNet3DConditionModel).
class UNetConditionModel(nn.Module):
    """SD-layout UNet built from a diffusers config dict; `video=True` gives the Tune-A-Video inflated 3-D model."""

    def __init__(self, config, video=False):
        super().__init__()
        ch = config["block_out_channels"]
        heads = config["attention_head_dim"]
        groups, eps = config["norm_num_groups"], config["norm_eps"]
        ctx = config["cross_attention_dim"]
        layers = config["layers_per_block"]
        temb = ch[0] * 4
        self.time_channels = ch[0]
        self.flip_sin_to_cos, self.freq_shift = config["flip_sin_to_cos"], config["freq_shift"]
        self.conv_in = FrameConv(config["in_channels"], ch[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(ch[0], temb)
        self.down_blocks = nn.ModuleList()
        cout = ch[0]
        for i, kind in enumerate(config["down_block_types"]):
            cin, cout = cout, ch[i]
            self.down_blocks.append(DownBlock(cin, cout, temb, layers, kind.startswith("CrossAttn"), heads, ctx, groups, eps,
                                              i < len(ch) - 1, video))
        self.up_blocks = nn.ModuleList()  # the reference registers up_blocks before mid_block
        self.mid_block = MidBlock(ch[-1], temb, heads, ctx, groups, eps, video)
        rev = list(reversed(ch))
        cout = rev[0]
        for i, kind in enumerate(config["up_block_types"]):
            cprev, cout = cout, rev[i]
            cin = rev[min(i + 1, len(ch) - 1)]
            self.up_blocks.append(UpBlock(cin, cprev, cout, temb, layers + 1, kind.startswith("CrossAttn"), heads, ctx, groups,
                                          eps, i < len(ch) - 1, video))
        self.conv_norm_out = nn.GroupNorm(groups, ch[0], eps=eps)
        self.conv_out = FrameConv(ch[0], config["out_channels"], 3, padding=1)

    def time_features(self, t, batch):
        half = self.time_channels // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / (half - self.freq_shift))
        t = t.reshape(-1).expand(batch).float()
        arg = t[:, None] * freqs[None]
        emb = torch.cat([torch.sin(arg), torch.cos(arg)], dim=-1)
        return torch.cat([emb[:, half:], emb[:, :half]], dim=-1) if self.flip_sin_to_cos else emb

    def forward(self, sample, timestep, encoder_hidden_states):
        if not torch.is_tensor(timestep):
            timestep = torch.tensor(timestep, dtype=torch.int64)
        temb = self.time_embedding(self.time_features(timestep, sample.shape[0]))
        x = self.conv_in(sample)
        skips = [x]
        for block in self.down_blocks:
            x, states = block(x, temb, encoder_hidden_states)
            skips.extend(states)
        x = self.mid_block(x, temb, encoder_hidden_states)
        for block in self.up_blocks:
            n = len(block.resnets)
            mine, skips = skips[-n:], skips[:-n]
            size = skips[-1].shape[-2:] if skips else None
            if size is not None and x.dim() == 5:
                size = (x.shape[2],) + tuple(size)
            x = block(x, mine, temb, encoder_hidden_states, size)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


class Ddim:
    """DDIM (eta 0) with SD v1.5's scheduler config: scaled_linear betas, steps_offset 1, set_alpha_to_one False."""

    def __init__(self, steps):
        betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float32) ** 2
        self.alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
        self.final = self.alphas_cumprod[0]
        self.ratio = 1000 // steps
        self.timesteps = [i * self.ratio + 1 for i in reversed(range(steps))]

    def step(self, eps, t, x):
        a_t = self.alphas_cumprod[t]
        prev = t - self.ratio
        a_prev = self.alphas_cumprod[prev] if prev >= 0 else self.final
        x0 = (x - (1 - a_t).sqrt() * eps) / a_t.sqrt()
        return a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps


def max_abs(a, b):
    return float((a - b).abs().max())


def check_equivalence(golden):
    """Reproduce the unet2d and unet3d_inflated fixtures; returns {name: max|delta|}; raises above the tolerance."""
    results = {}
    with open(os.path.join(golden, "unet2d", "config.json")) as f:
        cfg = json.load(f)
    w2 = read_safetensors(os.path.join(golden, "unet2d", "weights.safetensors"))
    io2 = read_safetensors(os.path.join(golden, "unet2d", "io.safetensors"))
    unet2d = UNetConditionModel(cfg).eval()
    unet2d.load_state_dict(w2, strict=True)
    with torch.no_grad():
        for name, t, ctx in [("t10", io2["input.timestep.t10"], "input.encoder_hidden_states"),
                             ("t981", io2["input.timestep.t981"], "input.encoder_hidden_states"),
                             ("tvec", io2["input.timestep.tvec"], "input.encoder_hidden_states"),
                             ("t500_ctx20", torch.tensor(500), "input.encoder_hidden_states_20")]:
            out = unet2d(io2["input.sample"], t, io2[ctx])
            results[f"unet2d output.{name}.sample"] = max_abs(out, io2[f"output.{name}.sample"])
    d3 = os.path.join(golden, "unet3d_inflated")
    io3 = read_safetensors(os.path.join(d3, "io.safetensors"))
    unet3d = UNetConditionModel(cfg, video=True).eval()
    state = dict(w2)
    state.update(read_safetensors(os.path.join(d3, "weights_temporal_init.safetensors")))
    with open(os.path.join(d3, "state_dict_keys.json")) as f:
        keys = json.load(f)
    expected = [(k, list(shape)) for k, shape in keys["state_dict_order"]]
    mine = [(k, list(v.shape)) for k, v in unet3d.state_dict().items()]
    assert expected == mine, "UNet3D state-dict names/order/shapes differ from state_dict_keys.json"
    assert list(w2) == list(unet2d.state_dict()), "UNet2D state-dict order differs from weights.safetensors"
    unet3d.load_state_dict(state, strict=True)
    with torch.no_grad():
        out = unet3d(io3["input.sample"], io3["input.timestep"], io3["input.encoder_hidden_states"])
        results["unet3d_inflated output.sample"] = max_abs(out, io3["output.sample"])
        out = unet3d(io3["check.same_frames.input"], io3["input.timestep"], io3["input.encoder_hidden_states"])
        results["unet3d_inflated check.same_frames.sample"] = max_abs(out, io3["check.same_frames.sample"])
        state.update(read_safetensors(os.path.join(d3, "weights_temporal_active.safetensors")))
        unet3d.load_state_dict(state, strict=True)
        out = unet3d(io3["input.sample"], io3["input.timestep"], io3["input.encoder_hidden_states"])
        results["unet3d_inflated output_temporal_active.sample"] = max_abs(out, io3["output_temporal_active.sample"])
    atol = 3e-5  # README: suggested atol 3e-05 for unet2d and unet3d_inflated
    for k, v in results.items():
        print(f"equivalence {k}: max|delta| = {v:.3g} (atol {atol:g})", flush=True)
        if not v <= atol:
            raise SystemExit(f"equivalence FAILED for {k}: {v} > {atol}")
    return results, cfg


def median_seconds(fn, repeats, warm_up=True):
    if warm_up:
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def ddim_loop(unet, latents, cond, uncond, steps, guidance=12.5):
    sched = Ddim(steps)
    context = torch.cat([uncond, cond])
    x = latents
    for t in sched.timesteps:
        eps_u, eps_c = unet(torch.cat([x, x]), torch.tensor(t), context).chunk(2)
        x = sched.step(eps_u + guidance * (eps_c - eps_u), t, x)
    return x


def load_avg():
    return os.getloadavg()[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--golden", default=os.environ.get("MINDANIM_GOLDEN", "/work/shared/golden"))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--loop-repeats", type=int, default=1)
    ap.add_argument("--loop-sizes", default="16,32", help="latent sizes of the 20-step DDIM loops to time ('' = none)")
    ap.add_argument("--json")
    args = ap.parse_args()
    eq, cfg = check_equivalence(args.golden)
    torch.manual_seed(0)
    unet = UNetConditionModel(cfg, video=True).eval()
    g = torch.Generator().manual_seed(1)
    timings = []
    with torch.no_grad():
        thread_counts = [int(s) for s in args.threads.split(",")]
        first_threads = thread_counts[0]
        for n in thread_counts:
            set_threads(n)
            row = {"threads": n, "torch_threads": torch.get_num_threads(), "openblas_threads": openblas_threads()}
            lat32 = torch.randn(1, 4, 8, 32, 32, generator=g)
            lat16 = torch.randn(1, 4, 8, 16, 16, generator=g)
            ctx77 = torch.randn(1, 77, 32, generator=g)
            cond, uncond = torch.randn(1, 20, 32, generator=g), torch.randn(1, 20, 32, generator=g)
            ctx20 = torch.cat([uncond, cond])
            cases = [
                ("unet3d_step_b1_ctx77_32x32", lambda: unet(lat32, torch.tensor(500), ctx77), args.repeats,
                 "batch 1, 77-token context: what `mindanim bench unet-tiny` times"),
                ("unet3d_step_cfg_b2_ctx20_32x32", lambda: unet(torch.cat([lat32, lat32]), torch.tensor(500), ctx20), args.repeats,
                 "CFG batch 2, 20-token context"),
            ]
            loops = {
                "16": ("ddim20_cfg_16x16", lambda: ddim_loop(unet, lat16, cond, uncond, 20),
                       "20 DDIM steps, guidance 12.5, batch 2, 1x4x8x16x16: the UNet+DDIM part of `mindanim bench tiny-pipeline`"),
                "32": ("ddim20_cfg_32x32", lambda: ddim_loop(unet, lat32, cond, uncond, 20),
                       "20 DDIM steps, guidance 12.5, batch 2, 1x4x8x32x32"),
            }
            # the loops are long on a loaded 2-core machine: time them with the first thread count only
            if n == first_threads:
                cases += [(name, fn, args.loop_repeats, note) for key, (name, fn, note) in loops.items()
                          if key in args.loop_sizes.split(",")]
            for name, fn, reps, note in cases:
                before = load_avg()
                # the loops run after the steps have warmed the model up: no extra warm-up loop
                med, all_times = median_seconds(fn, reps, warm_up=not name.startswith("ddim"))
                row[name] = {"median_s": med, "runs_s": all_times, "note": note,
                             "loadavg_1min_before": before, "loadavg_1min_after": load_avg()}
                print(f"threads={n} {name}: median {med * 1000:.1f} ms over {reps} runs (load {before:.1f}->{load_avg():.1f})", flush=True)
            timings.append(row)
    result = {
        "benchmark": "torch-sd-tiny",
        "torch": torch.__version__,
        "equivalence_max_abs": eq,
        "timings": timings,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu_count": os.cpu_count(),
        "loadavg_end": os.getloadavg(),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
