"""noisescope application package.

BLAS is single-threaded in noisescope processes unless the environment says otherwise: sessions
already run side by side, and on a small shared machine OpenBLAS's extra threads only spin (a
signature-tab feature pass took 2.9 s with default BLAS threads against 0.16 s on one thread,
2 busy cores). This must run before numpy loads, hence here, at the top of the package.
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
