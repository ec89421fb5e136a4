"""A small GGUF v3 writer, independent of the C++ one.

Used by the reference scripts to write test models in the real format, so the
C++ reader is checked against files it did not write itself. Little-endian
throughout; tensor shapes are given outermost first (as numpy has them) and
written innermost first (GGUF's ne order).
"""
import struct

import numpy as np

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3

# metadata value types
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)
_SCALAR_FMT = {UINT8: "<B", INT8: "<b", UINT16: "<H", INT16: "<h", UINT32: "<I", INT32: "<i",
               FLOAT32: "<f", BOOL: "<?", UINT64: "<Q", INT64: "<q", FLOAT64: "<d"}

# tensor types (ggml_type ids) and their (block size, bytes per block)
TENSOR_TYPES = {"F32": (0, 1, 4), "F16": (1, 1, 2), "Q4_0": (2, 32, 18), "Q4_1": (3, 32, 20),
                "Q5_0": (6, 32, 22), "Q5_1": (7, 32, 24), "Q8_0": (8, 32, 34), "Q2_K": (10, 256, 84),
                "Q3_K": (11, 256, 110), "Q4_K": (12, 256, 144), "Q5_K": (13, 256, 176),
                "Q6_K": (14, 256, 210), "BF16": (30, 1, 2)}


def _string(s):
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return struct.pack("<Q", len(b)) + b


class GGUFWriter:
    def __init__(self, alignment=32):
        self.alignment = alignment
        self.kv = []       # (key, type, value, elem_type)
        self.tensors = []  # (name, type name, shape outermost first, raw bytes)
        if alignment != 32:
            self.add("general.alignment", UINT32, alignment)

    def add(self, key, vtype, value, elem_type=None):
        self.kv.append((key, vtype, value, elem_type))

    def add_string(self, key, value):
        self.add(key, STRING, value)

    def add_uint32(self, key, value):
        self.add(key, UINT32, value)

    def add_float32(self, key, value):
        self.add(key, FLOAT32, value)

    def add_bool(self, key, value):
        self.add(key, BOOL, value)

    def add_array(self, key, elem_type, values):
        self.add(key, ARRAY, list(values), elem_type)

    def add_tensor(self, name, type_name, shape, raw):
        type_id, block, block_bytes = TENSOR_TYPES[type_name]
        assert shape[-1] % block == 0, (name, shape)
        n = int(np.prod(shape))
        assert len(raw) == n // block * block_bytes, (name, len(raw))
        self.tensors.append((name, type_name, list(shape), bytes(raw)))

    def add_array_tensor(self, name, array):
        """A numpy float32/float16 array as an F32/F16 tensor."""
        type_name = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16"}[array.dtype]
        self.add_tensor(name, type_name, array.shape, np.ascontiguousarray(array).tobytes())

    def _value(self, vtype, value, elem_type):
        if vtype == STRING:
            return _string(value)
        if vtype == ARRAY:
            out = struct.pack("<IQ", elem_type, len(value))
            for v in value:
                if elem_type == ARRAY:
                    sub_type, sub_values = v
                    out += self._value(ARRAY, sub_values, sub_type)
                else:
                    out += self._value(elem_type, v, None)
            return out
        return struct.pack(_SCALAR_FMT[vtype], value)

    def write(self, path):
        header = GGUF_MAGIC + struct.pack("<IQQ", GGUF_VERSION, len(self.tensors), len(self.kv))
        for key, vtype, value, elem_type in self.kv:
            header += _string(key) + struct.pack("<I", vtype) + self._value(vtype, value, elem_type)
        offset = 0
        offsets = []
        for name, type_name, shape, raw in self.tensors:
            offsets.append(offset)
            header += _string(name) + struct.pack("<I", len(shape))
            header += b"".join(struct.pack("<Q", d) for d in reversed(shape))
            header += struct.pack("<IQ", TENSOR_TYPES[type_name][0], offset)
            offset += len(raw)
            offset = (offset + self.alignment - 1) // self.alignment * self.alignment
        pad = (-len(header)) % self.alignment
        with open(path, "wb") as f:
            f.write(header + b"\0" * pad)
            for (name, _, _, raw), off in zip(self.tensors, offsets):
                f.write(raw)
                f.write(b"\0" * ((-len(raw)) % self.alignment))
