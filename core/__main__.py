import sys

from core.store import prefetch

prefetch.start(sys.argv[1:])  # the file is read while the rest is imported

if sys.argv[1:2] == ["report"]:  # its helpers load their engine and font meanwhile
    from core.reports import processes

    processes.start_early(sys.argv[1:])

from core.front.cli import main  # noqa: E402

sys.exit(main())
