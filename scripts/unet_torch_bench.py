#!/usr/bin/env python3
"""PyTorch side of the UNet benchmark: the same SD-layout UNet (2-D and Tune-A-Video-inflated 3-D) written in
plain torch (diffusers is not installed here), state-dict names as in diffusers, timed on the same workloads as
`mindanim bench unet-tiny` / `unet-sd15-cpu`.

With --check GOLDEN (the shared golden folder) it first proves it is the same model: it loads the unet2d /
unet3d_inflated fixture weights and compares with their stored outputs.

Usage: /usr/bin/python3 scripts/unet_torch_bench.py [--check ../shared/golden] [--sd15] [--threads N] [--repeats N] [--loop-steps N]
Needs Debian's python3-torch (and libopenblas0-pthread).
"""
import argparse
import json
import math
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def conv(cin, cout, k=3, stride=1):
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)


def group_norm_frames(norm, x, frames):
    """GroupNorm with statistics over all frames of a clip; x is (B*F, C, H, W)."""
    if frames == 1:
        return norm(x)
    n, c, h, w = x.shape
    clip = x.view(n // frames, frames, c, h, w).transpose(1, 2)
    return norm(clip).transpose(1, 2).reshape(n, c, h, w)


class Resnet(nn.Module):
    def __init__(self, cin, cout, temb, groups, eps):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps)
        self.conv1 = conv(cin, cout)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps)
        self.conv2 = conv(cout, cout)
        self.conv_shortcut = conv(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb, frames):
        h = self.conv1(F.silu(group_norm_frames(self.norm1, x, frames)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(group_norm_frames(self.norm2, h, frames)))
        return (x if self.conv_shortcut is None else self.conv_shortcut(x)) + h


class Attention(nn.Module):
    def __init__(self, dim, context_dim, heads):
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(context_dim, dim, bias=False)
        self.to_v = nn.Linear(context_dim, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim), nn.Dropout(0.0)])

    def attend(self, q, k, v):
        n, l, c = q.shape
        split = lambda t: t.view(t.shape[0], t.shape[1], self.heads, c // self.heads).transpose(1, 2)
        if hasattr(F, "scaled_dot_product_attention"):
            out = F.scaled_dot_product_attention(split(q), split(k), split(v))
        else:  # torch 1.13 has no SDPA
            qh, kh, vh = split(q), split(k), split(v)
            out = torch.softmax(qh @ kh.transpose(-1, -2) / math.sqrt(c // self.heads), -1) @ vh
        return self.to_out[0](out.transpose(1, 2).reshape(n, l, c))

    def forward(self, x, context=None):
        src = x if context is None else context
        return self.attend(self.to_q(x), self.to_k(src), self.to_v(src))

    def sparse_causal(self, x, frames):
        def first_prev(t):
            n, l, c = t.shape
            clip = t.view(n // frames, frames, l, c)
            prev = torch.cat([clip[:, :1], clip[:, : frames - 1]], 1)
            return torch.cat([clip[:, :1].expand_as(clip), prev], 2).reshape(n, 2 * l, c)

        return self.attend(self.to_q(x), first_prev(self.to_k(x)), first_prev(self.to_v(x)))


class GEGLU(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x):
        h, gate = self.proj(x).chunk(2, -1)
        return h * F.gelu(gate)


class Block(nn.Module):
    def __init__(self, dim, context_dim, heads, temporal):
        super().__init__()
        self.attn1 = Attention(dim, dim, heads)
        self.norm1 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, context_dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Module()
        self.ff.net = nn.ModuleList([GEGLU(dim, 4 * dim), nn.Dropout(0.0), nn.Linear(4 * dim, dim)])
        self.norm3 = nn.LayerNorm(dim)
        self.temporal = temporal
        if temporal:
            self.attn_temp = Attention(dim, dim, heads)
            self.norm_temp = nn.LayerNorm(dim)

    def forward(self, x, context, frames):
        n1 = self.norm1(x)
        x = (self.attn1.sparse_causal(n1, frames) if self.temporal else self.attn1(n1)) + x
        x = self.attn2(self.norm2(x), context) + x
        h = self.norm3(x)
        for layer in self.ff.net:
            h = layer(h)
        x = h + x
        if self.temporal:
            n, l, c = x.shape
            t = x.view(n // frames, frames, l, c).transpose(1, 2).reshape(-1, frames, c)
            t = self.attn_temp(self.norm_temp(t)) + t
            x = t.view(n // frames, l, frames, c).transpose(1, 2).reshape(n, l, c)
        return x


class Transformer(nn.Module):
    def __init__(self, channels, context_dim, heads, groups, temporal):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels, 1e-6)
        self.proj_in = conv(channels, channels, 1)
        self.transformer_blocks = nn.ModuleList([Block(channels, context_dim, heads, temporal)])
        self.proj_out = conv(channels, channels, 1)

    def forward(self, x, context, frames):
        n, c, h, w = x.shape
        t = self.proj_in(self.norm(x)).permute(0, 2, 3, 1).reshape(n, h * w, c)
        for block in self.transformer_blocks:
            t = block(t, context, frames)
        return self.proj_out(t.reshape(n, h, w, c).permute(0, 3, 1, 2)) + x


class Sampler(nn.Module):
    def __init__(self, channels, down):
        super().__init__()
        self.down = down
        self.conv = conv(channels, channels, 3, 2 if down else 1)

    def forward(self, x):
        return self.conv(x if self.down else F.interpolate(x, scale_factor=2.0, mode="nearest"))


class UNet(nn.Module):
    """SD v1.x layout: cross-attention in all but the last down block and the first up block."""

    def __init__(self, channels, layers, context_dim, heads, groups=32, eps=1e-5, temporal=False):
        super().__init__()
        temb = channels[0] * 4
        n = len(channels)
        self.conv_in = conv(4, channels[0])
        self.time_embedding = nn.Module()
        self.time_embedding.linear_1 = nn.Linear(channels[0], temb)
        self.time_embedding.linear_2 = nn.Linear(temb, temb)
        self.down_blocks = nn.ModuleList()
        cout = channels[0]
        for i in range(n):
            cin, cout = cout, channels[i]
            b = nn.Module()
            if i < n - 1:
                b.attentions = nn.ModuleList([Transformer(cout, context_dim, heads, groups, temporal) for _ in range(layers)])
            b.resnets = nn.ModuleList([Resnet(cin if j == 0 else cout, cout, temb, groups, eps) for j in range(layers)])
            if i < n - 1:
                b.downsamplers = nn.ModuleList([Sampler(cout, True)])
            self.down_blocks.append(b)
        self.up_blocks = nn.ModuleList()
        rev = channels[::-1]
        cout = rev[0]
        for i in range(n):
            prev, cout, cin = cout, rev[i], rev[min(i + 1, n - 1)]
            b = nn.Module()
            if i > 0:
                b.attentions = nn.ModuleList([Transformer(cout, context_dim, heads, groups, temporal) for _ in range(layers + 1)])
            b.resnets = nn.ModuleList([
                Resnet((prev if j == 0 else cout) + (cin if j == layers else cout), cout, temb, groups, eps) for j in range(layers + 1)])
            if i < n - 1:
                b.upsamplers = nn.ModuleList([Sampler(cout, False)])
            self.up_blocks.append(b)
        self.mid_block = nn.Module()
        self.mid_block.attentions = nn.ModuleList([Transformer(rev[0], context_dim, heads, groups, temporal)])
        self.mid_block.resnets = nn.ModuleList([Resnet(rev[0], rev[0], temb, groups, eps) for _ in range(2)])
        self.conv_norm_out = nn.GroupNorm(groups, channels[0], eps)
        self.conv_out = conv(channels[0], 4)

    def forward(self, sample, timestep, context):
        frames = 1
        if sample.dim() == 5:
            b, c, frames, h, w = sample.shape
            sample = sample.permute(0, 2, 1, 3, 4).reshape(b * frames, c, h, w)
        half = self.conv_in.out_channels // 2
        t = timestep.reshape(-1).expand(sample.shape[0] // frames).float()
        freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
        args = t[:, None] * freqs[None]
        temb = self.time_embedding.linear_2(F.silu(self.time_embedding.linear_1(torch.cat([args.cos(), args.sin()], 1))))
        temb = temb.repeat_interleave(frames, 0)
        context = context.repeat_interleave(frames, 0)
        x = self.conv_in(sample)
        skips = [x]
        for b in self.down_blocks:
            for j, r in enumerate(b.resnets):
                x = r(x, temb, frames)
                if hasattr(b, "attentions"):
                    x = b.attentions[j](x, context, frames)
                skips.append(x)
            if hasattr(b, "downsamplers"):
                x = b.downsamplers[0](x)
                skips.append(x)
        m = self.mid_block
        x = m.resnets[1](m.attentions[0](m.resnets[0](x, temb, frames), context, frames), temb, frames)
        for b in self.up_blocks:
            for j, r in enumerate(b.resnets):
                x = r(torch.cat([x, skips.pop()], 1), temb, frames)
                if hasattr(b, "attentions"):
                    x = b.attentions[j](x, context, frames)
            if hasattr(b, "upsamplers"):
                x = b.upsamplers[0](x)
        x = self.conv_out(F.silu(group_norm_frames(self.conv_norm_out, x, frames)))
        if frames > 1:
            x = x.view(-1, frames, *x.shape[1:]).permute(0, 2, 1, 3, 4)
        return x


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": np.float32, "I64": np.int64, "F16": np.float16}
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(data[a:b], dtype=dtypes[v["dtype"]]).reshape(v["shape"]).copy())
    return out


def check(golden):
    cfg = json.load(open(f"{golden}/unet2d/config.json"))
    kwargs = dict(channels=cfg["block_out_channels"], layers=cfg["layers_per_block"], context_dim=cfg["cross_attention_dim"], heads=cfg["attention_head_dim"])
    io2 = read_safetensors(f"{golden}/unet2d/io.safetensors")
    w2 = read_safetensors(f"{golden}/unet2d/weights.safetensors")
    m2 = UNet(**kwargs).eval()
    m2.load_state_dict(w2, strict=True)
    with torch.no_grad():
        d = (m2(io2["input.sample"], io2["input.timestep.t10"], io2["input.encoder_hidden_states"]) - io2["output.t10.sample"]).abs().max().item()
    print(f"check unet2d t10: max|diff| {d:.2e}")
    io3 = read_safetensors(f"{golden}/unet3d_inflated/io.safetensors")
    w3 = dict(w2, **read_safetensors(f"{golden}/unet3d_inflated/weights_temporal_init.safetensors"))
    m3 = UNet(**kwargs, temporal=True).eval()
    m3.load_state_dict(w3, strict=True)
    with torch.no_grad():
        d = (m3(io3["input.sample"], io3["input.timestep"], io3["input.encoder_hidden_states"]) - io3["output.sample"]).abs().max().item()
    print(f"check unet3d_inflated: max|diff| {d:.2e}")


def median_seconds(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--check", help="golden fixture folder (shared/golden) to verify the model against first")
    p.add_argument("--sd15", action="store_true", help="also time the full SD v1.5 UNet2D at 64x64 (~3.5 GB)")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--loop-steps", type=int, default=20)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.check:
        check(a.check)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    with torch.no_grad():
        m3 = UNet([32, 32, 64, 64], 2, 32, 8, temporal=True).eval()
        x, ctx = torch.randn(1, 4, 8, 32, 32), torch.randn(1, 77, 32)
        print(f"unet3d step (1x4x8x32x32): {median_seconds(lambda: m3(x, torch.tensor(500), ctx), a.repeats):.3f} s")
        t0 = time.perf_counter()
        lat = x.clone()
        for i in range(a.loop_steps):
            lat = lat - 0.05 * m3(lat, torch.tensor(1000 - 50 * i), ctx)
        print(f"unet3d {a.loop_steps}-step loop: {time.perf_counter() - t0:.2f} s")
        m2 = UNet([32, 32, 64, 64], 2, 32, 8).eval()
        print(f"unet2d step (1x4x32x32): {median_seconds(lambda: m2(x[:, :, 0], torch.tensor(500), ctx), a.repeats):.3f} s")
        if a.sd15:
            big = UNet([320, 640, 1280, 1280], 2, 768, 8).eval()
            print(f"sd15 parameters: {sum(p.numel() for p in big.parameters()):,}")
            lx, lc = torch.randn(1, 4, 64, 64), torch.randn(1, 77, 768)
            for name in ("first", "second"):
                t0 = time.perf_counter()
                big(lx, torch.tensor(500), lc)
                print(f"sd15 step 1x4x64x64 ({name}): {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
