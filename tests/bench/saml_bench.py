#!/usr/bin/env python3
"""SAML benchmark: signed SAML responses per second for a session that is already signed in,
against what one core of this machine signs with RSA-2048 (`openssl speed -seconds S rsa2048`,
one process), divided by the signatures in each response (2: the Response and the Assertion,
both RSA-SHA256 with exclusive C14N; no encryption).
Goal (issue 6): responses/s >= 0.7 * (openssl's RSA-2048 signs/s on one core) / 2.

Load: C client processes (default 12), each on one kept-alive TLS connection carrying the SSO
cookie, sending HTTP-Redirect AuthnRequests (each with a fresh ID, prepared before the clock
starts) to /saml/sso and reading the auto-submit form with its SAMLResponse; a reply without
one counts as a failure. Every request is a full one: inflate, parse, replay check and the
durable write of its ID, the Response built, signed twice and base64-encoded.
The openssl measurement and the server runs alternate; medians of the rounds are reported.
Usage: saml_bench.py --build build/bench [--rounds 3] [--clients 12] [--seconds 10]
"""
import argparse
import base64
import http.client
import json
import multiprocessing
import os
import re
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import support  # noqa: E402

PASSWORD = "CongVu-demo-2026"


def openssl_signs(seconds):
    out = subprocess.run(["openssl", "speed", "-seconds", str(seconds), "rsa2048"], capture_output=True, text=True).stdout
    m = re.search(r"^rsa 2048 bits\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", out, re.M)
    if not m:
        raise SystemExit("cannot read openssl speed output:\n" + out)
    return float(m.group(1))


def cpu_seconds(pid):
    """User + system CPU time of a process so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def authn_url(entity, acs, sso, n):
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    xml = (f'<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
           f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_b{n}-{os.getpid()}-{time.monotonic_ns()}" '
           f'Version="2.0" IssueInstant="{now}" Destination="{sso}" AssertionConsumerServiceURL="{acs}">'
           f'<saml:Issuer>{entity}</saml:Issuer></samlp:AuthnRequest>')
    data = base64.b64encode(zlib.compress(xml.encode())[2:-4]).decode()
    return urllib.parse.urlparse(sso).path + "?SAMLRequest=" + urllib.parse.quote(data, safe="")


def client(args):
    port, ca, cookie, entity, acs, sso, seconds, start_at, n = args
    urls = [authn_url(entity, acs, sso, i) for i in range(n)]
    ctx = ssl.create_default_context(cafile=ca)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
    headers = {"Cookie": "__Host-congvu=" + cookie}
    conn.request("GET", "/saml/metadata")
    conn.getresponse().read()
    while time.time() < start_at:
        time.sleep(0.001)
    done = failed = 0
    end = start_at + seconds
    for url in urls:
        if time.time() >= end:
            break
        conn.request("GET", url, headers=headers)
        r = conn.getresponse()
        body = r.read()
        if r.status == 200 and b'name="SAMLResponse"' in body:
            done += 1
        else:
            failed += 1
    return done, failed


def run_congvu(build, clients, seconds):
    tmp = tempfile.mkdtemp(prefix="congvu-saml-bench-")
    port = support.free_port()
    issuer = f"https://127.0.0.1:{port}"
    listen = "".join(f'{n} = "off"\n' for n in support.LISTENERS if n != "https")
    cfg = os.path.join(tmp, "congvu.toml")
    data = os.path.join(tmp, "data")
    with open(cfg, "w") as f:
        f.write(f'[listen]\nhttps = "127.0.0.1:{port}"\n{listen}'
                f'[idp]\nissuer = "{issuer}"\n[mail]\n{support.NO_DNS}')
    binary = os.path.join(build, "congvu")
    ready = os.path.join(tmp, "ready.json")
    proc = subprocess.Popen([binary, "serve", "--config", cfg, "--data", data, "--ready-file", ready], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(tmp, "serve.log"), "w"))
    try:
        for _ in range(300):
            if os.path.exists(ready):
                break
            time.sleep(0.1)
        info = json.load(open(ready))
        ca = info["ca"]
        # An SP: a certificate of its own, requests unsigned (the IdP cost is measured).
        key, crt = os.path.join(tmp, "sp.key"), os.path.join(tmp, "sp.crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "2", "-subj", "/CN=bench-sp"], check=True, capture_output=True)
        cert = "".join(l for l in open(crt).read().splitlines() if "CERTIFICATE" not in l)
        entity, acs = "https://bench.test/sp", "https://127.0.0.1:9/acs"
        md = os.path.join(tmp, "sp.xml")
        with open(md, "w") as f:
            f.write(f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
                    f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity}"><md:SPSSODescriptor '
                    f'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing">'
                    f'<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>'
                    f'</md:KeyDescriptor><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
                    f'Location="{acs}" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>')
        subprocess.run([binary, "sp", "add", "--metadata", md, "--config", cfg, "--data", data], check=True, capture_output=True)
        # Sign in once; every client shares the SSO cookie.
        ctx = ssl.create_default_context(cafile=ca)
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
        conn.request("GET", "/login")
        r = conn.getresponse()
        page = r.read().decode()
        cookie = re.search(r"__Host-congvu=([^;]+)", r.getheader("Set-Cookie")).group(1)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"csrf": csrf, "login": "annv", "password": PASSWORD, "return_to": "/"})
        conn.request("POST", "/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                             "Cookie": "__Host-congvu=" + cookie})
        r = conn.getresponse()
        r.read()
        cookie = re.search(r"__Host-congvu=([^;]+)", r.getheader("Set-Cookie")).group(1)
        start_at = time.time() + 3
        per = int(seconds * 2000 / clients) + 100
        with multiprocessing.Pool(clients) as pool:
            pending = pool.map_async(client, [(port, ca, cookie, entity, acs, issuer + "/saml/sso", seconds, start_at, per)] * clients)
            while time.time() < start_at:
                time.sleep(0.001)
            cpu0 = cpu_seconds(proc.pid)
            results = pending.get()
            cpu = cpu_seconds(proc.pid) - cpu0
        done = sum(d for d, _ in results)
        failed = sum(f for _, f in results)
        return done / seconds, done / cpu if cpu else 0, failed
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        subprocess.run(["rm", "-rf", tmp])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/bench")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=12)
    ap.add_argument("--seconds", type=int, default=10)
    a = ap.parse_args()
    print(f"load average before: {os.getloadavg()}", flush=True)
    signs, rates, per_core = [], [], []
    for i in range(a.rounds):
        s = openssl_signs(min(a.seconds, 5))
        rate, core_rate, failed = run_congvu(a.build, a.clients, a.seconds)
        signs.append(s)
        rates.append(rate)
        per_core.append(core_rate)
        print(f"round {i + 1}: openssl rsa2048 {s:.0f} signs/s on one core; Congvu {rate:.0f} signed responses/s, "
              f"{core_rate:.0f} per second of server CPU ({failed} failed)", flush=True)
    s, r, c = statistics.median(signs), statistics.median(rates), statistics.median(per_core)
    goal = 0.7 * s / 2
    print(f"median: openssl {s:.0f} signs/s -> goal {goal:.0f} responses/s (0.7 x {s:.0f} / 2 signatures); "
          f"Congvu {r:.0f} responses/s = {r / (s / 2):.2f} x one core's ceiling ({'met' if r >= goal else 'NOT met'}); "
          f"{c:.0f} responses per server CPU-second = {c / (s / 2):.2f} x")


if __name__ == "__main__":
    main()
