#!/usr/bin/env python3
"""Independent float64 perplexity of a LLaMA checkpoint, in numpy, for checking `sleb eval`.

Reads a llama2.c .bin (legacy format) or an HF directory with one model.safetensors (F32/BF16/F16),
token ids as little-endian int32 (from `sleb tokenize`), and prints the SLEB-protocol perplexity:
non-overlapping windows of SEQLEN tokens, exp(mean NLL of positions 1..SEQLEN-1).

    python3 scripts/reference_ppl.py MODEL IDS.bin SEQLEN
"""
import json
import os
import struct
import sys

import numpy as np


def load_llama2c(path):
    raw = open(path, "rb").read()
    dim, hidden, layers, heads, kv, vocab, seqlen = struct.unpack("<7i", raw[:28])
    shared = vocab > 0
    vocab = abs(vocab)
    w = np.frombuffer(raw, dtype="<f4", offset=28).astype(np.float64)
    hd = dim // heads
    o = 0

    def take(*shape):
        nonlocal o
        n = int(np.prod(shape))
        a = w[o:o + n].reshape(shape)
        o += n
        return a

    p = {"embed": take(vocab, dim)}
    p["attn_norm"] = take(layers, dim)
    p["wq"] = take(layers, dim, dim)
    p["wk"] = take(layers, kv * hd, dim)
    p["wv"] = take(layers, kv * hd, dim)
    p["wo"] = take(layers, dim, dim)
    p["ffn_norm"] = take(layers, dim)
    p["w1"] = take(layers, hidden, dim)
    p["w2"] = take(layers, dim, hidden)
    p["w3"] = take(layers, hidden, dim)
    p["norm"] = take(dim)
    take(seqlen * hd // 2)  # freq_cis_real
    take(seqlen * hd // 2)  # freq_cis_imag
    p["head"] = p["embed"] if shared else take(vocab, dim)
    cfg = dict(dim=dim, layers=layers, heads=heads, kv=kv, hd=hd, eps=1e-5, theta=10000.0, adjacent=True)
    return cfg, p


def load_hf(d):
    c = json.load(open(os.path.join(d, "config.json")))
    raw = open(os.path.join(d, "model.safetensors"), "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    base = 8 + n

    def t(name):
        h = header[name]
        b, e = h["data_offsets"]
        buf = raw[base + b:base + e]
        if h["dtype"] == "F32":
            a = np.frombuffer(buf, dtype="<f4")
        elif h["dtype"] == "F16":
            a = np.frombuffer(buf, dtype="<f2")
        else:  # BF16: the high half of a float32
            a = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        return a.astype(np.float64).reshape(h["shape"])

    L = c["num_hidden_layers"]
    lay = lambda s: np.stack([t(f"model.layers.{i}.{s}") for i in range(L)])
    p = {"embed": t("model.embed_tokens.weight"), "attn_norm": lay("input_layernorm.weight"),
         "wq": lay("self_attn.q_proj.weight"), "wk": lay("self_attn.k_proj.weight"),
         "wv": lay("self_attn.v_proj.weight"), "wo": lay("self_attn.o_proj.weight"),
         "ffn_norm": lay("post_attention_layernorm.weight"), "w1": lay("mlp.gate_proj.weight"),
         "w2": lay("mlp.down_proj.weight"), "w3": lay("mlp.up_proj.weight"), "norm": t("model.norm.weight")}
    p["head"] = p["embed"] if c.get("tie_word_embeddings") else t("lm_head.weight")
    heads = c["num_attention_heads"]
    hd = c.get("head_dim", c["hidden_size"] // heads)
    cfg = dict(dim=c["hidden_size"], layers=L, heads=heads, kv=c.get("num_key_value_heads", heads), hd=hd,
               eps=c.get("rms_norm_eps", 1e-6), theta=c.get("rope_theta", 10000.0), adjacent=False)
    return cfg, p


def rope(x, cfg, pos):
    # x: [T, H, hd]
    hd = cfg["hd"]
    inv = 1.0 / cfg["theta"] ** (np.arange(0, hd, 2) / hd)
    ang = pos[:, None] * inv[None, :]
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    if cfg["adjacent"]:
        a, b = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = a * cos - b * sin
        out[..., 1::2] = a * sin + b * cos
        return out
    a, b = x[..., :hd // 2], x[..., hd // 2:]
    return np.concatenate([a * cos - b * sin, a * sin + b * cos], axis=-1)


def rmsnorm(x, g, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g


def window_nll(cfg, p, ids):
    T = len(ids)
    H, KV, hd = cfg["heads"], cfg["kv"], cfg["hd"]
    x = p["embed"][ids]
    pos = np.arange(T, dtype=np.float64)
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for l in range(cfg["layers"]):
        h = rmsnorm(x, p["attn_norm"][l], cfg["eps"])
        q = rope((h @ p["wq"][l].T).reshape(T, H, hd), cfg, pos)
        k = rope((h @ p["wk"][l].T).reshape(T, KV, hd), cfg, pos)
        v = (h @ p["wv"][l].T).reshape(T, KV, hd)
        k = np.repeat(k, H // KV, axis=1)
        v = np.repeat(v, H // KV, axis=1)
        s = q.transpose(1, 0, 2) @ k.transpose(1, 2, 0) / np.sqrt(hd) + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        att = (s @ v.transpose(1, 0, 2)).transpose(1, 0, 2).reshape(T, H * hd)
        x = x + att @ p["wo"][l].T
        h = rmsnorm(x, p["ffn_norm"][l], cfg["eps"])
        g = h @ p["w1"][l].T
        x = x + ((g / (1 + np.exp(-g))) * (h @ p["w3"][l].T)) @ p["w2"][l].T
    logits = rmsnorm(x, p["norm"], cfg["eps"]) @ p["head"].T
    m = logits.max(-1, keepdims=True)
    lse = (m + np.log(np.exp(logits - m).sum(-1, keepdims=True)))[:, 0]
    return float((lse[:-1] - logits[np.arange(T - 1), ids[1:]]).sum())


def main():
    model, ids_file, seqlen = sys.argv[1], sys.argv[2], int(sys.argv[3])
    cfg, p = load_hf(model) if os.path.isdir(model) else load_llama2c(model)
    ids = np.fromfile(ids_file, dtype="<i4")
    n = len(ids) // seqlen
    total = sum(window_nll(cfg, p, ids[i * seqlen:(i + 1) * seqlen]) for i in range(n))
    print(f"windows {n} seqlen {seqlen} nll {total:.6f} ppl {np.exp(total / (n * (seqlen - 1))):.6f}")


if __name__ == "__main__":
    main()
