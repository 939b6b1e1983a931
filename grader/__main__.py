import signal
import sys

from grader.cli import main
from grader.runner.sandbox import STOP

# The task groups run in sessions of their own and would outlive the grader,
# so a SIGTERM stops the grade through the runner, which kills them.
signal.signal(signal.SIGTERM, STOP.handle)
sys.exit(main())
