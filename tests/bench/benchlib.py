"""Pieces shared by the benchmark drivers (smtp_bench.py, imap_bench.py)."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from support import free_port  # noqa: E402,F401  (re-exported for the drivers)


class RssSampler(threading.Thread):
    """Peak of the summed PSS (proportional set size: shared pages split among their users, so
    Postfix's many processes are not counted once per process) of the processes `pids()`."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids, self.peak, self.done = pids, 0, threading.Event()

    def run(self):
        while not self.done.is_set():
            total = 0
            for pid in self.pids():
                try:
                    with open(f"/proc/{pid}/smaps_rollup") as f:
                        for line in f:
                            if line.startswith("Pss:"):
                                total += int(line.split()[1]) * 1024
                except OSError:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(0.05)
