#!/usr/bin/env python3
"""10 000 IMAP IDLE connections: how much memory Congvu needs to hold them, and how long one
delivery to a group they all belong to takes to reach every one of them.

Congvu (Release build) serves its demo province. A unit-derived list of the whole province
(20 people) is made with the CLI. C client processes (asyncio) open N connections in all on
the implicit-TLS port (certificate verified against the local CA), spread over the 20 people:
each authenticates with SCRAM-SHA-256 (SASL-IR), selects INBOX and enters IDLE. Each client
process connects from its own address (127.0.0.10, .11, ...), as offices behind their own NAT
addresses would, under the default connection caps ([limits]: 3 000 per address). When all N are
idling, the server's memory is read (PSS and RSS of its one process), one message is sent by
SMTP to the list, and every client notes when its "* n EXISTS" arrives.
Goals (IMAP issue): N = 10 000 held in under 300 MB, every one notified within 5 s.
Usage: imap_idle_bench.py --build build/bench [--connections 10000] [--clients 4]
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import signal
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import support  # noqa: E402  (the SCRAM client)

PASSWORD = "CongVu-demo-2026"
DOMAIN = "tinhmau.gov.test"


def memory(pid):
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            k, v = line.split(":", 1)
            if k in ("Rss", "Pss", "Pss_Anon"):
                out[k] = int(v.split()[0]) * 1024
    return out


async def one(port, ctx, login, salted, ready, notified, go, source):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="127.0.0.1",
                                                   limit=65536, local_addr=(source, 0))
    await reader.readline()
    scram = support.Scram(login, PASSWORD, salted)
    writer.write(b"a AUTHENTICATE SCRAM-SHA-256 " + scram.first() + b"\r\n")
    line = await reader.readline()
    writer.write(scram.final(line[2:]) + b"\r\n")
    while True:
        line = await reader.readline()
        if line.startswith(b"+ "):
            writer.write(b"\r\n")
        elif line.startswith(b"a "):
            if not line.startswith(b"a OK"):
                raise RuntimeError(line)
            break
    writer.write(b"b SELECT INBOX\r\nc IDLE\r\n")
    while not (await reader.readline()).startswith(b"+ idling"):
        pass
    ready.append(1)
    await go.wait()
    while True:
        line = await reader.readline()
        if not line:
            raise RuntimeError("closed")
        if line.endswith(b" EXISTS\r\n"):
            notified.append(time.time())
            break
    return writer


def client(port, ca, logins, count, index, q):
    async def main():
        ctx = ssl.create_default_context(cafile=ca)
        salted, ready, notified = {}, [], []
        go = asyncio.Event()
        tasks = []

        def failed():
            for t in tasks:
                if t.done() and not t.cancelled() and t.exception():
                    raise t.exception()
        for i in range(count):
            tasks.append(asyncio.create_task(one(port, ctx, logins[(index + i) % len(logins)], salted, ready, notified, go,
                                                 f"127.0.0.{10 + index}")))
            while i + 1 - len(ready) > 200:  # at most 200 connections being set up at once
                await asyncio.sleep(0.005)
                failed()
        while len(ready) < count:
            await asyncio.sleep(0.05)
            failed()
        q.put(("ready", index, len(ready)))
        go.set()
        while len(notified) < count:
            await asyncio.sleep(0.01)
        q.put(("notified", index, max(notified)))
        await asyncio.sleep(1)
    asyncio.run(main())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--clients", type=int, default=4)
    args = ap.parse_args()
    congvu = os.path.abspath(os.path.join(args.build, "congvu"))
    root = tempfile.mkdtemp(prefix="congvu-idle-bench-", dir="/var/tmp")
    data = os.path.join(root, "data")
    cfg = os.path.join(root, "congvu.toml")
    with open(cfg, "w") as f:
        f.write("[listen]\n" + "".join(f'{n} = "{"127.0.0.1:0" if n in ("smtp", "imaps") else "off"}"\n'
                                        for n in ("smtp", "submission", "smtps", "imap", "imaps", "https", "ldap", "ldaps")) +
                f'[directory]\ndomain = "{DOMAIN}"\n[mail]\ndns_servers = "127.0.0.1:9"\ncheck_inbound = false\n')
    ready_file = os.path.join(root, "ready.json")
    log = open(os.path.join(root, "serve.log"), "w")
    proc = subprocess.Popen([congvu, "serve", "--config", cfg, "--data", data, "--ready-file", ready_file], stderr=log)
    try:
        while not os.path.exists(ready_file):
            time.sleep(0.05)
        info = json.load(open(ready_file))
        subprocess.run([congvu, "group", "add", "idle-bench", "--unit", "000.00.00.H99", "--posting", "anyone",
                        "--config", cfg, "--data", data], check=True, capture_output=True)
        logins = []
        for i in range(1, 21):
            out = subprocess.run([congvu, "person", "show", f"DM{i:04d}", "--json", "--config", cfg, "--data", data], check=True,
                                 capture_output=True, text=True).stdout
            logins.append(json.loads(out)["login"])
        idle_mem = memory(proc.pid)
        print(f"load average before: {os.getloadavg()[0]:.2f}; server at rest: PSS {idle_mem['Pss'] / 2**20:.1f} MiB",
              flush=True)
        q = multiprocessing.Queue()
        per = args.connections // args.clients
        t_connect = time.monotonic()
        kids = [multiprocessing.Process(target=client, args=(info["ports"]["imaps"], info["ca"], logins, per, i, q))
                for i in range(args.clients)]
        for k in kids:
            k.start()
        ready = 0
        for _ in kids:
            kind, _, n = q.get(timeout=300)
            ready += n
        connect_s = time.monotonic() - t_connect
        time.sleep(2)
        held = memory(proc.pid)
        print(f"{ready} connections idling after {connect_s:.1f} s; server PSS {held['Pss'] / 2**20:.1f} MiB, "
              f"RSS {held['Rss'] / 2**20:.1f} MiB, anonymous {held['Pss_Anon'] / 2**20:.1f} MiB "
              f"({(held['Pss'] - idle_mem['Pss']) / ready / 1024:.1f} KiB per connection)", flush=True)
        t0 = time.time()
        with smtplib.SMTP("127.0.0.1", info["ports"]["smtp"]) as s:
            s.sendmail("vanthu@example.org", [f"idle-bench@{DOMAIN}"],
                       b"From: vanthu@example.org\r\nSubject: Thong bao\r\n\r\nHop luc 14 gio.\r\n")
        last = 0
        for _ in kids:
            kind, _, t = q.get(timeout=120)
            last = max(last, t)
        for k in kids:
            k.join(timeout=30)
        summary = {"connections": ready, "connect_s": connect_s, "pss_mib": held["Pss"] / 2**20,
                   "rss_mib": held["Rss"] / 2**20, "per_connection_kib": (held["Pss"] - idle_mem["Pss"]) / ready / 1024,
                   "all_notified_s": last - t0}
        print(f"one delivery to the list reached all {ready} in {last - t0:.2f} s")
        print(json.dumps(summary, indent=2))
    except BaseException:
        print("server log:\n" + open(os.path.join(root, "serve.log")).read()[-3000:], file=sys.stderr)
        raise
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
