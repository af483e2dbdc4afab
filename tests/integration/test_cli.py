"""The admin interface of `congvu` on the shared province: import, events, person, unit, audit,
config, exit codes and messages."""
import collections
import csv
import json
import os
import subprocess

from support import PROVINCE, TempDirTest, main, run, run_json


class ProvinceImport(TempDirTest):
    def setUp(self):
        super().setUp()
        r = run_json("import", "--units", f"{PROVINCE}/units.csv", "--staff", f"{PROVINCE}/staff.csv", data=self.data)
        self.assertEqual(r, {"units_added": 370, "units_unchanged": 0, "people_added": 20000, "credentials": 0})

    def test_events_replay_as_of_and_idempotent(self):
        r = run_json("events", "apply", f"{PROVINCE}/events.csv", "--as-of", "2026-06-30", data=self.data, check=False)
        self.assertEqual(r["applied"] + r["pending"], 2000)
        self.assertGreater(r["pending"], 0)
        self.assertEqual(r["failed"], [])
        _, out, err = run("events", "pending", data=self.data)
        self.assertEqual(len(out.splitlines()), r["pending"])
        listing = run_json("events", "pending", data=self.data)
        self.assertEqual(listing["scheduled"], [])
        pending = listing["events"]
        self.assertEqual(len(pending), r["pending"])
        self.assertTrue(all(e["effective_date"] > "2026-06-30" for e in pending))
        r2 = run_json("events", "apply", f"{PROVINCE}/events.csv", "--as-of", "2027-06-01", data=self.data)
        self.assertEqual(r2["already_applied"], r["applied"])
        self.assertEqual(r2["applied"], r["pending"])
        self.assertEqual(r2["pending"], 0)
        check = run_json("check", data=self.data)
        self.assertTrue(check["ok"])
        self.assertEqual(check["people"], 20000 + 174)  # the tiep_nhan hires
        _, out, _ = run("audit", "verify", data=self.data)
        self.assertIn("audit chain intact", out)

    def test_transfer_keeps_identity(self):
        before = run_json("person", "show", "CB000001", data=self.data)
        self.assertEqual(before["staff_no"], "CB000001")
        self.assertEqual(before["full_name"], "Vũ Thị Vân")
        self.assertTrue(before["address"].startswith("vanvt"))
        after = run_json("person", "transfer", before["login"], "--to", "000.01.02.H99", "--position", "Chuyên viên",
                         "--decision", "123/QĐ-UBND", "--date", "2026-11-01", data=self.data)
        for key in ("id", "address", "login", "staff_no", "full_name"):
            self.assertEqual(after[key], before[key], key)
        self.assertEqual(after["unit"], "000.01.02.H99")
        self.assertEqual(len(after["history"]), len(before["history"]) + 1)
        self.assertEqual(after["history"][-2]["to"], "2026-11-01")
        self.assertEqual(after["history"][-2]["closed_by"], "123/QĐ-UBND")
        log = run_json("audit", "log", "--target", before["id"], data=self.data)
        self.assertEqual([r["action"] for r in log], ["person.import", "person.transfer"])
        self.assertTrue(log[-1]["actor"].startswith("cli:"))
        # A later date schedules the change: listed, cancellable, applied when due.
        later = run_json("person", "transfer", before["login"], "--to", "000.00.03.H99", "--decision", "124/QĐ-UBND",
                         "--date", "2099-01-01", data=self.data)
        self.assertEqual(later["date"], "2099-01-01")
        self.assertEqual(run_json("person", "show", before["login"], data=self.data)["unit"], "000.01.02.H99")
        scheduled = run_json("events", "pending", data=self.data)["scheduled"]
        self.assertEqual([(c["number"], c["to_unit"], c["person"]) for c in scheduled],
                         [(later["scheduled"], "000.00.03.H99", before["id"])])
        self.assertEqual(run_json("events", "run-due", data=self.data), {"applied": 0, "failed": 0})
        run("events", "cancel", str(later["scheduled"]), data=self.data)
        self.assertEqual(run_json("events", "pending", data=self.data)["scheduled"], [])
        self.assertEqual(run("events", "cancel", str(later["scheduled"]), data=self.data, check=False)[0], 1)

    def test_retention_period_ends(self):
        """A retirement dated 2020 keeps the mailbox until 2025: `mail purge-retired` empties it
        once (a dry run first changes nothing), audited; the person and address stay."""
        who = run_json("person", "show", "CB000001", data=self.data)
        run("person", "retire", "CB000001", "--decision", "9/QĐ", "--date", "2020-01-01", data=self.data)
        dry = run_json("mail", "purge-retired", "--dry-run", data=self.data)
        self.assertEqual((dry["dry_run"], [p["address"] for p in dry["people"]]), (True, [who["address"]]))
        self.assertEqual(dry["people"][0]["keep_until"], "2025-01-01")
        log = run_json("audit", "log", "--target", who["id"], data=self.data)
        self.assertNotIn("mailbox.purge", [r["action"] for r in log])
        done = run_json("mail", "purge-retired", data=self.data)
        self.assertEqual([p["id"] for p in done["people"]], [who["id"]])
        self.assertEqual(run_json("mail", "purge-retired", data=self.data)["people"], [])
        log = run_json("audit", "log", "--target", who["id"], data=self.data)
        self.assertEqual(log[-1]["action"], "mailbox.purge")
        self.assertEqual(run_json("person", "show", "CB000001", data=self.data)["address"], who["address"])

    def test_merging_two_districts(self):
        """The districts of Hòa Bình and Tân Phú merge into a new one under one decision: the dry
        run changes nothing and lists exactly the changes the run then audits; every person keeps
        id and address, the communes and divisions move under the new district, the old units
        leave the tree with their successor, and the directory stays consistent."""
        with open(f"{PROVINCE}/units.csv", encoding="utf-8") as f:
            units = list(csv.DictReader(f))
        with open(f"{PROVINCE}/staff.csv", encoding="utf-8") as f:
            staff = list(csv.DictReader(f))
        olds = ["000.00.31.H99", "000.00.32.H99"]
        people = [r["staff_no"] for r in staff if r["unit_code"] in olds]
        children = sorted(u["code"] for u in units if u["parent_code"] in olds)
        self.assertGreater(len(people), 40)
        self.assertGreater(len(children), 30)
        before = {s: run_json("person", "show", s, data=self.data) for s in people}
        for code, name in zip(olds, ("hoabinh", "tanphu")):  # each district's distribution list
            run("group", "add", f"ds-{name}", "--title", f"Cán bộ {name}", "--unit", code, data=self.data)
        listed = {n: {p["id"] for p in run_json("group", "show", f"ds-{n}", data=self.data)} for n in ("hoabinh", "tanphu")}
        records = run_json("audit", "verify", data=self.data)["records"]
        args = ["unit", "merge", *olds, "--into", "000.00.90.H99", "--parent", "000.00.00.H99", "--kind", "district",
                "--name", "Ủy ban nhân dân huyện Hòa Phú", "--slug", "ubndhoaphu", "--decision", "1656/NQ-UBTVQH15"]
        dry = run_json(*args, "--dry-run", data=self.data)
        self.assertTrue(dry["dry_run"])
        self.assertEqual(run_json("audit", "verify", data=self.data)["records"], records)
        self.assertEqual(run("unit", "show", "000.00.90.H99", data=self.data, check=False)[0], 1)
        self.assertEqual(run_json("person", "show", people[0], data=self.data)["unit"], before[people[0]]["unit"])
        self.assertEqual((dry["people_moved"], dry["dissolved"]), (len(people), olds))
        self.assertEqual([(m["from"], m["to"], m["messages"]) for m in dry["mail"]],
                         [(o, "000.00.90.H99", 0) for o in olds])
        done = run_json(*args, data=self.data)
        self.assertFalse(done["dry_run"])
        key = lambda r: (r["action"], r["target"], r["reason"], r["detail"])
        self.assertEqual([key(r) for r in done["changes"]], [key(r) for r in dry["changes"]])
        stored = run_json("audit", "log", "--limit", str(len(done["changes"])), data=self.data)
        self.assertEqual([key(r) for r in stored], [key(r) for r in dry["changes"]])
        counts = collections.Counter(r["action"] for r in dry["changes"])
        self.assertEqual(counts["unit.add"], 1)
        self.assertEqual(counts["person.reorganisation"], len(people))
        self.assertEqual(counts["unit.reparent"], len(children))
        self.assertEqual(counts["address.redirect"], 2)
        self.assertEqual(counts["unit.dissolve"], 2)
        self.assertEqual(counts["group.retarget"], 2)
        groups = {g["name"]: g for g in run_json("group", "list", data=self.data)}
        merged = {p["id"] for p in run_json("group", "show", "ds-hoabinh", data=self.data)}
        for n in ("hoabinh", "tanphu"):
            self.assertEqual(groups[f"ds-{n}"]["unit"], "000.00.90.H99")
            self.assertLessEqual(listed[n], merged)  # nobody dropped off a list
        self.assertTrue(all(r["reason"] == "1656/NQ-UBTVQH15" for r in dry["changes"]))
        for s, was in before.items():
            now = run_json("person", "show", s, data=self.data)
            for k in ("id", "address", "login", "aliases"):
                self.assertEqual(now[k], was[k], (s, k))
            self.assertEqual((now["unit"], now["position"]), ("000.00.90.H99", was["position"]))
            self.assertEqual(now["history"][-1]["kind"], "reorganisation")
            self.assertEqual(now["history"][-2]["unit"], was["unit"])
        for code in children:
            self.assertEqual(run_json("unit", "show", code, data=self.data)["parent"], "000.00.90.H99")
        for code in olds:
            u = run_json("unit", "show", code, data=self.data)
            self.assertEqual((u["successor"], u["dissolved_by"]), ("000.00.90.H99", "1656/NQ-UBTVQH15"))
        _, tree, _ = run("unit", "tree", "--depth", "2", data=self.data)
        self.assertIn("000.00.90.H99", tree)
        self.assertNotIn("000.00.31.H99", tree)
        self.assertTrue(run_json("check", data=self.data)["ok"])
        # Once dissolved, a unit is gone for new decisions; the message names its successor.
        code, _, err = run("person", "transfer", "CB000001", "--to", olds[0], "--decision", "5/QĐ", data=self.data, check=False)
        self.assertEqual(code, 1)
        self.assertIn("its successor is 000.00.90.H99", err)
        code, _, err = run(*args, data=self.data, check=False)
        self.assertEqual(code, 1)
        self.assertIn("already exists", err)

    def test_search_finds_him_every_way(self):
        for q in ("nguyen van an", "Nguyễn Văn An", "an nguyen", "NGUYỄN văn AN"):
            people = run_json("person", "find", q, "--limit", "500", data=self.data)
            self.assertGreater(len(people), 10, q)
            self.assertTrue(all("an" in p["full_name"].lower() for p in people))
            names = [p["full_name"] for p in people]
            if len(q.split()) == 3:
                self.assertEqual(names[0], "Nguyễn Văn An", q)  # all three words exact, nothing more
            else:
                self.assertIn("Nguyễn Văn An", names, q)
        sub = run_json("person", "find", "nguyen", "--unit", "000.00.02.H99", data=self.data)
        self.assertTrue(sub)
        tree = {l.split()[0] for l in run("unit", "tree", "000.00.02.H99", data=self.data)[1].splitlines()}
        self.assertTrue(all(p["unit"] in tree for p in sub))
        code, _, err = run("person", "find", "nguyen", "--unit", "999.99.99.H99", data=self.data, check=False)
        self.assertEqual(code, 1)
        self.assertIn("unit 999.99.99.H99 does not exist", err)

    def test_unit_show_lists_role_mailbox_holders(self):
        u = run_json("unit", "show", "000.01.02.H99", data=self.data)
        self.assertEqual(u["role_address"], f"{u['slug']}@tinhmau.test")
        self.assertTrue(u["role_mailbox_holders"])
        for h in u["role_mailbox_holders"]:
            self.assertIn(h["position"], ("Văn thư", "Trưởng phòng"))
        self.assertEqual(run("unit", "show", "404", data=self.data, check=False)[0], 1)


