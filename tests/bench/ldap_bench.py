"""LDAP: Congvu against OpenLDAP slapd (back-mdb, Debian's 2.5) on the same 100 000 people.

Both servers hold the same entries (exported from Congvu over LDAP after `congvu import`, then
loaded into slapd with slapadd -q: uid, cn, sn, givenName, mail, title, ou) and the same
password hash for everyone, {ARGON2} with Congvu's default parameters (Argon2id m=19456 KiB,
t=2, p=1; slapd verifies it with its argon2 module). slapd has eq indexes on uid and mail and
eq,sub on cn. The load tool (ldap_load.c, libldap) keeps N connections bound and runs, for T
seconds each:
  uid       (uid=X) for logins in a shuffled order
  cn        (cn=*Văn An*), size limit 100 (Thunderbird's)
  cn_fold   (cn=*van an*), typed without diacritics (slapd finds nothing; Congvu finds the same)
  bind      simple binds, each as another person (no cache can help: Argon2id every time)
  bind_warm simple binds cycling over 64 people already bound once (Congvu's credential cache)
Rounds alternate the servers (slapd, then Congvu, never at once) over plain ldap:// on
loopback (Congvu with [ldap] plaintext_binds = true: TLS would cost both the same); medians of
the rounds are reported with the peak PSS of each server process.

    /usr/bin/python3 tests/bench/ldap_bench.py --build build/bench [--people 100000] [--rounds 3]
"""
import argparse
import base64
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

import benchlib

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = "dc=tinhmau,dc=test"
PASSWORD = "Bench-password-2026"

SLAPD_CONF = """include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload argon2
pidfile {tmp}/slapd.pid
argsfile {tmp}/slapd.args
sizelimit 1000
loglevel 0
threads {threads}
database mdb
suffix "{base}"
rootdn "cn=admin,{base}"
directory {dir}
maxsize 17179869184
index objectClass eq
index uid,mail eq
index cn eq,sub
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * auth
"""


def attr(name, value):
    try:
        value.encode("ascii")
        if value and value[0] not in " :<" and value[-1] != " ":
            return f"{name}: {value}\n"
    except UnicodeEncodeError:
        pass
    return f"{name}:: {base64.b64encode(value.encode()).decode()}\n"


