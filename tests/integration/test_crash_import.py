"""Crash safety of import: 100 000 people (gen_province.py --staff 100000), the importer killed
with SIGKILL at about 25 %, 50 % and 75 % of its run. After each kill the store must be
consistent (`congvu check`, which includes the audit chain) and hold everything or nothing.
A kill during a second import must leave the first import's data intact."""
import os
import signal
import subprocess
import time

from support import BIN, SHARED, TempDirTest, main, run, run_json

STAFF = int(os.environ.get("CONGVU_CRASH_STAFF", "100000"))


class CrashImport(TempDirTest):
    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.gen = tempfile.mkdtemp(prefix="congvu-gen-")
        subprocess.run(["/usr/bin/python3", os.path.join(SHARED, "tools", "gen_province.py"), "--out", cls.gen,
                        "--staff", str(STAFF), "--events", "10", "--mails", "1"], check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        import shutil
        shutil.rmtree(cls.gen, ignore_errors=True)

    def import_cmd(self, data):
        return [BIN, "import", "--units", f"{self.gen}/units.csv", "--staff", f"{self.gen}/staff.csv", "--data", data]

    def assert_all_or_nothing(self, data, base_people=0):
        check = run_json("check", data=data, check=False)
        self.assertTrue(check["ok"], check)
        self.assertIn(check["people"], (base_people, base_people + STAFF), check)
        return check["people"]

    def test_kill_at_quarter_half_three_quarters(self):
        t0 = time.monotonic()
        full = os.path.join(self.tmp, "full")
        subprocess.run(self.import_cmd(full), check=True, capture_output=True)
        duration = time.monotonic() - t0
        self.assertEqual(self.assert_all_or_nothing(full), STAFF)
        outcomes = []
        for fraction in (0.25, 0.5, 0.75):
            # The reference run may have been slowed by other load on the machine: when the
            # importer finishes before the kill, try again sooner (on a fresh folder).
            for attempt in range(4):
                data = os.path.join(self.tmp, f"kill-{int(fraction * 100)}-{attempt}")
                proc = subprocess.Popen(self.import_cmd(data), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(duration * fraction / (2 ** attempt))
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                if proc.returncode == -signal.SIGKILL:
                    break
            self.assertEqual(proc.returncode, -signal.SIGKILL, "the importer finished before every kill")
            outcomes.append(self.assert_all_or_nothing(data))
            # The store is usable afterwards: a fresh import completes.
            if outcomes[-1] == 0:
                subprocess.run(self.import_cmd(data), check=True, capture_output=True)
                self.assertEqual(self.assert_all_or_nothing(data), STAFF)
        print(f"import of {STAFF} took {duration:.2f} s; people after kills at 25/50/75 %: {outcomes}")

    def test_kill_during_second_import_keeps_the_first(self):
        data = os.path.join(self.tmp, "two")
        units = self.write("u.csv", "code,parent_code,kind,name,slug\nX.1,,province,Tỉnh khác,tinhkhac\n")
        staff = self.write("s.csv", "staff_no,full_name,unit_code,position\nZ1,Lê Văn Tám,X.1,Chủ tịch\n")
        run("import", "--units", units, "--staff", staff, data=data)
        t0 = time.monotonic()
        proc = subprocess.Popen(self.import_cmd(data), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        people = self.assert_all_or_nothing(data, base_people=1)
        self.assertEqual(run_json("person", "show", "Z1", data=data)["login"], "tamlv")
        print(f"killed after {time.monotonic() - t0:.2f} s; people: {people}")


if __name__ == "__main__":
    main()
