#!/usr/bin/env python3
"""Writes float_conversion.txt: f32 values with their f16 bits as numpy's float16 rounds them and
their bf16 bits as torch's bfloat16 rounds them (both round to nearest, ties to even), for
tests/unit/support_float16_test.cpp. Run with the project's venv (numpy, torch):

    .venv/bin/python tests/precision/make_fixture.py

Each line: f32 bits, f16 bits, bf16 bits (hex; "nan" where the reference's NaN payload is its own
choice: the test then only asks for a NaN of the same sign). The cases are the edges of both
formats (zeros, the largest finite values and the ties just above them, overflow, the smallest
normals and subnormals and the ties around them, f32 subnormals, infinities, NaNs) and 400
random finite f32 values spread over every exponent (seed 12)."""
import pathlib
import struct

import numpy as np
import torch

OUT = pathlib.Path(__file__).with_name("float_conversion.txt")


def bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f32(b: int) -> float:
    return struct.unpack("<f", struct.pack("<I", b))[0]


edge = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 3.14159265, -2.71828,
        65504.0, -65504.0, 65505.0, 65519.0, 65519.996, 65520.0, -65520.0, 65520.004, 65536.0,
        1e5, -1e9, 1e9, 3.4028234663852886e38, -3.4028234663852886e38,
        2.0 ** -14, -(2.0 ** -14), 2.0 ** -14 * (1 - 2.0 ** -24),
        2.0 ** -24, -(2.0 ** -24), 2.0 ** -25, -(2.0 ** -25), 1.5 * 2.0 ** -24, 2.5 * 2.0 ** -24,
        3 * 2.0 ** -25, 1023 * 2.0 ** -24, 1023.5 * 2.0 ** -24, 1022.5 * 2.0 ** -24,
        1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11, 1 + 2.0 ** -8, 1 + 3 * 2.0 ** -8, -(1 + 3 * 2.0 ** -8),
        1e-8, 6e-8, 5.9604645e-08, 1e-30, 1e-40, 1e-45,
        float("inf"), float("-inf")]
patterns = [bits(x) for x in edge]
patterns += [0x00000001, 0x80000001, 0x007FFFFF, 0x00008000, 0x00018000, 0x00010000,
             0x33000000, 0x33000001, 0x32FFFFFF, 0x387FE000, 0x387FF000, 0x387FFFFF,
             0x477FE000, 0x477FEFFF, 0x477FF000, 0x477FF001, 0x3F801000, 0x3F803000, 0x3F800FFF,
             0x7F7F7FFF, 0x7F7F8000, 0x7F7E8000, 0x7F7FFFFF, 0xFF7F8000,
             0x3F808000, 0x3F818000, 0x3F807FFF, 0x3F808001]
rng = np.random.default_rng(12)
for _ in range(400):
    sign = int(rng.integers(0, 2)) << 31
    exponent = int(rng.integers(0, 255)) << 23  # finite: exponents 0 .. 254
    patterns.append(sign | exponent | int(rng.integers(0, 1 << 23)))
nans = [0x7FC00000, 0xFFC00000, 0x7FC12345, 0xFFE00001]

values = np.array([f32(p) for p in patterns], dtype=np.float32)
f16 = values.astype(np.float16).view(np.uint16)
bf16 = torch.from_numpy(values.copy()).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)

lines = ["# f32 bits, f16 bits (numpy %s float16), bf16 bits (torch %s bfloat16); "
         "made by make_fixture.py" % (np.__version__, torch.__version__)]
for p, h, b in zip(patterns, f16, bf16):
    assert bits(f32(p)) == p
    lines.append("%08x %04x %04x" % (p, int(h), int(b)))
for p in nans:
    h = np.array([f32(p)], dtype=np.float32).astype(np.float16).view(np.uint16)[0]
    lines.append("%08x %04x nan" % (p, int(h)))
OUT.write_text("\n".join(lines) + "\n")
print("wrote %s: %d cases" % (OUT, len(lines) - 1))
