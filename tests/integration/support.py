"""Helpers for integration tests: run the real `congvu` binary in temporary data folders."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

BIN = os.environ.get("CONGVU_BIN", os.path.join(os.path.dirname(__file__), "../../build/congvu"))
SHARED = os.environ.get("CONGVU_SHARED", os.path.join(os.path.dirname(__file__), "../../../shared"))
PROVINCE = os.path.join(SHARED, "data", "province")


def run(*args, data=None, stdin=None, check=True, timeout=600):
    """Runs congvu with args; returns (exit status, stdout, stderr)."""
    cmd = [BIN, *args]
    if data is not None:
        cmd += ["--data", data]
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p.returncode, p.stdout, p.stderr


def run_json(*args, data=None, **kw):
    _, out, _ = run(*args, "--json", data=data, **kw)
    return json.loads(out)


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="congvu-it-")
        self.data = os.path.join(self.tmp, "data")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, text, encoding="utf-8"):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding=encoding, newline="") as f:
            f.write(text)
        return path


def main():
    """Runs the module's tests and ends with the plain 'N passed, N failed' line."""
    import sys
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"{passed} passed, {failed} failed" + (f", {len(result.skipped)} skipped" if result.skipped else ""))
    sys.exit(1 if failed or result.testsRun == 0 else 0)
