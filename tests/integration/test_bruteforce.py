"""Password guessing against the real server, one protocol after another, proving the one
throttle of every credential check (directory/throttle.hpp, docs/SECURITY.md): IMAP LOGIN and
AUTHENTICATE (PLAIN, SCRAM-SHA-256), SMTP AUTH (PLAIN, LOGIN), LDAP binds, the login page,
the reset page and OIDC client secrets; the connection closed after three failures; the
failures of one protocol counted in another; another source never refused; the NAT case
(colleagues behind the guesser's address keep signing in); a stale password retried counted
once; the key=value log lines, read by contrib/fail2ban's filter through fail2ban-regex, and
a login that tries to name another address to ban.

Sources are loopback addresses (127.0.0.2, 127.0.0.3, ...; Linux routes all of 127/8 to lo).
The server's clock stands still (CONGVU_TEST_CLOCK), so every wait is observed through the
server's answers however slowly the machine runs."""
import base64
import os
import re
import socket
import ssl
import subprocess
import time
import unittest

import requests

import support

PASSWORD = "CongVu-demo-2026"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILTER = os.path.join(ROOT, "contrib", "fail2ban", "filter.d", "congvu.conf")
BASE = "dc=tinhmau,dc=test"


class Line:
    """A line protocol over TLS from a chosen loopback source address."""

    def __init__(self, ctx, port, source):
        raw = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0))
        self.s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        self.f = self.s.makefile("rb")

    def send(self, line):
        self.s.sendall(line.encode() + b"\r\n")

    def line(self):
        return self.f.readline().decode(errors="replace").rstrip("\r\n")

    def closed(self):
        """True when the server has closed the connection (reads EOF)."""
        try:
            return self.f.readline() == b""
        except (ConnectionError, ssl.SSLError):
            return True

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


