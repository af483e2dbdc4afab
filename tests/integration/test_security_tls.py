"""testssl.sh (Debian's /usr/bin/testssl, 3.0.x) against every TLS listener of one running
server: implicit TLS on smtps, imaps, ldaps and https, STARTTLS on smtp, submission, imap and
ldap. Offline and loopback only: the name mail.tinhmau.test is pinned to 127.0.0.1 (--ip), no
DNS lookups at all (--nodns none: no rDNS, no CAA), no OCSP or CRL fetches (testssl contacts
them only with --phone-out), and the server's local CA is given with --add-ca so that chain
of trust and hostname are really checked, not excused.

Sections run: protocols (-p), cipher categories (-s), forward secrecy (-f), server preference
(-P), server defaults and certificate (-S), vulnerabilities (-U), HTTP headers (-h, https).
Left out: the per-cipher list (-e) and client simulations (-c), which only ever report INFO
and double the time. testssl 3.0 cannot run its socket checks over LDAP STARTTLS ("FIXME:
LDAP+STARTTLS over sockets not supported yet"), so the ldap port runs with --ssl-native and
the sections that work there (-p -e -f -S -U); the same TLS settings are scanned in full on
ldaps.

The test fails on any finding rated MEDIUM, HIGH or CRITICAL, and on FATAL (a scan that did not
run is no pass). The only exception is named in ACCEPTED below. The JSON is written without
--severity so that the protocol and trust findings can be checked as well (TLS 1.2+ only, per
DESIGN.md "Security defaults"); the severity filter is applied here."""
import concurrent.futures
import json
import os
import subprocess
import time

from support import LISTENERS, ServerTest, main

TESTSSL = "/usr/bin/testssl"
HOST = "mail.tinhmau.test"  # the server certificate's name (its SAN also holds 127.0.0.1)
LOCAL_CA_ISSUER = "Congvu local CA (Congvu)"

# Every listener in support.LISTENERS speaks TLS: implicit (None) or STARTTLS (protocol).
STARTTLS = {"smtp": "smtp", "submission": "smtp", "smtps": None, "imap": "imap", "imaps": None,
            "https": None, "ldap": "ldap", "ldaps": None}
SECTIONS = ["-p", "-s", "-f", "-P", "-S", "-U"]
SEVERE = {"MEDIUM", "HIGH", "CRITICAL", "FATAL"}

# Findings accepted because they describe the certificate this test runs with, not the server:
# with [tls] cert/key left empty the server issues its own certificate from the local CA in
# data_dir/tls. A private CA has no CRL or OCSP responder to name, so testssl's
# "cert_revocation: Neither CRL nor OCSP URI provided" (HIGH) is a property of that test
# certificate; a deployment with a certificate from a public CA gets its CA's CRL/OCSP URIs.
# Accepted only when the certificate is issued by the local CA (checked per scan).
ACCEPTED = {"cert_revocation"}


def findings(doc):
    """Every finding of a --jsonfile-pretty document: (section, id, severity, finding)."""
    out = []
    for key, value in doc.items():
        if isinstance(value, list) and key != "scanResult":
            out += [(key, f.get("id", ""), f.get("severity", ""), f.get("finding", "")) for f in value if isinstance(f, dict)]
    for scan in doc.get("scanResult", []):
        for section, value in scan.items():
            if isinstance(value, list):
                out += [(section, f.get("id", ""), f.get("severity", ""), f.get("finding", "")) for f in value]
    return out


def base_id(finding_id):
    return finding_id.split(" ")[0]  # "cert_revocation <cert#1>" when there are several certificates


