import sys

from core.store import prefetch

prefetch.start(sys.argv[1:])  # the file is read while the rest is imported

from core.front.cli import main  # noqa: E402

sys.exit(main())
