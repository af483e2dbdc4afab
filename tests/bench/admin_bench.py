"""The admin console's people search over a large province, end to end: a signed-in admin's
browser session (HTTPS, TLS verified, keep-alive) asks GET /admin?q=... and the server answers
with the rendered results page. Latency per request, per query class:

  full_name   a person's full name typed without diacritics ("nguyen thi thu ha")
  partial     each word cut to its first three letters ("ngu thi thu")
  family      a family name alone ("tran"): thousands match, the first 50 are shown
  address     an exact mail address
  scoped      full names again, by an HR admin of one department (search within a subtree)

The province (gen_province.py --staff N, default 100 000) is imported once; the admins sign in
through the OIDC login with TOTP. Medians of the rounds' medians (and p95) are reported. The
issue's goal: under 50 ms end to end over 100 000 people. No peer is run: the directory
servers users would otherwise run (slapd) hold names with their diacritics, so the same
question ("nguyen van an" finding Nguyễn Văn An) has no equivalent there.

    /usr/bin/python3 tests/bench/admin_bench.py --build build/bench [--staff 100000] [--rounds 3]
"""
import argparse
import csv
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import web_login  # noqa: E402
from support import free_port  # noqa: E402

SHARED = os.environ.get("CONGVU_SHARED", os.path.join(HERE, "..", "..", "..", "shared"))
PASSWORD = "Bench-admin-2026!"


def fold(s):
    s = s.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn").lower()


def run(binary, data, *args):
    return subprocess.run([binary, *args, "--data", data], check=True, capture_output=True, text=True).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/bench")
    ap.add_argument("--staff", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    binary = os.path.abspath(os.path.join(args.build, "congvu"))
    tmp = tempfile.mkdtemp(prefix="congvu-admin-bench-")
    proc = None
    try:
        province = os.path.join(tmp, "province")
        subprocess.run([sys.executable, os.path.join(SHARED, "tools", "gen_province.py"), "--out", province,
                        "--staff", str(args.staff)], check=True, capture_output=True)
        data = os.path.join(tmp, "data")
        t0 = time.monotonic()
        run(binary, data, "import", "--units", f"{province}/units.csv", "--staff", f"{province}/staff.csv")
        import_s = time.monotonic() - t0
        with open(f"{province}/staff.csv", encoding="utf-8") as f:
            staff = list(csv.DictReader(f))
        with open(f"{province}/units.csv", encoding="utf-8") as f:
            departments = [u for u in csv.DictReader(f) if u["kind"] == "department"]
        # The admins: a province administrator, and the HR admin of the largest department.
        rng = random.Random(7)
        by_unit = {}
        for p in staff:
            by_unit.setdefault(p["unit_code"], []).append(p)
        province_admin = json.loads(run(binary, data, "person", "show", staff[0]["staff_no"], "--json"))
        run(binary, data, "admin", "grant", province_admin["login"], "province-admin")
        children = {}
        with open(f"{province}/units.csv", encoding="utf-8") as f:
            for u in csv.DictReader(f):
                children.setdefault(u["parent_code"], []).append(u["code"])

        def subtree(code):
            out, todo = [], [code]
            while todo:
                c = todo.pop()
                out.append(c)
                todo.extend(children.get(c, []))
            return out
        dept = max(departments, key=lambda d: sum(len(by_unit.get(c, [])) for c in subtree(d["code"])))
        dept_people = [p for c in subtree(dept["code"]) for p in by_unit.get(c, [])]
        hr_admin = json.loads(run(binary, data, "person", "show", dept_people[0]["staff_no"], "--json"))
        run(binary, data, "admin", "grant", hr_admin["login"], "hr-admin", "--unit", dept["code"])
        for who in (province_admin, hr_admin):
            subprocess.run([binary, "person", "passwd", who["login"], "--password-stdin", "--data", data],
                           input=PASSWORD, check=True, capture_output=True, text=True)

        port = free_port()
        base = f"https://127.0.0.1:{port}"
        off = "".join(f'{n} = "off"\n' for n in ("smtp", "submission", "smtps", "imap", "imaps", "ldap", "ldaps"))
        config = os.path.join(tmp, "c.toml")
        with open(config, "w") as f:
            f.write(f'[listen]\nhttps = "127.0.0.1:{port}"\n{off}[idp]\nissuer = "{base}"\n'
                    '[mail]\ndns_servers = "127.0.0.1:9"\n')
        ready = os.path.join(tmp, "ready.json")
        proc = subprocess.Popen([binary, "serve", "--no-demo", "--config", config, "--data", data, "--ready-file", ready],
                                stderr=subprocess.DEVNULL)
        while not os.path.exists(ready):
            if proc.poll() is not None:
                raise SystemExit("serve exited")
            time.sleep(0.05)
        with open(ready) as f:
            ca = json.load(f)["ca"]
        sessions = {}
        for name, who in (("province", province_admin), ("hr", hr_admin)):
            b = web_login.browser(ca)
            r = web_login.admin_session(b, base, who["login"], PASSWORD, web_login.Enrolment())
            assert r.status_code == 200 and "Tìm cán bộ" in r.text, r.text[:500]
            sessions[name] = b

        sample = rng.sample(staff, args.queries)
        dept_sample = rng.sample(dept_people, min(args.queries, len(dept_people)))
        addresses = []
        for p in sample[:50]:
            addresses.append(json.loads(run(binary, data, "person", "show", p["staff_no"], "--json"))["address"])
        classes = {
            "full_name": ("province", [fold(p["full_name"]) for p in sample]),
            "partial": ("province", [" ".join(w[:3] for w in fold(p["full_name"]).split()) for p in sample]),
            "family": ("province", [fold(p["family"]) for p in sample]),
            "address": ("province", addresses),
            "scoped": ("hr", [fold(p["full_name"]) for p in dept_sample]),
        }
        print(f"load average before: {os.getloadavg()[0]:.2f} (nproc {os.cpu_count()}); {args.staff} people, "
              f"import {import_s:.1f} s; HR admin of {dept['name']} ({len(dept_people)} people)")
        results = {k: [] for k in classes}
        for rnd in range(args.rounds):
            for name, (who, queries) in classes.items():
                b = sessions[who]
                times, found = [], 0
                for q in queries:
                    t = time.perf_counter()
                    r = b.get(base + "/admin", params={"q": q}, allow_redirects=False)
                    times.append((time.perf_counter() - t) * 1000)
                    assert r.status_code == 200, r.status_code
                    found += '/admin/person/' in r.text
                times.sort()
                results[name].append((statistics.median(times), times[int(0.95 * (len(times) - 1))], found / len(queries)))
                print(f"  round {rnd + 1} {name:10s} median {results[name][-1][0]:6.1f} ms  p95 "
                      f"{results[name][-1][1]:6.1f} ms  found {100 * results[name][-1][2]:.0f}%")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        print("class       median ms  p95 ms  (medians of rounds)")
        for name, rs in results.items():
            print(f"{name:10s}  {statistics.median(r[0] for r in rs):8.1f}  {statistics.median(r[1] for r in rs):6.1f}")
    finally:
        if proc:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