class SecurityTls(ServerTest):
    """One server, scanned once (in the first test's setUp, two scans at a time: testssl waits
    on the network about half of its time); then one test per listener judges its scan."""
    scans = None  # listener -> (argv, seconds, JSON, text), or the exception that stopped the scans

    def setUp(self):
        super().setUp()
        cls = type(self)
        if cls.scans is None:
            try:
                proc, self.info = self.start()
                self.ca = self.info["ca"]
                self.ports = self.info["ports"]
                cls.ports = dict(self.ports)
                with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                    futures = {name: pool.submit(self.run_testssl, name) for name in self.ports if name in STARTTLS}
                    cls.scans = {name: f.result() for name, f in futures.items()}
                self.stop(proc)
                for name, (argv, took, doc, _) in sorted(cls.scans.items()):
                    notes = " ".join(sorted({f"{fid}[{sev}]" for _, fid, sev, _ in findings(doc) if sev not in ("OK", "INFO")}))
                    print(f"{name}: port {self.ports[name]}, {took:.0f} s; above INFO: {notes}", flush=True)
            except BaseException as e:
                cls.scans = e
                raise
        if isinstance(cls.scans, BaseException):
            self.fail(f"the scans did not complete: {cls.scans!r}")

    def run_testssl(self, name):
        """Runs testssl on listener `name`; returns (argv, seconds, parsed JSON, text output)."""
        port = self.ports[name]
        jsonfile = os.path.join(self.tmp, f"testssl-{name}.json")
        argv = [TESTSSL, "--quiet", "--color", "0", "--warnings", "off", "--openssl-timeout", "5", "--connect-timeout", "5",
                "--nodns", "none", "--ip", "127.0.0.1", "--add-ca", self.ca, "--jsonfile-pretty", jsonfile]
        proto = STARTTLS[name]
        if proto:
            argv += ["--starttls", proto]
        if proto == "ldap":
            argv += ["--ssl-native", "-p", "-e", "-f", "-S", "-U"]
        else:
            argv += SECTIONS + (["-h"] if name == "https" else [])
        argv.append(f"{HOST}:{port}")
        t0 = time.monotonic()
        # testssl's exit status counts its findings; the JSON is what is judged.
        p = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=self.tmp, stdin=subprocess.DEVNULL)
        took = time.monotonic() - t0
        if not os.path.exists(jsonfile):
            raise AssertionError(f"{name}: testssl wrote no JSON (exit {p.returncode})\n{p.stdout}\n{p.stderr}")
        with open(jsonfile) as f:
            return argv, took, json.load(f), p.stdout

    def check(self, name):
        """The assertions on one listener's scan."""
        self.assertIn(name, self.scans, f"{name} is not a listener of the server")
        argv, _, doc, text = self.scans[name]
        got = findings(doc)
        by_id = {}
        for _, fid, sev, finding in got:
            by_id.setdefault(base_id(fid), (sev, finding))
        context = (f"\n{name} ({' '.join(argv)}):\n" +
                   "\n".join(f"  {fid} [{sev}] {finding}" for _, fid, sev, finding in got if sev not in ("OK", "INFO")))
        # The scan ran and reached the server: its protocol findings are there.
        for fid in ("TLS1_2", "TLS1_3"):
            self.assertIn(fid, by_id, f"{name}: no {fid} finding, the scan did not run" + context + "\n" + text[-3000:])
            self.assertTrue(by_id[fid][1].startswith("offered"), f"{name}: {fid} {by_id[fid]}" + context)
        for fid in ("TLS1", "TLS1_1"):
            self.assertEqual(by_id.get(fid, ("", ""))[1], "not offered", f"{name}: {fid}" + context)
        for fid in ("SSLv2", "SSLv3"):
            sev, finding = by_id.get(fid, ("", ""))
            # With --ssl-native (ldap STARTTLS) Debian's OpenSSL 3 cannot speak SSLv2/3 at all:
            # testssl reports a local problem (WARN); the sockets scan of ldaps covers them.
            self.assertTrue(finding == "not offered" or (STARTTLS[name] == "ldap" and sev == "WARN"), f"{name}: {fid} {sev} {finding}" + context)
        # The certificate is trusted through --add-ca and matches the name: trust is checked, not excused.
        self.assertEqual(by_id.get("cert_chain_of_trust"), ("OK", "passed."), f"{name}: chain of trust" + context)
        self.assertEqual(by_id.get("cert_trust", ("",))[0], "OK", f"{name}: hostname" + context)
        local_ca = by_id.get("cert_caIssuers", ("", ""))[1] == LOCAL_CA_ISSUER
        severe = [(fid, sev, finding) for _, fid, sev, finding in got
                  if sev in SEVERE and not (local_ca and base_id(fid) in ACCEPTED)]
        self.assertEqual(severe, [], f"{name}: testssl findings at MEDIUM or above:\n" +
                         "\n".join(f"  {fid} [{sev}] {finding}" for fid, sev, finding in severe) + context)

    def test_every_listener_is_scanned(self):
        # A new listener must be added to STARTTLS (and so be scanned) before this passes.
        self.assertEqual(set(self.ports), set(LISTENERS))
        self.assertEqual(set(self.ports), set(STARTTLS))

    def test_smtp_starttls(self):
        self.check("smtp")

    def test_submission_starttls(self):
        self.check("submission")

    def test_smtps(self):
        self.check("smtps")

    def test_imap_starttls(self):
        self.check("imap")

    def test_imaps(self):
        self.check("imaps")

    def test_https(self):
        self.check("https")

    def test_ldap_starttls(self):
        self.check("ldap")

    def test_ldaps(self):
        self.check("ldaps")


if __name__ == "__main__":
    main()