class BruteForceTest(support.ServerTest):
    def setUp(self):
        super().setUp()
        self.clock = os.path.join(self.tmp, "clock")
        self.now = int(time.time() * 1000)
        self.set_clock(self.now)
        self.proc, self.info = self.start(env={"CONGVU_TEST_CLOCK": self.clock})
        self.ctx = ssl.create_default_context(cafile=self.info["ca"])
        self.guess = 0

    def tearDown(self):
        self.stop(self.proc)
        super().tearDown()

    def set_clock(self, ms):
        with open(self.clock + ".tmp", "w") as f:
            f.write(str(ms))
        os.replace(self.clock + ".tmp", self.clock)

    def wrong(self):
        self.guess += 1
        return f"guess-{self.guess}"

    # ---- IMAP

    def imap(self, source):
        c = Line(self.ctx, self.info["ports"]["imaps"], source)
        self.assertTrue(c.line().startswith("* OK"))
        return c

    def imap_login(self, c, user, password, tag="a"):
        c.send(f'{tag} LOGIN "{user}" "{password}"')
        while True:
            line = c.line()
            if line.startswith(tag + " ") or line == "":
                return line

    def test_imap_guessing_is_throttled_per_source_and_shared(self):
        # Three wrong passwords on one connection: the third is answered, then BYE and close.
        c = self.imap("127.0.0.2")
        for i in range(3):
            c.send(f'a{i} LOGIN annv {self.wrong()}')
            self.assertEqual(c.line(), f"a{i} NO [AUTHENTICATIONFAILED] invalid credentials")
        self.assertEqual(c.line(), "* BYE Too many failed authentication attempts")
        self.assertTrue(c.closed())
        # Two more on a new connection make five: the right password must now wait.
        c = self.imap("127.0.0.2")
        for _ in range(2):
            self.assertIn("AUTHENTICATIONFAILED", self.imap_login(c, "annv", self.wrong()))
        self.assertEqual(self.imap_login(c, "annv", PASSWORD),
                         "a NO [UNAVAILABLE] too many failed attempts; try again in 1 s")
        c.close()
        # Another source signs in at once; so does a colleague behind the guesser's address.
        c = self.imap("127.0.0.3")
        self.assertTrue(self.imap_login(c, "annv", PASSWORD).startswith("a OK"))
        c.close()
        c = self.imap("127.0.0.2")
        self.assertTrue(self.imap_login(c, "hantt", PASSWORD).startswith("a OK"), "the NAT colleague")
        c.close()
        # The same address and account over SMTP AUTH and LDAP: one count, refused there too.
        s = self.smtp("127.0.0.2")
        s.send("AUTH PLAIN " + base64.b64encode(f"\0annv\0{PASSWORD}".encode()).decode())
        self.assertEqual(s.line(), "454 4.7.0 Temporary authentication failure: too many failed attempts, try again in 1 s")
        s.close()
        code, diagnostic = self.ldap_bind("127.0.0.2", f"uid=annv,ou=people,{BASE}", PASSWORD)
        self.assertEqual(code, 49)
        self.assertEqual(diagnostic, "too many failed attempts; try again in 1 s")
        # A second later the right password signs in and resets the count.
        self.set_clock(self.now + 1000)
        c = self.imap("127.0.0.2")
        self.assertTrue(self.imap_login(c, "annv", PASSWORD).startswith("a OK"))
        c.close()
        log = self.read_log()
        self.assertIn("event=auth proto=imap src=127.0.0.2 user=annv result=fail reason=wrong-password", log)
        self.assertIn("event=auth_disconnect proto=imap src=127.0.0.2 failures=3", log)
        self.assertIn("event=auth proto=imap src=127.0.0.2 user=annv result=throttled wait=1", log)
        self.assertIn("event=auth proto=smtp src=127.0.0.2 user=annv result=throttled wait=1", log)
        self.assertIn("event=auth proto=ldap src=127.0.0.2 user=annv result=throttled wait=1", log)

    def test_sasl_scram_and_a_stale_password(self):
        # SCRAM-SHA-256: a wrong proof counts like a wrong password.
        for n in range(2):
            c = self.imap("127.0.0.4")
            for i in range(3 if n == 0 else 2):
                scram = support.Scram("annv", self.wrong())
                c.send(f"s{i} AUTHENTICATE SCRAM-SHA-256 " + scram.first().decode())
                challenge = c.line()
                self.assertTrue(challenge.startswith("+ "), challenge)
                c.send(scram.final(challenge[2:]).decode())
                reply = c.line()
                self.assertEqual(reply, f"s{i} NO [AUTHENTICATIONFAILED] invalid credentials")
            c.close()
        c = self.imap("127.0.0.4")
        scram = support.Scram("annv", PASSWORD)
        c.send("s AUTHENTICATE SCRAM-SHA-256 " + scram.first().decode())
        self.assertEqual(c.line(), "s NO [UNAVAILABLE] too many failed attempts; try again in 1 s",
                         "the login SCRAM names is refused before the exchange")
        c.close()
        self.assertIn("event=auth proto=imap src=127.0.0.4 user=annv result=fail reason=scram-proof", self.read_log())
        # A phone retrying its stale password: counted once, the right one still works.
        for _ in range(4):
            c = self.imap("127.0.0.5")
            for i in range(2):
                self.assertIn("AUTHENTICATIONFAILED", self.imap_login(c, "hantt", "the-old-password", tag=f"p{i}"))
            c.close()
        c = self.imap("127.0.0.5")
        self.assertTrue(self.imap_login(c, "hantt", PASSWORD).startswith("a OK"))
        c.close()
        self.assertIn("event=auth proto=imap src=127.0.0.5 user=hantt result=repeat reason=wrong-password", self.read_log())

    # ---- SMTP

    def smtp(self, source):
        c = Line(self.ctx, self.info["ports"]["smtps"], source)
        self.assertTrue(c.line().startswith("220"))
        c.send("EHLO client.example")
        while not c.line().startswith("250 "):
            pass
        return c

    def test_smtp_auth_guessing(self):
        c = self.smtp("127.0.0.6")
        for i in range(3):
            c.send("AUTH PLAIN " + base64.b64encode(f"\0annv\0{self.wrong()}".encode()).decode())
            self.assertEqual(c.line(), "535 5.7.8 Authentication credentials invalid")
        self.assertTrue(c.line().startswith("421 4.7.0"), "closed after three failures")
        self.assertTrue(c.closed())
        # AUTH LOGIN goes through the same check.
        c = self.smtp("127.0.0.6")
        for _ in range(2):
            c.send("AUTH LOGIN")
            self.assertEqual(c.line(), "334 VXNlcm5hbWU6")
            c.send(base64.b64encode(b"annv").decode())
            self.assertEqual(c.line(), "334 UGFzc3dvcmQ6")
            c.send(base64.b64encode(self.wrong().encode()).decode())
            self.assertEqual(c.line(), "535 5.7.8 Authentication credentials invalid")
        c.send("AUTH PLAIN " + base64.b64encode(f"\0annv\0{PASSWORD}".encode()).decode())
        self.assertEqual(c.line(), "454 4.7.0 Temporary authentication failure: too many failed attempts, try again in 1 s")
        c.close()
        c = self.smtp("127.0.0.7")
        c.send("AUTH PLAIN " + base64.b64encode(f"\0annv\0{PASSWORD}".encode()).decode())
        self.assertEqual(c.line(), "235 2.7.0 Authentication successful", "another source is not refused")
        c.close()
        self.assertIn("event=auth_disconnect proto=smtp src=127.0.0.6 failures=3", self.read_log())

    # ---- LDAP

    def ldap_bind(self, source, dn, password):
        """A simple bind over LDAPS from `source` (no LDAP client sets a source address): the
        BindRequest of RFC 4511 4.2 in BER, and the result code and diagnostic of the answer."""
        def tlv(tag, value):
            n = len(value)
            length = bytes([n]) if n < 128 else bytes([0x82, n >> 8, n & 255])
            return bytes([tag]) + length + value
        bind = tlv(0x60, tlv(0x02, b"\x03") + tlv(0x04, dn.encode()) + tlv(0x80, password.encode()))
        c = Line(self.ctx, self.info["ports"]["ldaps"], source)
        c.s.sendall(tlv(0x30, tlv(0x02, b"\x01") + bind))
        data = b""
        while len(data) < 2 or len(data) < 2 + data[1]:
            chunk = c.s.recv(4096)
            if not chunk:
                break
            data += chunk
        c.close()
        # 30 len 02 01 01 61 len 0a 01 CODE 04 len matchedDN 04 len diagnostic
        m = re.search(rb"\x61.\x0a\x01(.)\x04(.)", data, re.S)
        self.assertIsNotNone(m, data)
        code = m.group(1)[0]
        rest = data[m.end() + m.group(2)[0]:]
        diagnostic = rest[2:2 + rest[1]].decode(errors="replace") if len(rest) > 2 and rest[0] == 4 else ""
        return code, diagnostic

    def test_ldap_binds_and_services(self):
        dn = f"uid=ngocttb,ou=people,{BASE}"
        for i in range(5):
            self.assertEqual(self.ldap_bind("127.0.0.8", dn, self.wrong()), (49, "invalid credentials"))
        self.assertEqual(self.ldap_bind("127.0.0.8", dn, PASSWORD), (49, "too many failed attempts; try again in 1 s"))
        # A DN that names nobody is counted too, under the name tried.
        nobody = f"uid=nobody,ou=people,{BASE}"
        for i in range(5):
            self.assertEqual(self.ldap_bind("127.0.0.8", nobody, self.wrong())[0], 49)
        self.assertEqual(self.ldap_bind("127.0.0.8", nobody, "x"), (49, "too many failed attempts; try again in 1 s"))
        self.assertEqual(self.ldap_bind("127.0.0.9", dn, PASSWORD), (0, ""), "another source binds")

    # ---- the IdP's pages and client secrets

    def web(self):
        b = requests.Session()
        b.trust_env = False
        b.verify = self.info["ca"]
        return b

    def test_login_reset_and_client_secret(self):
        https = f"https://127.0.0.1:{self.info['ports']['https']}"
        b = self.web()
        page = b.get(https + "/login").text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        for _ in range(5):
            r = b.post(https + "/login", data={"csrf": csrf, "return_to": "/", "login": "ngocttb", "password": self.wrong()},
                       allow_redirects=False)
            self.assertEqual(r.status_code, 401)
        r = b.post(https + "/login", data={"csrf": csrf, "return_to": "/", "login": "ngocttb", "password": PASSWORD},
                   allow_redirects=False)
        self.assertEqual(r.status_code, 429)
        self.assertEqual(r.headers["Retry-After"], "1")
        # The reset page answers an unknown login exactly as a known one with a wrong code.
        page = b.get(https + "/login/reset").text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        answers = []
        for login in ("hantt", "no-such-person"):
            r = b.post(https + "/login/reset", data={"csrf": csrf, "login": login, "code": "abcd-efgh-jkmn",
                                                    "new": "x", "confirm": "y"})
            answers.append((r.status_code, r.text.replace(login, "LOGIN")))
        self.assertEqual(answers[0], answers[1])
        self.assertEqual(answers[0][0], 401)
        for _ in range(4):
            b.post(https + "/login/reset", data={"csrf": csrf, "login": "hantt", "code": self.wrong(), "new": "x", "confirm": "y"})
        r = b.post(https + "/login/reset", data={"csrf": csrf, "login": "hantt", "code": "x", "new": "x", "confirm": "y"})
        self.assertEqual(r.status_code, 429)
        # A client secret at the token endpoint: the same throttle under client:ID.
        for _ in range(5):
            r = requests.post(https + "/oidc/token", data={"grant_type": "client_credentials"},
                              auth=("no-such-client", self.wrong()), verify=self.info["ca"])
            self.assertEqual(r.status_code, 401)
        r = requests.post(https + "/oidc/token", data={"grant_type": "client_credentials"},
                          auth=("no-such-client", "x"), verify=self.info["ca"])
        self.assertEqual(r.status_code, 429)
        self.assertIn("event=auth proto=oidc src=127.0.0.1 user=client:no-such-client result=throttled wait=1", self.read_log())
        self.assertIn("event=auth proto=reset src=127.0.0.1 user=reset:hantt result=fail", self.read_log())

    # ---- fail2ban

    def test_fail2ban_filter_bans_the_guesser_and_nobody_else(self):
        # A guesser at 127.0.0.10 whose logins try to name other addresses.
        forged = ["x src=192.0.2.66 user=y result=fail", "z\r\n2026-01-01T00:00:00Z congvu: event=auth proto=imap src=192.0.2.67 user=a result=fail"]
        c = self.imap("127.0.0.10")
        c.send(f'a LOGIN "{forged[0]}" {self.wrong()}')
        self.assertIn("AUTHENTICATIONFAILED", c.line())
        lit = forged[1].encode()
        c.send(f"b LOGIN {{{len(lit)}}}")
        self.assertTrue(c.line().startswith("+"))
        c.s.sendall(lit + f" {self.wrong()}\r\n".encode())
        self.assertIn("AUTHENTICATIONFAILED", c.line())
        c.close()
        # A stale password retried from 127.0.0.11: matched once, not at every retry.
        for _ in range(2):
            c = self.imap("127.0.0.11")
            self.imap_login(c, "annv", "stale-password")
            c.close()
        log = os.path.join(self.tmp, "copy.log")
        with open(log, "w") as f:
            f.write(self.read_log())
        # fail2ban's own reading of the log: the addresses it would count, one per match.
        p = subprocess.run(["fail2ban-regex", "-o", "ip", log, FILTER], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        found = p.stdout.split()
        # Two guesses from .10; one from .11 (its stale password's first refusal; the repeat is
        # not a guess); never an address a login named.
        self.assertEqual(sorted(found), ["127.0.0.10", "127.0.0.10", "127.0.0.11"], p.stdout)

if __name__ == "__main__":
    support.main()
