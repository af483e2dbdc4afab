#!/usr/bin/env python3
"""SMTP benchmark, Congvu against Postfix 3.7 from Debian on the same machine in the same run,
with Postfix's own load tool: `smtp-source -s 20 -m 20000 -l 5120` (20 000 messages of 5 KB over
20 parallel sessions, to a local recipient). Both fsync every message before 250: Postfix's
cleanup fsyncs the queue file, its virtual(8) agent fsyncs the maildir file; Congvu stores the
message in its mail store (group commit) before 250.
Measured: accepted-and-delivered messages per second (from the first connection until the
last message is in the recipient's mailbox) and peak memory (sum of PSS of every process of
the server, sampled every 50 ms). The two servers run alternately, never at once.
Usage: smtp_bench.py --build build/bench [--runs 3] [--messages 20000]
"""
import argparse
import json
import os
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import RssSampler, free_port  # noqa: E402


def postfix_pids(conf):
    """The master of this instance and all its children."""
    try:
        master = int(open(os.path.join(conf, "..", "queue", "pid", "master.pid")).read().strip())
    except (OSError, ValueError):
        return []
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    kids = [int(p) for p, pp in (l.split() for l in out.splitlines()) if int(pp) == master]
    return [master, *kids]


def smtp_source(port, messages, sessions, size):
    t0 = time.perf_counter()
    subprocess.run(["/usr/sbin/smtp-source", "-s", str(sessions), "-m", str(messages), "-l", str(size),
                    "-f", "bench@example.net", "-t", "annv@tinhmau.test", f"127.0.0.1:{port}"], check=True)
    return t0, time.perf_counter()


