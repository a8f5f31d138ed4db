"""compare_npy.py GOT.npy WANT.npy -- exit 1 unless max|got - want| <= 1e-4 * max(1, max|want|).

Used by the lit tests to check tfrun's .npy outputs against the PyTorch reference fixtures.
"""
import sys

import numpy as np

got, want = np.load(sys.argv[1]), np.load(sys.argv[2])
if got.shape != want.shape or got.dtype != want.dtype:
    sys.exit("shape/dtype differ: got %s %s, want %s %s" % (got.shape, got.dtype, want.shape, want.dtype))
err = float(np.max(np.abs(got.astype(np.float64) - want)))
tol = 1e-4 * max(1.0, float(np.max(np.abs(want))))
print("max abs error %.3g (tolerance %.3g)" % (err, tol))
sys.exit(0 if err <= tol else 1)
