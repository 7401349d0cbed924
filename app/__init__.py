"""noisescope application package.

BLAS is single-threaded in noisescope processes unless the environment says otherwise: sessions
already run side by side, and on a small shared machine OpenBLAS's extra threads only spin (a
signature-tab feature pass took 2.9 s with default BLAS threads against 0.16 s on one thread,
2 busy cores; a G = 150 GP posterior 170 ms against 3 ms). The environment variables work only
before numpy loads, hence here, at the top of the package; if numpy is already loaded (a test
runner imported it first), the limit is applied to the loaded library instead.
"""

import os
import sys

_BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

if not any(variable in os.environ for variable in _BLAS_THREAD_VARIABLES):
    for _variable in _BLAS_THREAD_VARIABLES:
        os.environ[_variable] = "1"
    if "numpy" in sys.modules:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
