#!/usr/bin/env python3
"""IMAP benchmark: Congvu against Dovecot 2.3 from Debian on the same machine in the same run,
with the same load tool (this file), the same messages and the same credentials scheme.

Load: N client processes (default 20), each looping sessions for a fixed time. A session is
  LOGIN, SELECT INBOX, 4x UID FETCH <20 uids> (FLAGS), 3x UID FETCH <uid> (BODY.PEEK[]),
  2x FETCH <10 msgs> (ENVELOPE), UID STORE +FLAGS (\\Seen), UID STORE -FLAGS (\\Seen),
  UID SEARCH UNSEEN, SEARCH SUBJECT <word>, APPEND (1 KB), UID STORE +FLAGS (\\Deleted) and
  UID EXPUNGE of what it appended (UIDPLUS), IDLE/DONE, NOOP, LOGOUT  = 21 commands.
Data: the same M messages (default 1000, made by ../shared/tools/gen_province.py --mails, median
about 6 KB) appended to one INBOX on each server before the clock starts.
Credentials: AUTHENTICATE SCRAM-SHA-256 on both sides (SASL-IR), both storing SCRAM verifiers
(Dovecot: a {SCRAM-SHA-256} passwd-file entry made by doveadm pw; Congvu: the verifier it keeps
beside the Argon2id hash). The client caches SaltedPassword per salt, as a mail client keeping
its password would, so its PBKDF2 does not weigh on either side. (Argon2id LOGIN is not used:
Dovecot's auth cache still runs the scheme on every login, so the run would measure Argon2.)
Durability: both fsync what they write before OK (Dovecot's default fsync_mode = optimized).
Measured: completed commands per second over the run (median of the rounds), and the peak PSS
(sum over every process of the server). The servers run alternately, never at once.
Usage: imap_bench.py --build build/bench [--rounds 3] [--clients 20] [--seconds 20] [--messages 1000]
"""
import argparse
import glob
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "..", "shared")
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
import support  # noqa: E402  (the Dovecot helper)
from benchlib import RssSampler  # noqa: E402

PASSWORD = "CongVu-demo-2026"
USER = "annv"


