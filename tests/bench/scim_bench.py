"""SCIM: the 2 000 events of the shared province's events.csv replayed through SCIM over HTTPS
(TLS verified, keep-alive, a client-credentials token of a province-admin client), and SCIM
filter queries per second, on the 20 000-person province imported fresh for every round.

  bulk       the replay as Bulk requests of 100 operations (each request: one durable commit)
  single     the replay as one request per event (POST for a hire, PATCH otherwise), in order,
             on one connection: each answer waits for its own durable commit
  userName   GET /Users?filter=userName eq "X" (an index), people in a shuffled order
  unitCode   GET /Users?filter=unitCode eq "X"&count=20 (the unit's member index)
  name_co    GET /Users?filter=name.formatted co "van an"&count=20 (a scan of every person)

The server's clock is set to 2027-06-01 (CONGVU_CLOCK) so that every event is due. Medians of
the rounds are reported. For orientation (the issue's figures, not measured here): OpenLDAP
slapd with memberof and refint managed 7-19 transfers/s on this machine.

    /usr/bin/python3 tests/bench/scim_bench.py --build build/bench [--rounds 3] [--seconds 5]
"""
import argparse
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import scim_replay  # noqa: E402

CV = scim_replay.CV


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, province):
        self.tmp = tempfile.mkdtemp(prefix="congvu-scim-bench-")
        self.data = os.path.join(self.tmp, "data")
        self.binary = binary
        subprocess.run([binary, "import", "--units", f"{province}/units.csv", "--staff", f"{province}/staff.csv",
                        "--since", "2025-12-31", "--data", self.data], check=True, capture_output=True)
        out = subprocess.run([binary, "client", "add", "hr-sync", "--grant", "client_credentials", "--scope",
                              "scim:read,scim:write", "--role", "province-admin", "--json", "--data", self.data],
                             check=True, capture_output=True, text=True).stdout
        self.secret = json.loads(out)["client_secret"]
        port = free_port()
        self.base = f"https://127.0.0.1:{port}"
        off = "".join(f'{n} = "off"\n' for n in ("smtp", "submission", "smtps", "imap", "imaps", "ldap", "ldaps"))
        config = os.path.join(self.tmp, "c.toml")
        with open(config, "w") as f:
            f.write(f'[listen]\nhttps = "127.0.0.1:{port}"\n{off}[idp]\nissuer = "{self.base}"\n'
                    '[mail]\ndns_servers = "127.0.0.1:9"\n')
        ready = os.path.join(self.tmp, "ready.json")
        self.proc = subprocess.Popen([binary, "serve", "--no-demo", "--config", config, "--data", self.data,
                                      "--ready-file", ready], stderr=subprocess.DEVNULL,
                                     env={**os.environ, "CONGVU_CLOCK": "2027-06-01"})
        while not os.path.exists(ready):
            if self.proc.poll() is not None:
                raise SystemExit("serve exited")
            time.sleep(0.05)
        with open(ready) as f:
            self.ca = json.load(f)["ca"]

    def client(self):
        return scim_replay.Client(self.base, self.ca, "hr-sync", self.secret)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        shutil.rmtree(self.tmp, ignore_errors=True)


def replay_bulk(c, events):
    ids = {no: u["id"] for no, u in c.everyone().items()}
    t0 = time.monotonic()
    bad = 0
    for _, body in scim_replay.bulk_requests(events, ids, size=100):
        r = c.send("POST", "/Bulk", body)
        r.raise_for_status()
        scim_replay.learn(ids, r.json())
        bad += sum(1 for op in r.json()["Operations"] if op["status"] not in ("200", "201"))
    return time.monotonic() - t0, bad


def replay_single(c, events):
    ids = {no: u["id"] for no, u in c.everyone().items()}
    t0 = time.monotonic()
    bad = 0
    for e in events:
        op = scim_replay.operation(e, ids)
        r = c.send(op["method"], op["path"], op["data"])
        if r.status_code == 201:
            ids[e["staff_no"]] = r.json()["id"]
        elif r.status_code != 200:
            bad += 1
    return time.monotonic() - t0, bad


def queries(c, seconds):
    users = list(c.everyone().values())
    random.seed(7)
    random.shuffle(users)
    units = sorted({u[CV].get("unitCode") for u in users if u[CV].get("unitCode")})
    kinds = {
        "userName": lambda i: {"filter": f'userName eq "{users[i % len(users)]["userName"]}"'},
        "unitCode": lambda i: {"filter": f'{CV}:unitCode eq "{units[i % len(units)]}"', "count": 20},
        "name_co": lambda i: {"filter": 'name.formatted co "van an"', "count": 20},
    }
    out = {}
    for name, params in kinds.items():
        n, t0 = 0, time.monotonic()
        while time.monotonic() - t0 < seconds:
            r = c.get("/Users", **params(n))
            r.raise_for_status()
            if not r.json()["Resources"]:
                raise SystemExit(f"{name}: no result")
            n += 1
        out[name] = n / (time.monotonic() - t0)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/bench")
    ap.add_argument("--province", default=os.path.join(HERE, "..", "..", "..", "shared", "data", "province"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    args = ap.parse_args()
    binary = os.path.join(args.build, "congvu")
    events = scim_replay.load_events(os.path.join(args.province, "events.csv"))
    print(f"load average before: {os.getloadavg()[0]:.2f} (nproc {os.cpu_count()})")
    results = {"bulk": [], "single": [], "userName": [], "unitCode": [], "name_co": []}
    for rnd in range(args.rounds):
        s = Server(binary, args.province)
        try:
            secs, bad = replay_bulk(s.client(), events)
            results["bulk"].append(secs)
            for k, v in queries(s.client(), args.seconds).items():
                results[k].append(v)
        finally:
            s.stop()
        s = Server(binary, args.province)
        try:
            secs1, bad1 = replay_single(s.client(), events)
            results["single"].append(secs1)
        finally:
            s.stop()
        print(f"round {rnd + 1}: bulk {secs:.2f} s ({bad} refused), single {secs1:.2f} s ({bad1} refused), "
              + ", ".join(f"{k} {results[k][-1]:.0f} q/s" for k in ("userName", "unitCode", "name_co")))
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"2000 events as Bulk: {med['bulk']:.2f} s = {2000 / med['bulk']:.0f} events/s (median)")
    print(f"2000 events one request each: {med['single']:.2f} s = {2000 / med['single']:.0f} events/s (median)")
    for k in ("userName", "unitCode", "name_co"):
        print(f"filter {k}: {med[k]:.0f} q/s (median)")


if __name__ == "__main__":
    main()