class Errors(TempDirTest):
    def test_bad_row_names_file_and_line_and_writes_nothing(self):
        units = self.write("units.csv", open(f"{PROVINCE}/units.csv", encoding="utf-8").read())
        staff_text = open(f"{PROVINCE}/staff.csv", encoding="utf-8").read().splitlines()
        staff_text[5000] = staff_text[5000].replace(",M,", ",X,").replace(",F,", ",X,")
        staff = self.write("staff.csv", "\n".join(staff_text) + "\n")
        code, out, err = run("import", "--units", units, "--staff", staff, data=self.data, check=False)
        self.assertEqual(code, 1)
        self.assertIn(f"{staff}:5001: gender must be M, F or empty", err)
        check = run_json("check", data=self.data)
        self.assertEqual((check["people"], check["units"]), (0, 0))

    def test_excel_unicode_text_is_read_and_utf16_without_bom_named(self):
        # Excel's "Unicode Text" export: UTF-16LE with a byte order mark, tab-separated, CRLF.
        def unicode_text(path):
            with open(path, encoding="utf-8", newline="") as f:
                rows = list(csv.reader(f))
            return "\r\n".join("\t".join(r) for r in rows) + "\r\n"
        units = self.write("units.txt", unicode_text(f"{PROVINCE}/units.csv"), encoding="utf-16")
        staff = self.write("staff.txt", unicode_text(f"{PROVINCE}/staff.csv"), encoding="utf-16")
        with open(units, "rb") as f:
            self.assertEqual(f.read(2), b"\xff\xfe")
        r = run_json("import", "--units", units, "--staff", staff, data=self.data)
        self.assertEqual((r["units_added"], r["people_added"]), (370, 20000))
        people = run_json("person", "find", "Nguyễn Văn An", "--limit", "1", data=self.data)
        self.assertEqual(people[0]["full_name"], "Nguyễn Văn An")
        # The same without its byte order mark: refused, naming the file, the line and the fix.
        bare = self.write("bare.csv", open(f"{PROVINCE}/units.csv", encoding="utf-8").read(), encoding="utf-16-le")
        code, _, err = run("import", "--units", bare, "--staff", staff, data=self.data + "2", check=False)
        self.assertEqual(code, 1)
        self.assertIn(f"{bare}:1: a NUL byte: the file looks like UTF-16 without a byte order mark", err)
        self.assertIn('save it as "CSV UTF-8"', err)

    def test_usage_errors_exit_2(self):
        self.assertEqual(run("person", "show", data=self.data, check=False)[0], 2)
        self.assertEqual(run("frobnicate", check=False)[0], 2)
        code, _, err = run("person", "find", "x", "--limti", "3", data=self.data, check=False)
        self.assertEqual(code, 2)
        self.assertIn("unknown option --limti", err)

    def test_hire_passwd_suspend_retire(self):
        units = self.write("u.csv", "code,parent_code,kind,name,slug\nP,,province,Tỉnh,tinh\nD,P,department,Sở,so\n")
        run("import", "--units", units, data=self.data)
        p = run_json("person", "hire", "--name", "Đặng Văn Đức", "--staff-no", "N1", "--unit", "D", "--position",
                     "Chuyên viên", "--decision", "1/QĐ", "--date", "2026-01-02", data=self.data)
        self.assertEqual(p["login"], "ducdv")
        self.assertEqual(run("person", "passwd", "ducdv", data=self.data, stdin="short\n", check=False)[0], 2)
        self.assertEqual(run("person", "passwd", "ducdv", "--password-stdin", data=self.data, stdin="short\n",
                             check=False)[0], 1)
        run("person", "passwd", "ducdv", "--password-stdin", data=self.data, stdin="mật-khẩu-mới-2026\n")
        run("person", "suspend", "ducdv", "--reason", "test", data=self.data)
        self.assertEqual(run_json("person", "show", "ducdv", data=self.data)["status"], "suspended")
        run("person", "resume", "ducdv", data=self.data)
        run("person", "retire", "ducdv", "--decision", "9/QĐ", "--date", "2026-06-01", data=self.data)
        shown = run_json("person", "show", "ducdv@tinhmau.test", data=self.data)
        self.assertEqual(shown["status"], "retired")
        self.assertEqual(shown["unit"], "")
        code, out, err = run("person", "transfer", "ducdv", "--to", "D", "--decision", "x", data=self.data, check=False)
        self.assertEqual(code, 1)
        self.assertIn("is retired", err)
        again = run_json("person", "hire", "--name", "Đặng Văn Đức", "--staff-no", "N2", "--unit", "D", "--position",
                         "Chuyên viên", data=self.data)
        self.assertEqual(again["login"], "ducdv2")

    def test_groups(self):
        units = self.write("u.csv", "code,parent_code,kind,name,slug\nP,,province,Tỉnh,tinh\nD,P,department,Sở,so\n")
        staff = self.write("s.csv", "staff_no,full_name,unit_code,position\nA1,Lê Văn Tám,D,Giám đốc\nA2,Lê Thị Chín,D,Văn thư\n")
        run("import", "--units", units, "--staff", staff, data=self.data)
        run("group", "add", "giam-doc", "--title", "Giám đốc các sở", "--position", "Giám đốc", data=self.data)
        members = run_json("group", "show", "giam-doc", data=self.data)
        self.assertEqual([m["staff_no"] for m in members], ["A1"])
        self.assertEqual([g["name"] for g in run_json("group", "list", data=self.data)], ["giam-doc"])
        run("group", "add", "ban-x", "--static", data=self.data)
        run("group", "add-member", "ban-x", "chinlt", data=self.data)
        self.assertEqual([m["login"] for m in run_json("group", "show", "ban-x", data=self.data)], ["chinlt"])