def tree(root_pid):
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    kids = {}
    for line in out.splitlines():
        p, pp = (int(x) for x in line.split())
        kids.setdefault(pp, []).append(p)
    pids, todo = [], [root_pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo.extend(kids.get(p, []))
    return pids


class Client:
    """A minimal IMAP client: one command at a time, literals read by their length."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb", buffering=65536)
        self.n = 0
        self.f.readline()

    SALTED = {}

    def login(self):
        scram = support.Scram(USER, PASSWORD, Client.SALTED)
        self.n += 1
        tag = b"c%d" % self.n
        self.s.sendall(tag + b" AUTHENTICATE SCRAM-SHA-256 " + scram.first() + b"\r\n")
        line = self.f.readline()
        if not line.startswith(b"+ "):
            raise RuntimeError(line)
        self.s.sendall(scram.final(line[2:]) + b"\r\n")
        while True:
            line = self.f.readline()
            if line.startswith(b"+ "):  # server final message as a challenge
                self.s.sendall(b"\r\n")
                continue
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise RuntimeError(line)
                return

    def cmd(self, text, literal=None):
        self.n += 1
        tag = b"c%d" % self.n
        data = tag + b" " + text
        if literal is not None:
            data += b" {%d+}\r\n" % len(literal) + literal
        self.s.sendall(data + b"\r\n")
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                raise ConnectionError("closed")
            while line.endswith(b"}\r\n") and b"{" in line:
                n = int(line[line.rindex(b"{") + 1:-3].rstrip(b"+"))
                self.f.read(n)
                line = self.f.readline()
            if line.startswith(tag + b" "):
                # A message another client expunged while this one fetched it: a completed
                # command (RFC 9051 EXPUNGEISSUED), not an error.
                if not line.startswith(tag + b" OK") and b"[EXPUNGEISSUED]" not in line:
                    raise RuntimeError(line)
                return lines, line
            lines.append(line)

    def idle(self):
        self.n += 1
        tag = b"c%d" % self.n
        self.s.sendall(tag + b" IDLE\r\n")
        while True:
            line = self.f.readline()
            if not line:
                raise ConnectionError("closed during IDLE")
            if line.startswith(b"+"):
                break
        self.s.sendall(b"DONE\r\n")
        while True:
            line = self.f.readline()
            if not line:
                raise ConnectionError("closed after DONE")
            if line.startswith(tag + b" "):
                return

    def close(self):
        self.s.close()


WORDS = [b"bao", b"cao", b"ke", b"hoach", b"hop", b"giao", b"ban", b"thong"]


def worker(port, seconds, seed, count, errors, base):
    rnd = random.Random(seed)
    small = (b"From: bench@tinhmau.gov.test\r\nTo: annv@tinhmau.gov.test\r\nSubject: bench\r\n\r\n" + b"x" * 70 + b"\r\n") * 12
    done = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            c = Client(port)
            c.login()
            lines, _ = c.cmd(b"SELECT INBOX")
            exists = next(int(l.split()[1]) for l in lines if l.endswith(b"EXISTS\r\n"))
            done += 2
            # The first `base` messages (UIDs 1..base) are never expunged; what clients append
            # comes after them and goes again, so numbers below base stay valid all session.
            top = max(1, min(exists, base))
            for _ in range(4):
                a = rnd.randint(1, max(1, top - 20))
                c.cmd(b"UID FETCH %d:%d (FLAGS)" % (a, a + 19))
            for _ in range(3):
                c.cmd(b"UID FETCH %d (BODY.PEEK[])" % rnd.randint(1, top))
            for _ in range(2):
                a = rnd.randint(1, max(1, top - 10))
                c.cmd(b"FETCH %d:%d (ENVELOPE)" % (a, min(top, a + 9)))
            u = rnd.randint(1, top)
            c.cmd(b"UID STORE %d +FLAGS (\\Seen)" % u)
            c.cmd(b"UID STORE %d -FLAGS (\\Seen)" % u)
            c.cmd(b"UID SEARCH UNSEEN")
            c.cmd(b"SEARCH SUBJECT " + rnd.choice(WORDS))
            _, ok = c.cmd(b"APPEND INBOX", small)
            uid = int(ok.split(b"APPENDUID ")[1].split(b" ")[1].split(b"]")[0])
            c.cmd(b"UID STORE %d +FLAGS (\\Deleted)" % uid)
            c.cmd(b"UID EXPUNGE %d" % uid)
            c.idle()
            c.cmd(b"NOOP")
            c.cmd(b"LOGOUT")
            done += 19
            c.close()
        except Exception as e:  # noqa: BLE001 - counted and reported
            errors.value += 1
            if errors.value < 3:
                print("client error:", repr(e), file=sys.stderr)
    with count.get_lock():
        count.value += done


def load(port, clients, seconds, base):
    count = multiprocessing.Value("q", 0)
    errors = multiprocessing.Value("i", 0)
    procs = [multiprocessing.Process(target=worker, args=(port, seconds, i, count, errors, base)) for i in range(clients)]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    elapsed = time.monotonic() - t0
    return count.value / elapsed, errors.value


def append_all(port, messages):
    c = Client(port)
    c.login()
    for m in messages:
        c.cmd(b"APPEND INBOX", m)
    c.cmd(b"LOGOUT")
    c.close()


def start_congvu(work, congvu):
    root = tempfile.mkdtemp(dir=work, prefix="congvu-")
    cfg = os.path.join(root, "congvu.toml")
    with open(cfg, "w") as f:
        f.write("[listen]\n" + "".join(f'{n} = "{"127.0.0.1:0" if n in ("imap", "imaps") else "off"}"\n'
                                        for n in ("smtp", "submission", "smtps", "imap", "imaps", "https", "ldap", "ldaps")) +
                '[directory]\ndomain = "tinhmau.gov.test"\n'
                '[mail]\ndns_servers = "127.0.0.1:9"\nimap_plaintext_loopback = true\n')
    ready = os.path.join(root, "ready.json")
    log = open(os.environ.get("CONGVU_BENCH_LOG", os.devnull), "a")
    wrap = os.environ.get("CONGVU_BENCH_WRAP", "").split()  # e.g. "gdb -q -batch -ex run -ex bt --args"
    proc = subprocess.Popen([*wrap, congvu, "serve", "--config", cfg, "--data", os.path.join(root, "data"), "--ready-file", ready],
                            stderr=log, stdout=log if wrap else None)
    while not os.path.exists(ready):
        time.sleep(0.05)
    port = json.load(open(ready))["ports"]["imap"]

    def stop():
        if proc.poll() is not None:
            print(f"congvu exited by itself during the run: status {proc.returncode}", flush=True)
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        shutil.rmtree(root, ignore_errors=True)
    return port, lambda: [proc.pid], stop


# Dovecot's "high-performance mode" (doc.dovecot.org, Login processes): login processes serve
# many connections each and are started in advance, one per core, instead of one new process
# per login (the default, "high-security mode").
HIGH_PERFORMANCE = f"""service imap-login {{
  service_count = 0
  process_min_avail = {os.cpu_count() or 2}
  vsz_limit = 1G
}}
"""


def start_dovecot(work, mode):
    root = tempfile.mkdtemp(dir=work, prefix="dovecot-")
    hashed = subprocess.run(["doveadm", "pw", "-s", "SCRAM-SHA-256", "-p", PASSWORD], capture_output=True, text=True,
                            check=True).stdout.strip()
    d = support.Dovecot(root, user=USER, password=PASSWORD, mechanisms="plain scram-sha-256", password_entry=hashed,
                        extra="auth_cache_size = 10M\nauth_cache_ttl = 1 hour\nmail_max_userip_connections = 1000\n"
                        + (HIGH_PERFORMANCE if mode == "high-performance" else ""))

    def stop():
        d.stop()
        shutil.rmtree(root, ignore_errors=True)
    return d.port, lambda: tree(d.proc.pid), stop


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--servers", default="congvu,dovecot", help="for experiments: run only some")
    ap.add_argument("--dovecot-mode", default="high-performance", choices=["high-performance", "high-security"],
                    help="Dovecot's login process mode (high-security: its default, a process per login)")
    args = ap.parse_args()
    congvu = os.path.abspath(os.path.join(args.build, "congvu"))
    work = tempfile.mkdtemp(prefix="congvu-imap-bench-", dir="/var/tmp")
    os.chmod(work, 0o755)
    gen = os.path.join(work, "province")
    subprocess.run([sys.executable, os.path.join(SHARED, "tools", "gen_province.py"), "--out", gen, "--staff", "200",
                    "--mails", str(args.messages)], check=True, capture_output=True)
    messages = []
    for p in sorted(glob.glob(os.path.join(gen, "mail", "*.eml")))[:args.messages]:
        data = open(p, "rb").read()
        messages.append(data if b"\r\n" in data else data.replace(b"\n", b"\r\n"))
    sizes = sorted(len(m) for m in messages)
    print(f"{len(messages)} messages, median {sizes[len(sizes) // 2]} bytes; Dovecot in {args.dovecot_mode} mode; "
          f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    results = {"dovecot": [], "congvu": []}
    for i in range(args.rounds):
        order = ("congvu", "dovecot") if i % 2 == 0 else ("dovecot", "congvu")
        for name in order:
            if name not in args.servers.split(","):
                continue
            port, pids, stop = start_congvu(work, congvu) if name == "congvu" else start_dovecot(work, args.dovecot_mode)
            try:
                append_all(port, messages)
                sampler = RssSampler(pids)
                sampler.start()
                rate, errors = load(port, args.clients, args.seconds, len(messages))
                sampler.done.set()
                sampler.join()
            finally:
                stop()
            results[name].append({"rate": rate, "errors": errors, "peak_pss": sampler.peak})
            print(f"round {i + 1} {name}: {rate:.0f} commands/s, {errors} errors, peak PSS {sampler.peak / 2**20:.1f} MiB",
                  flush=True)
    results = {k: v for k, v in results.items() if v}
    summary = {name: {"commands_per_s": statistics.median(r["rate"] for r in rs),
                      "peak_pss_mib": statistics.median(r["peak_pss"] for r in rs) / 2**20,
                      "errors": sum(r["errors"] for r in rs)} for name, rs in results.items()}
    if len(summary) == 2:
        summary["ratio"] = summary["congvu"]["commands_per_s"] / summary["dovecot"]["commands_per_s"]
        summary["memory_ratio"] = summary["congvu"]["peak_pss_mib"] / summary["dovecot"]["peak_pss_mib"]
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(json.dumps(summary, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
