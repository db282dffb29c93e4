import contextlib
import os
import sys

# numpy's OpenBLAS starts a thread per core that spins while numpy is imported; nothing here
# multiplies matrices, so one thread: 0.1 s less CPU on every command, which on a machine of
# two cores (the pack's three processes share them) is time the user waits for
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from core.store import prefetch

prefetch.start(sys.argv[1:])  # the file is read while the rest is imported

from core.front.cli import main  # noqa: E402

code = main()
# Everything is written and closed by now (the store's writes are complete renames, the
# pack's helpers have ended): leave without the interpreter taking pandas, Arrow and the
# register apart object by object, 0.2-0.3 s the user would wait for at 10k-100k rows.
with contextlib.suppress(BrokenPipeError):  # a reader that stopped early (`… | head`)
    sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
