#!/usr/bin/python3
"""Writes small safetensors files with PyTorch, independently of the C++ reader.

They are the reader's test files and the fuzzer's seeds (committed under
fuzz/seeds/safetensors/). The layout follows what the reference writer does:
header JSON padded with spaces to a multiple of 8 bytes, tensors laid out by
element size (largest first) then by name, `__metadata__` {"format": "pt"}.

Files written (values are exact in every dtype; safetensors_test.cpp checks them):
  single.safetensors     a F32 [2, 3] = arange(6) * 0.25 - 1
                         b F16 [5]    = arange(5) * 0.5
                         c BF16 [3, 1] = [1, -2, 3.5]
                         d I64 [2]    = [7, -9]          (listed, not a Tensor)
                         s F32 []     = 42
                         z F32 [0, 3]                    (no bytes)
  model.safetensors.index.json + model-0000{1,2}-of-00002.safetensors:
                         w1 F32 [4] = arange(4) in shard 1,
                         w2 F16 [2, 2] = arange(4) + 10 and w3 BF16 [1] = [-1] in shard 2

Usage: /usr/bin/python3 tools/reference/write_safetensors.py [OUT_DIR]
"""
import json
import os
import struct
import sys

import torch

DTYPE_NAMES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata):
    order = sorted(tensors.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, t in order:
        b = tensor_bytes(t)
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "fuzz", "seeds", "safetensors")
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "single.safetensors"), {
        "a": torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.25 - 1,
        "b": torch.arange(5, dtype=torch.float16) * 0.5,
        "c": torch.tensor([[1.0], [-2.0], [3.5]], dtype=torch.bfloat16),
        "d": torch.tensor([7, -9], dtype=torch.int64),
        "s": torch.tensor(42.0, dtype=torch.float32),
        "z": torch.zeros(0, 3, dtype=torch.float32),
    }, {"format": "pt"})

    shards = {
        "model-00001-of-00002.safetensors": {"w1": torch.arange(4, dtype=torch.float32)},
        "model-00002-of-00002.safetensors": {
            "w2": torch.arange(4, dtype=torch.float16).reshape(2, 2) + 10,
            "w3": torch.tensor([-1.0], dtype=torch.bfloat16),
        },
    }
    weight_map = {}
    total = 0
    for shard, tensors in shards.items():
        write_safetensors(os.path.join(out, shard), tensors, {"format": "pt"})
        for name, t in tensors.items():
            weight_map[name] = shard
            total += len(tensor_bytes(t))
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