def run_postfix(work, messages, sessions, size):
    root = tempfile.mkdtemp(dir=work, prefix="postfix-")
    os.chmod(root, 0o755)  # the postfix user must reach data/ and mail/
    conf, queue, data, mail = (os.path.join(root, d) for d in ("conf", "queue", "data", "mail"))
    for d in (conf, queue, data, mail):
        os.makedirs(d)
    pw = pwd.getpwnam("postfix")
    os.chown(data, pw.pw_uid, pw.pw_gid)
    os.makedirs(os.path.join(mail, "annv"))
    os.chown(mail, pw.pw_uid, pw.pw_gid)
    os.chown(os.path.join(mail, "annv"), pw.pw_uid, pw.pw_gid)
    port = free_port()
    with open(os.path.join(conf, "main.cf"), "w") as f:
        f.write(f"""compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mail.tinhmau.test
mydestination =
local_recipient_maps =
virtual_mailbox_domains = tinhmau.test
virtual_mailbox_base = {mail}
virtual_mailbox_maps = texthash:{conf}/vmailbox
virtual_uid_maps = static:{pw.pw_uid}
virtual_gid_maps = static:{pw.pw_gid}
virtual_destination_concurrency_limit = 20
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
mynetworks = 127.0.0.0/8
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
maillog_file = {root}/maillog
default_process_limit = 100
""")
    shutil.copy("/etc/postfix/master.cf", os.path.join(conf, "master.cf"))
    with open(os.path.join(conf, "master.cf")) as f:
        master = f.read().replace("smtp      inet  n       -       y       -       -       smtpd",
                                  f"127.0.0.1:{port} inet  n       -       n       -       -       smtpd")
    master = master.replace("postlog   unix-dgram n  -       n       -       1       postlogd",
                            "postlog   unix-dgram n  -       n       -       1       postlogd")
    with open(os.path.join(conf, "master.cf"), "w") as f:
        f.write(master)
    with open(os.path.join(conf, "vmailbox"), "w") as f:
        f.write("annv@tinhmau.test annv/\n")
    env = dict(os.environ, MAIL_CONFIG=conf)
    subprocess.run(["postfix", "-c", conf, "check"], env=env, check=True)
    subprocess.run(["postfix", "-c", conf, "start"], env=env, check=True, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    sampler = RssSampler(lambda: postfix_pids(conf))
    sampler.start()
    t0, accepted = smtp_source(port, messages, sessions, size)
    new = os.path.join(mail, "annv", "new")
    while True:  # delivered: every message is a file in the maildir
        n = len(os.listdir(new)) if os.path.isdir(new) else 0
        if n >= messages or time.perf_counter() - t0 > 600:
            break
        time.sleep(0.05)
    delivered = time.perf_counter()
    sampler.done.set()
    sampler.join()
    subprocess.run(["postfix", "-c", conf, "stop"], env=env, stderr=subprocess.DEVNULL)
    time.sleep(1)
    shutil.rmtree(root, ignore_errors=True)
    return {"accepted_s": accepted - t0, "delivered_s": delivered - t0, "delivered": n, "peak_rss": sampler.peak}


def run_congvu(work, congvu, messages, sessions, size):
    root = tempfile.mkdtemp(dir=work, prefix="congvu-")
    cfg = os.path.join(root, "congvu.toml")
    with open(cfg, "w") as f:
        f.write("[listen]\n" + "".join(f'{n} = "{"127.0.0.1:0" if n == "smtp" else "off"}"\n'
                                        for n in ("smtp", "submission", "smtps", "imap", "imaps", "https", "ldap", "ldaps")) +
                # Like Postfix's defaults: no SPF/DKIM/DMARC lookups (DNS stays on loopback anyway).
                '[mail]\ncheck_inbound = false\ndns_servers = "127.0.0.1:9"\n')
    ready = os.path.join(root, "ready.json")
    proc = subprocess.Popen([congvu, "serve", "--config", cfg, "--data", os.path.join(root, "data"), "--ready-file", ready],
                            stderr=subprocess.DEVNULL)
    while not os.path.exists(ready):
        time.sleep(0.05)
    port = json.load(open(ready))["ports"]["smtp"]
    sampler = RssSampler(lambda: [proc.pid])
    sampler.start()
    t0, accepted = smtp_source(port, messages, sessions, size)
    sampler.done.set()
    sampler.join()
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    # Delivered = accepted: the 250 came after the message was in the mailbox. Check it.
    out = subprocess.run([congvu, "mail", "list", "annv", "--json", "--data", os.path.join(root, "data")],
                         capture_output=True, text=True, check=True).stdout
    n = len(json.loads(out))
    shutil.rmtree(root, ignore_errors=True)
    return {"accepted_s": accepted - t0, "delivered_s": accepted - t0, "delivered": n, "peak_rss": sampler.peak}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--size", type=int, default=5120)
    args = ap.parse_args()
    congvu = os.path.abspath(os.path.join(args.build, "congvu"))
    work = tempfile.mkdtemp(prefix="congvu-smtp-bench-", dir="/var/tmp")
    os.chmod(work, 0o755)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    results = {"postfix": [], "congvu": []}
    for i in range(args.runs):
        for name in ("postfix", "congvu"):
            r = run_postfix(work, args.messages, args.sessions, args.size) if name == "postfix" else \
                run_congvu(work, congvu, args.messages, args.sessions, args.size)
            r["rate"] = r["delivered"] / r["delivered_s"]
            results[name].append(r)
            print(f"run {i + 1} {name}: accepted in {r['accepted_s']:.2f} s, {r['delivered']} delivered in "
                  f"{r['delivered_s']:.2f} s = {r['rate']:.0f} msg/s, peak PSS {r['peak_rss'] / 2**20:.1f} MiB", flush=True)
    summary = {}
    for name, rs in results.items():
        summary[name] = {"rate": statistics.median(r["rate"] for r in rs),
                         "accepted_rate": statistics.median(r["delivered"] / r["accepted_s"] for r in rs),
                         "peak_rss_mib": statistics.median(r["peak_rss"] for r in rs) / 2**20}
    summary["ratio"] = summary["congvu"]["rate"] / summary["postfix"]["rate"]
    summary["memory_ratio"] = summary["congvu"]["peak_rss_mib"] / summary["postfix"]["peak_rss_mib"]
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(json.dumps(summary, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