def export_people(port, ldif, pw_hash, bench_login):
    """Reads every person from Congvu over LDAP (paged) into slapd's LDIF; returns the logins."""
    import ldap
    from ldap.controls import SimplePagedResultsControl
    c = ldap.initialize(f"ldap://127.0.0.1:{port}")
    c.simple_bind_s(f"uid={bench_login},ou=people,{BASE}", PASSWORD)
    ctrl = SimplePagedResultsControl(True, size=1000, cookie="")
    logins = []
    with open(ldif, "w") as f:
        f.write(f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: tinhmau\no: Tinh Mau\n\n")
        f.write(f"dn: ou=people,{BASE}\nobjectClass: organizationalUnit\nou: people\n\n")
        while True:
            msgid = c.search_ext(f"ou=people,{BASE}", ldap.SCOPE_ONELEVEL, "(objectClass=inetOrgPerson)",
                                 ["uid", "cn", "sn", "givenName", "mail", "title", "ou"], serverctrls=[ctrl])
            _, data, _, ctrls = c.result3(msgid)
            for dn, a in data:
                uid = a["uid"][0].decode()
                logins.append(uid)
                f.write(f"dn: uid={uid},ou=people,{BASE}\nobjectClass: inetOrgPerson\n")
                for name in ("uid", "cn", "sn", "givenName", "mail", "title", "ou"):
                    for v in a.get(name, []):
                        f.write(attr(name, v.decode()))
                f.write(f"userPassword: {pw_hash}\n\n")
            ctrl.cookie = [x for x in ctrls if x.controlType == SimplePagedResultsControl.controlType][0].cookie
            if not ctrl.cookie:
                break
    return logins


class Server:
    def __init__(self, cmd, port, pid_of=None):
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.port = port
        self.pid_of = pid_of or (lambda: self.proc.pid)
        deadline = time.time() + 120
        import socket
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None and pid_of is None:
                    raise RuntimeError(f"{cmd[0]} exited: {self.proc.stderr.read().decode()[-2000:]}")
                time.sleep(0.2)
        raise RuntimeError(f"{cmd[0]} did not listen on {port}")

    def stop(self):
        try:
            os.kill(self.pid_of(), signal.SIGTERM)
        except (ProcessLookupError, OSError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


BENCH_DN = ""


def load(tool, port, mode, n, secs, logins, filt="(objectClass=*)"):
    env = {**os.environ, "LDAP_LOAD_DN": BENCH_DN, "LDAP_LOAD_PW": PASSWORD, "LDAPCONF": "/dev/null"}
    out = subprocess.run([tool, f"ldap://127.0.0.1:{port}", mode, str(n), str(secs), logins, BASE, filt],
                         capture_output=True, text=True, env=env, timeout=secs + 120)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--people", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--shared", default=os.path.join(HERE, "../../../shared"))
    args = ap.parse_args()
    congvu = os.path.abspath(os.path.join(args.build, "congvu"))
    tool = os.path.abspath(os.path.join(args.build, "tests/bench/ldap_load"))
    print(f"load average before: {os.getloadavg()[0]:.2f} (nproc {os.cpu_count()})", flush=True)
    tmp = tempfile.mkdtemp(prefix="congvu-ldap-bench-")
    try:
        prov = os.path.join(tmp, "province")
        subprocess.run(["/usr/bin/python3", os.path.join(args.shared, "tools/gen_province.py"), "--out", prov,
                        "--staff", str(args.people), "--events", "0", "--mails", "0"], check=True,
                       stdout=subprocess.DEVNULL)
        pw_hash = subprocess.run([tool, "hash", PASSWORD], capture_output=True, text=True, check=True).stdout.strip()
        creds = os.path.join(tmp, "credentials.csv")
        import csv
        with open(creds, "w") as f:
            f.write("staff_no,password_hash\n")
            for p in csv.DictReader(open(os.path.join(prov, "staff.csv"), encoding="utf-8")):
                f.write(f'{p["staff_no"]},"{pw_hash}"\n')
        data = os.path.join(tmp, "congvu")
        subprocess.run([congvu, "import", "--units", f"{prov}/units.csv", "--staff", f"{prov}/staff.csv",
                        "--credentials", creds, "--data", data], check=True, stdout=subprocess.DEVNULL)
        # The account the search runs bind as.
        subprocess.run([congvu, "person", "hire", "--name", "Người Đo Tải", "--staff-no", "BENCH", "--unit",
                        open(f"{prov}/units.csv", encoding="utf-8").read().splitlines()[1].split(",")[0],
                        "--position", "Chuyên viên", "--data", data], check=True, stdout=subprocess.DEVNULL)
        import ldap  # noqa: F401  (python3-ldap, for the export)
        cport, sport = benchlib.free_port(), benchlib.free_port()
        conf = os.path.join(tmp, "congvu.toml")
        with open(conf, "w") as f:
            f.write("[server]\ndemo = false\n[listen]\n" + "".join(
                f'{n} = "off"\n' for n in ("smtp", "submission", "smtps", "imap", "imaps", "ldaps")) +
                    'https = "127.0.0.1:0"\n' + f'ldap = "127.0.0.1:{cport}"\n[ldap]\nplaintext_binds = true\n')
        start_congvu = lambda: Server([congvu, "serve", "--config", conf, "--data", data], cport)
        # The bench account: its uid is the login Congvu's address rule made.
        login = subprocess.run([congvu, "person", "show", "BENCH", "--json", "--data", data], capture_output=True,
                               text=True, check=True)
        bench_login = json.loads(login.stdout)["login"]
        subprocess.run([congvu, "person", "passwd", "BENCH", "--password-stdin", "--data", data], input=PASSWORD + "\n",
                       text=True, check=True, stdout=subprocess.DEVNULL)
        global BENCH_DN
        BENCH_DN = f"uid={bench_login},ou=people,{BASE}"
        s = start_congvu()
        ldif, logins_file = os.path.join(tmp, "people.ldif"), os.path.join(tmp, "logins.txt")
        try:
            os.environ["LDAPCONF"] = "/dev/null"
            logins = export_people(s.port, ldif, pw_hash, bench_login)
        finally:
            s.stop()
        others = [l for l in logins if l != bench_login]
        random.Random(7).shuffle(others)
        with open(logins_file, "w") as f:
            f.write("\n".join(others) + "\n")
        warm_file = os.path.join(tmp, "warm.txt")
        with open(warm_file, "w") as f:
            f.write("\n".join(others[:64]) + "\n")
        # slapd: slapadd -q of the same LDIF (the bench account included, with its own password).
        sdir = os.path.join(tmp, "slapd-db")
        os.makedirs(sdir)
        sconf = os.path.join(tmp, "slapd.conf")
        with open(sconf, "w") as f:
            f.write(SLAPD_CONF.format(tmp=tmp, base=BASE, dir=sdir, threads=16))
        subprocess.run(["/usr/sbin/slapadd", "-q", "-f", sconf, "-l", ldif], check=True, capture_output=True)
        slapd_pid = lambda: int(open(os.path.join(tmp, "slapd.pid")).read())
        start_slapd = lambda: Server(["/usr/sbin/slapd", "-f", sconf, "-h", f"ldap://127.0.0.1:{sport}/", "-d", "0"],
                                     sport)

        workloads = [("uid", "uid", logins_file, None), ("cn", "filter", logins_file, "(cn=*Văn An*)"),
                     ("cn_fold", "filter", logins_file, "(cn=*van an*)"), ("bind", "bind", logins_file, None),
                     ("bind_warm", "bind", warm_file, None)]
        results = {name: {k: [] for k, *_ in workloads} | {"pss_mb": [], "hits": {}} for name in ("slapd", "congvu")}
        offset = 0
        for r in range(args.rounds):
            for name, starter in (("slapd", start_slapd), ("congvu", start_congvu)):
                srv = starter()
                if name == "slapd":
                    srv.pid_of = slapd_pid
                sampler = benchlib.RssSampler(lambda: [srv.pid_of()])
                sampler.start()
                try:
                    # Warm-up: the warm set bound once, a second of searches.
                    load(tool, srv.port, "bind", 4, 3, warm_file)
                    load(tool, srv.port, "uid", args.connections, 1, logins_file)
                    for key, mode, lf, filt in workloads:
                        if mode == "bind" and lf == logins_file:
                            # Fresh people in every round and for each server.
                            part = os.path.join(tmp, f"bind-{name}-{r}.txt")
                            with open(part, "w") as f:
                                f.write("\n".join(others[1000 + offset:1000 + offset + 5000]) + "\n")
                            offset += 5000
                            lf = part
                        res = load(tool, srv.port, mode, args.connections, args.seconds, lf, filt or "(objectClass=*)")
                        results[name][key].append(res["ops_per_s"])
                        if filt:
                            results[name]["hits"][key] = res["entries_per_search"]
                        if res["errors"]:
                            print(f"  {name} {key}: {res['errors']} errors", flush=True)
                        print(f"round {r + 1} {name:6s} {key:9s} {res['ops_per_s']:9.1f}/s", flush=True)
                finally:
                    sampler.done.set()
                    sampler.join()
                    srv.stop()
                results[name]["pss_mb"].append(sampler.peak / 2**20)
        med = {n: {k: statistics.median(v) for k, v in d.items() if isinstance(v, list)} for n, d in results.items()}
        print(json.dumps({"median": med, "hits_per_search": {n: results[n]["hits"] for n in results},
                          "rounds": {n: {k: v for k, v in d.items() if k != "hits"} for n, d in results.items()}},
                         indent=1))
        for k, *_ in workloads:
            s_, c_ = med["slapd"][k], med["congvu"][k]
            print(f"{k:9s} slapd {s_:9.1f}/s  congvu {c_:9.1f}/s  ratio {c_ / s_ if s_ else float('inf'):.2f}x")
        print(f"peak PSS  slapd {med['slapd']['pss_mb']:.0f} MiB  congvu {med['congvu']['pss_mb']:.0f} MiB")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
