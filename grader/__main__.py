import signal
import sys

from grader.cli import main, stop_on_sigterm

signal.signal(signal.SIGTERM, stop_on_sigterm)
sys.exit(main())
