#!/usr/bin/env python3
"""Congvu's directory benchmarks, reported in docs/BENCHMARKS.md.

- import of the 20 000-staff province, and `events apply` of its 2 000 events;
- the same people loaded into OpenLDAP (slapadd, back-mdb, the peer a province would otherwise
  run), alternating with Congvu, never at the same time; medians of --runs runs;
- LMDB file size per 10 000 people for both;
- in-process lookup and folded-name search over 100 000 people (Google Benchmark).
Usage: run_benchmarks.py --build build/bench [--runs 5] [--shared ../shared]
"""
import argparse
import base64
import csv
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(cmd, **kw):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    return time.perf_counter() - t0


def dir_size(path):
    """Bytes allocated on disk by the .mdb files (LMDB files can be sparse up to their map size)."""
    return sum(os.stat(os.path.join(path, f)).st_blocks * 512 for f in os.listdir(path) if f.endswith(".mdb"))


def ldif_for(province, out):
    def attr(name, value):
        try:
            value.encode("ascii")
            return f"{name}: {value}\n"
        except UnicodeEncodeError:
            return f"{name}:: {base64.b64encode(value.encode()).decode()}\n"
    with open(out, "w") as f:
        f.write("dn: dc=tinhmau,dc=test\nobjectClass: dcObject\nobjectClass: organization\ndc: tinhmau\no: Tinh Mau\n\n")
        f.write("dn: ou=units,dc=tinhmau,dc=test\nobjectClass: organizationalUnit\nou: units\n\n")
        f.write("dn: ou=people,dc=tinhmau,dc=test\nobjectClass: organizationalUnit\nou: people\n\n")
        for u in csv.DictReader(open(f"{province}/units.csv", encoding="utf-8")):
            f.write(f"dn: ou={u['code']},ou=units,dc=tinhmau,dc=test\nobjectClass: organizationalUnit\n"
                    f"ou: {u['code']}\n" + attr("description", u["name"]) + "\n")
        for p in csv.DictReader(open(f"{province}/staff.csv", encoding="utf-8")):
            f.write(f"dn: uid={p['staff_no']},ou=people,dc=tinhmau,dc=test\nobjectClass: inetOrgPerson\n"
                    f"uid: {p['staff_no']}\nemployeeNumber: {p['staff_no']}\n" + attr("cn", p["full_name"]) +
                    attr("sn", p["family"]) + attr("givenName", p["given"]) + attr("title", p["position"]) +
                    f"ou: {p['unit_code']}\nmail: {p['staff_no'].lower()}@tinhmau.test\n\n")


SLAPD_CONF = """include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
suffix "dc=tinhmau,dc=test"
rootdn "cn=admin,dc=tinhmau,dc=test"
directory {dir}
maxsize 17179869184
index objectClass eq
index uid,mail,employeeNumber eq
index cn,sn,givenName eq,sub
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--shared", default=os.path.join(HERE, "../../../shared"))
    args = ap.parse_args()
    congvu = os.path.abspath(os.path.join(args.build, "congvu"))
    province = os.path.join(args.shared, "data", "province")
    load = os.getloadavg()[0]
    print(f"load average before: {load:.2f} (nproc {os.cpu_count()})")
    tmp = tempfile.mkdtemp(prefix="congvu-bench-")
    try:
        ldif = os.path.join(tmp, "province.ldif")
        ldif_for(province, ldif)
        results = {"import": [], "events": [], "slapadd": [], "slapadd_q": []}
        sizes = {}
        for i in range(args.runs):
            # Congvu import, then events on that store.
            d = os.path.join(tmp, f"c{i}")
            results["import"].append(timed([congvu, "import", "--units", f"{province}/units.csv",
                                            "--staff", f"{province}/staff.csv", "--data", d]))
            sizes["congvu"] = dir_size(d)
            results["events"].append(timed([congvu, "events", "apply", f"{province}/events.csv",
                                            "--as-of", "2027-06-01", "--data", d]))
            shutil.rmtree(d)
            # OpenLDAP: slapadd into back-mdb, with and without -q (quick mode).
            # Plain slapadd syncs every entry (about 40 s here): three runs of it are enough.
            for key, quick in (("slapadd", []), ("slapadd_q", ["-q"])) if i < 3 else (("slapadd_q", ["-q"]),):
                s = os.path.join(tmp, f"s{i}{key}")
                os.makedirs(s)
                conf = os.path.join(tmp, "slapd.conf")
                with open(conf, "w") as f:
                    f.write(SLAPD_CONF.format(dir=s))
                results[key].append(timed(["/usr/sbin/slapadd", *quick, "-f", conf, "-l", ldif]))
                sizes["slapd"] = dir_size(s)
                shutil.rmtree(s)
        med = {k: statistics.median(v) for k, v in results.items()}
        print(json.dumps({"median_seconds": med, "runs": results}, indent=1))
        print(f"import 20 000: congvu {med['import']:.3f} s, slapadd {med['slapadd']:.3f} s "
              f"(ratio {med['slapadd'] / med['import']:.2f}x), slapadd -q {med['slapadd_q']:.3f} s "
              f"(ratio {med['slapadd_q'] / med['import']:.2f}x)")
        print(f"events apply 2 000: {med['events']:.3f} s")
        print(f"file size per 10 000 people: congvu {sizes['congvu'] / 2 / 2**20:.1f} MiB, "
              f"slapd {sizes['slapd'] / 2 / 2**20:.1f} MiB")

        # 100 000 people for lookups and search.
        big = os.path.join(tmp, "p100k")
        subprocess.run(["/usr/bin/python3", os.path.join(args.shared, "tools", "gen_province.py"), "--out", big,
                        "--staff", "100000", "--events", "10", "--mails", "1"], check=True, capture_output=True)
        d = os.path.join(tmp, "c100k")
        t = timed([congvu, "import", "--units", f"{big}/units.csv", "--staff", f"{big}/staff.csv", "--data", d])
        print(f"import 100 000: {t:.2f} s, file {dir_size(d) / 10 / 2**20:.1f} MiB per 10 000 people")
        env = dict(os.environ, CONGVU_BENCH_DATA=d)
        subprocess.run([os.path.join(args.build, "tests", "bench", "directory_bench"),
                        "--benchmark_repetitions=9", "--benchmark_report_aggregates_only=true",
                        "--benchmark_min_time=0.2"], check=True, env=env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