class AuditTamper(TempDirTest):
    """An attacker with access to directory.mdb edits one audit record with the stock LMDB tools;
    `congvu audit verify` and `congvu check` must name that record."""

    def test_edited_record_is_detected(self):
        units = self.write("u.csv", "code,parent_code,kind,name,slug\nP,,province,Tỉnh,tinh\nD,P,department,Sở,so\n")
        staff = self.write("s.csv", "staff_no,full_name,unit_code,position\nA1,Lê Văn Tám,D,Giám đốc\nA2,Lê Thị Chín,D,Văn thư\n")
        run("import", "--units", units, "--staff", staff, data=self.data)
        self.assertEqual(run_json("audit", "verify", data=self.data), {"ok": True, "records": 4})
        db = os.path.join(self.data, "directory.mdb")
        dump = subprocess.run(["mdb_dump", "-n", "-s", "audit", db], capture_output=True, text=True, check=True).stdout
        lines = dump.splitlines()
        # Data lines alternate key, value after HEADER=END; record 3 is the first person.
        start = lines.index("HEADER=END") + 1
        value_line = start + 2 * 2 + 1
        target = lines[value_line]
        needle = "Tám".encode().hex()
        self.assertIn(needle, target)
        lines[value_line] = target.replace(needle, "Tâm".encode().hex())
        subprocess.run(["mdb_load", "-n", "-s", "audit", db], input="\n".join(lines) + "\n", text=True, check=True)
        code, out, err = run("audit", "verify", data=self.data, check=False)
        self.assertEqual(code, 1)
        self.assertIn("audit chain broken at record 3", err)
        self.assertIn("altered", err)
        self.assertEqual(run("check", data=self.data, check=False)[0], 1)


class Config(TempDirTest):
    def test_example_checks_and_errors_name_line(self):
        _, example, _ = run("config", "example")
        path = self.write("congvu.toml", example)
        code, out, _ = run("config", "check", path)
        self.assertEqual(code, 0)
        bad = self.write("bad.toml", example.replace("threads = 0", "threads = \"many\""))
        code, _, err = run("config", "check", bad, check=False)
        self.assertEqual(code, 1)
        line = example.splitlines().index("threads = 0") + 1
        self.assertIn(f"{bad}:{line}: [server] threads must be an integer", err)

    def test_config_data_dir_is_used(self):
        path = self.write("c.toml", f'[server]\ndata_dir = "{self.data}"\n[directory]\ndomain = "tinhmau.gov.vn"\n')
        units = self.write("u.csv", "code,parent_code,kind,name,slug\nP,,province,Tỉnh,tinh\n")
        staff = self.write("s.csv", "staff_no,full_name,unit_code,position\nA1,Lê Văn Tám,P,Chủ tịch\n")
        run("import", "--config", path, "--units", units, "--staff", staff)
        p = run_json("person", "show", "A1", "--config", path)
        self.assertEqual(p["address"], "tamlv@tinhmau.gov.vn")


if __name__ == "__main__":
    main()
