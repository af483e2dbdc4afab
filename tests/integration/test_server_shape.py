"""The one connection loop under every listener (common/net/serve.hpp), on the real server:
failures answered with the protocol's temporary error (faults injected with
CONGVU_TEST_FAULTS), the graceful stop (SIGTERM during DATA and during a long FETCH), connection
caps per source and in total (clients bind distinct 127.0.0.x addresses to act as several
sources; an office of 500 behind one address with 5 IMAP connections each), the accept back-off
on EMFILE (CPU time read from /proc), and the PROXY protocol v2 from an allowed balancer and
from anyone else. Nothing here waits for a timer to decide: every assertion is on what the
server answers."""
import json
import os
import warnings
import resource
import signal
import smtplib
import socket
import ssl
import struct
import subprocess
import time

import ldap

from support import BIN, ServerTest, main, run

PASSWORD = "CongVu-demo-2026"


def connect(port, source="127.0.0.1", timeout=60):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    return s


def read_until(s, marker, limit=1 << 26):
    got = b""
    while marker not in got:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
        if len(got) > limit:
            break
    return got


def read_all(s):
    got = b""
    while True:
        try:
            chunk = s.recv(1 << 20)
        except (ConnectionResetError, ssl.SSLError):
            break
        if not chunk:
            break
        got += chunk
    return got


def proxy_v2(src, src_port, dst="127.0.0.1", dst_port=25):
    body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", src_port, dst_port)
    return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


# searchRequest (message 1): base "", scope base, filter (objectClass=*), no attributes.
_search = (b"\x04\x00" b"\x0a\x01\x00" b"\x0a\x01\x00" b"\x02\x01\x00" b"\x02\x01\x00" b"\x01\x01\x00"
           b"\x87\x0bobjectClass" b"\x30\x00")
_op = b"\x63" + bytes([len(_search)]) + _search
ROOT_DSE_SEARCH = b"\x30" + bytes([3 + len(_op)]) + b"\x02\x01\x01" + _op


class Shape(ServerTest):
    def setUp(self):
        super().setUp()
        warnings.simplefilter("ignore", ResourceWarning)  # sockets left to the server to close

    def serve(self, extra_config="", env=None, wrapper=()):
        self.proc, self.info = self.start(extra_config="[mail]\ncheck_inbound = false\nimap_plaintext_loopback = true\n"
                                          'dns_servers = "127.0.0.1:9"\n' + extra_config, env=env, wrapper=wrapper)
        self.ca = self.info["ca"]
        self.ports = self.info["ports"]

    def messages(self, who):
        return json.loads(run("mail", "list", who, "--json", data=self.data)[1])

    def body(self, who, uid):
        p = subprocess.run([BIN, "mail", "cat", who, str(uid), "--data", self.data], capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def stop_and_check(self):
        self.assertEqual(self.proc.wait(timeout=120), 0, self.read_log())
        self.assertIn("stopped", self.read_log())

    # --- failures become the protocol's temporary error --------------------------------

    def test_a_delivery_that_throws_answers_451_and_the_next_transaction_works(self):
        self.serve(env={"CONGVU_TEST_FAULTS": "smtp.deliver=1"})
        with smtplib.SMTP("127.0.0.1", self.ports["smtp"], timeout=60) as c:
            c.ehlo("mx.example.net")
            c.mail("sender@example.net")
            c.rcpt("annv@tinhmau.test")
            code, text = c.data(b"Subject: first\r\n\r\nThe first message.\r\n")
            self.assertEqual((code, text[:5]), (451, b"4.3.0"), text)
            # The same connection: a new transaction is delivered.
            c.mail("sender@example.net")
            c.rcpt("annv@tinhmau.test")
            code, text = c.data(b"Subject: second\r\n\r\nThe second message.\r\n")
            self.assertEqual(code, 250, text)
        msgs = self.messages("annv")
        self.assertEqual(len(msgs), 1, "nothing of the failed transaction is stored")
        self.assertIn(b"Subject: second", self.body("annv", msgs[0]["uid"]))
        self.assertIn("internal error: injected fault at smtp.deliver", self.read_log())

    def test_imap_ldap_and_https_failures_answer_before_closing(self):
        self.serve(env={"CONGVU_TEST_FAULTS": "imap.command=1,ldap.request=1,http.request=1"})
        s = connect(self.ports["imap"])
        self.assertIn(b"* OK", read_until(s, b"\r\n"))
        s.sendall(b"a1 CAPABILITY\r\n")
        self.assertIn(b"* BYE [SERVERBUG]", read_all(s))
        s.close()
        s = connect(self.ports["imap"])  # the next connection works
        read_until(s, b"\r\n")
        s.sendall(b"a1 LOGIN annv " + PASSWORD.encode() + b"\r\n")
        self.assertIn(b"a1 OK", read_until(s, b"a1 "))
        s.close()
        # LDAP: a notice of disconnection with resultCode other (80).
        s = connect(self.ports["ldap"])
        s.sendall(ROOT_DSE_SEARCH)
        notice = read_all(s)
        self.assertIn(b"1.3.6.1.4.1.1466.20036", notice)
        self.assertIn(bytes([0x0a, 0x01, 80]), notice)
        c = ldap.initialize(f"ldap://127.0.0.1:{self.ports['ldap']}")
        self.assertTrue(c.search_s("", ldap.SCOPE_BASE, "(objectClass=*)", ["namingContexts"]))
        # HTTPS: 503 with Retry-After, then the next request is answered.
        ctx = ssl.create_default_context(cafile=self.ca)
        for expect in (b"HTTP/1.1 503", b"HTTP/1.1 200"):
            with ctx.wrap_socket(connect(self.ports["https"]), server_hostname="localhost") as t:
                t.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                answer = read_all(t)
                self.assertTrue(answer.startswith(expect), answer[:100])
        self.assertIn("injected fault at http.request", self.read_log())

    # --- graceful stop ------------------------------------------------------------------

    def test_sigterm_during_data_lets_the_message_finish_then_421(self):
        self.serve("[limits]\ngrace_seconds = 600\n")
        s = connect(self.ports["smtp"])
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"220"))
        s.sendall(b"EHLO mx.example.net\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        s.sendall(b"MAIL FROM:<sender@example.net>\r\nRCPT TO:<annv@tinhmau.test>\r\nDATA\r\n")
        for expect in (b"250", b"250", b"354"):
            self.assertTrue(f.readline().startswith(expect))
        s.sendall(b"Subject: during the stop\r\n\r\nFirst half.\r\n")
        # Idle clients on other listeners are closed at once, with their protocol's goodbye.
        idle = connect(self.ports["imap"])
        read_until(idle, b"\r\n")
        idle_ldap = connect(self.ports["ldap"])
        idle_ldap.sendall(ROOT_DSE_SEARCH)
        self.assertTrue(idle_ldap.recv(65536).startswith(b"\x30"))
        self.proc.send_signal(signal.SIGTERM)
        self.assertIn(b"* BYE [UNAVAILABLE]", read_all(idle))
        notice = read_all(idle_ldap)
        self.assertIn(b"1.3.6.1.4.1.1466.20036", notice)  # notice of disconnection
        self.assertIn(bytes([0x0a, 0x01, 52]), notice)      # resultCode unavailable
        # The message in progress may finish: 250, then the server's 421 and the close.
        s.sendall(b"Second half.\r\n.\r\n")
        self.assertTrue(f.readline().startswith(b"250 2.0.0 Ok: queued"))
        self.assertTrue(f.readline().startswith(b"421 4.3.2"))
        self.assertEqual(f.readline(), b"")
        self.stop_and_check()
        msgs = self.messages("annv")
        self.assertEqual(len(msgs), 1)
        self.assertIn(b"Second half.", self.body("annv", msgs[0]["uid"]))

    def test_sigterm_during_data_after_the_grace_period_refuses_with_421_and_stores_nothing(self):
        self.serve("[limits]\ngrace_seconds = 1\n")
        s = connect(self.ports["smtp"])
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"HELO mx.example.net\r\nMAIL FROM:<sender@example.net>\r\nRCPT TO:<annv@tinhmau.test>\r\nDATA\r\n")
        for expect in (b"250", b"250", b"250", b"354"):
            self.assertTrue(f.readline().startswith(expect))
        s.sendall(b"Subject: never finished\r\n\r\nHalf a message.\r\n")
        self.proc.send_signal(signal.SIGTERM)
        # The client never ends the message: once the grace period is over, 421 and the close.
        self.assertTrue(f.readline().startswith(b"421 4.3.2"))
        self.assertEqual(f.readline(), b"")
        self.stop_and_check()
        self.assertEqual(self.messages("annv"), [])

    def test_sigterm_during_a_long_fetch_finishes_it_then_bye(self):
        self.serve("[limits]\ngrace_seconds = 600\n")
        big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 30000  # 30 MB: more than the socket buffers
        with smtplib.SMTP("127.0.0.1", self.ports["smtp"], timeout=120) as c:
            c.sendmail("sender@example.net", ["annv@tinhmau.test"], big)
        s = connect(self.ports["imap"])
        read_until(s, b"\r\n")
        s.sendall(b"a1 LOGIN annv " + PASSWORD.encode() + b"\r\na2 SELECT INBOX\r\n")
        read_until(s, b"a2 OK")
        s.sendall(b"a3 FETCH 1 BODY[]\r\n")
        head = read_until(s, b"}\r\n")  # the FETCH has begun and cannot fit in the buffers
        self.assertIn(b"* 1 FETCH (", head)
        self.proc.send_signal(signal.SIGTERM)
        rest = read_all(s)
        got = head + rest
        self.assertIn(b"a3 OK", got)
        self.assertGreater(len(got), len(big))
        self.assertTrue(got.rstrip().endswith(b"* BYE [UNAVAILABLE] Server shutting down, reconnect later"), got[-200:])
        self.stop_and_check()

    # --- caps ---------------------------------------------------------------------------

    def test_caps_per_source_and_in_total_with_each_protocols_answer(self):
        self.serve("[limits]\nconnections_per_source = 3\nconnections = 5\n")
        imap = self.ports["imap"]
        held = [connect(imap, "127.0.0.2") for _ in range(3)]
        for s in held:
            self.assertIn(b"* OK", read_until(s, b"\r\n"))
        over = connect(imap, "127.0.0.2")
        self.assertIn(b"* BYE [UNAVAILABLE] Too many connections", read_all(over))
        # Another source is not affected, up to the listener's total.
        for src in ("127.0.0.3", "127.0.0.4"):
            s = connect(imap, src)
            self.assertIn(b"* OK", read_until(s, b"\r\n"))
            held.append(s)
        self.assertIn(b"* BYE [UNAVAILABLE]", read_all(connect(imap, "127.0.0.5")))
        # A connection that ends frees its place.
        held.pop(0).close()
        s = self.retry_until_admitted(imap, "127.0.0.2")
        held.append(s)
        # The other protocols' answers.
        smtp = [connect(self.ports["smtp"], "127.0.0.6") for _ in range(3)]
        for s in smtp:
            self.assertTrue(read_until(s, b"\r\n").startswith(b"220"))
        self.assertTrue(read_all(connect(self.ports["smtp"], "127.0.0.6")).startswith(b"421 4.7.0"))
        # LDAP and HTTP clients speak first: an answer on each shows it was admitted (connections
        # are admitted on several threads, not necessarily in the order they were opened).
        ldaps = [connect(self.ports["ldap"], "127.0.0.7") for _ in range(3)]
        for s in ldaps:
            s.sendall(ROOT_DSE_SEARCH)
            answer = s.recv(65536)
            self.assertTrue(answer.startswith(b"\x30") and b"1.3.6.1.4.1.1466.20036" not in answer, answer)
        notice = read_all(connect(self.ports["ldap"], "127.0.0.7"))
        self.assertIn(b"1.3.6.1.4.1.1466.20036", notice)  # notice of disconnection
        self.assertIn(bytes([0x0a, 0x01, 51]), notice)      # resultCode busy
        ctx = ssl.create_default_context(cafile=self.ca)
        https = [ctx.wrap_socket(connect(self.ports["https"], "127.0.0.8"), server_hostname="localhost") for _ in range(3)]
        for t in https:
            t.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            self.assertIn(b"HTTP/1.1 200", read_until(t, b"}"))
        with ctx.wrap_socket(connect(self.ports["https"], "127.0.0.8"), server_hostname="localhost") as t:
            self.assertTrue(read_all(t).startswith(b"HTTP/1.1 503"))
        for s in held + smtp + ldaps + https:
            s.close()
        self.assertIn("refused: too many connections", self.read_log())

    def retry_until_admitted(self, port, source):
        # The server counts the closed connection out when it notices the close; ask again until
        # it has (each answer is the server's own, nothing is timed).
        for _ in range(200):
            s = connect(port, source)
            line = read_until(s, b"\r\n")
            if line.startswith(b"* OK"):
                return s
            s.close()
        self.fail("the freed place was never given back")

    def test_an_office_of_500_behind_one_address(self):
        # Thunderbird keeps up to 5 IMAP connections per account: 2 500 from one NAT address
        # work with the default caps.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 3000 <= hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.serve()
        conns = []
        try:
            for _ in range(2500):
                conns.append(connect(self.ports["imap"], "127.0.0.9"))
            for i, s in enumerate(conns):
                self.assertIn(b"* OK", read_until(s, b"\r\n"), f"connection {i}")
            for i, s in enumerate(conns):
                s.sendall(b"a NOOP\r\n")
            for i, s in enumerate(conns):
                self.assertIn(b"a OK", read_until(s, b"a OK"), f"connection {i}")
        finally:
            for s in conns:
                s.close()

    def test_emfile_backs_off_instead_of_spinning(self):
        # 64 descriptors in all: the server runs out while accepting, and must wait, not spin.
        self.serve(wrapper=("prlimit", "--nofile=64:64"))
        pid = self.info["pid"]
        conns = []
        for _ in range(80):
            conns.append(connect(self.ports["smtp"]))
        for _ in range(200):
            if "backing off" in self.read_log():
                break
            time.sleep(0.05)
        self.assertIn("cannot accept: Too many open files; backing off", self.read_log())

        def cpu():
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        c0, t0 = cpu(), time.monotonic()
        time.sleep(3)
        used, wall = cpu() - c0, time.monotonic() - t0
        print(f"\nEMFILE: {used:.2f} s of CPU in {wall:.2f} s")
        self.assertLess(used, 0.25 * wall, "the accept loop spins on EMFILE")
        for s in conns:
            s.close()
        # Descriptors come back: the server accepts again and answers. It first works through
        # the dead connections left in the backlog (slow on a busy machine or under ASan), so
        # the bound is generous and only a server that never recovers reaches it.
        deadline, last = time.monotonic() + 300, None
        while True:
            try:
                s = connect(self.ports["smtp"], timeout=60)
                last = read_until(s, b"\r\n")
                s.close()
                if last.startswith(b"220"):
                    break
            except OSError as e:
                last = e
            alive = os.path.exists(f"/proc/{pid}") and self.proc.poll() is None
            if not alive or time.monotonic() > deadline:
                self.fail(f"the server never accepted again (alive: {alive}, last answer: {last!r})\n"
                          + self.read_log()[-2000:])
            time.sleep(0.1)
        self.proc.send_signal(signal.SIGTERM)
        self.stop_and_check()

    # --- PROXY protocol v2 ----------------------------------------------------------------

    def test_proxy_v2_from_the_balancer_names_the_client_and_is_refused_from_others(self):
        self.serve('[limits]\nproxy_from = ["127.0.0.2"]\n')
        # From the balancer: the client's address reaches the Received header and the logs.
        s = connect(self.ports["smtp"], "127.0.0.2")
        s.sendall(proxy_v2("203.0.113.7", 40000))
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"220"))
        s.sendall(b"HELO mx.example.net\r\nMAIL FROM:<sender@example.net>\r\nRCPT TO:<annv@tinhmau.test>\r\nDATA\r\n")
        for expect in (b"250", b"250", b"250", b"354"):
            self.assertTrue(f.readline().startswith(expect))
        s.sendall(b"Subject: via the balancer\r\n\r\nHello.\r\n.\r\nQUIT\r\n")
        self.assertTrue(f.readline().startswith(b"250"))
        s.close()
        msgs = self.messages("annv")
        self.assertTrue(self.body("annv", msgs[0]["uid"]).startswith(b"Received: from mx.example.net ([203.0.113.7])"))
        # Over TLS too: the header comes before the handshake.
        ctx = ssl.create_default_context(cafile=self.ca)
        raw = connect(self.ports["https"], "127.0.0.2")
        raw.sendall(proxy_v2("203.0.113.8", 40001, dst_port=443))
        with ctx.wrap_socket(raw, server_hostname="localhost") as t:
            t.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            self.assertTrue(read_all(t).startswith(b"HTTP/1.1 200"))
        # From the balancer without a header: closed without an answer.
        s = connect(self.ports["smtp"], "127.0.0.2")
        s.sendall(b"EHLO x\r\n")
        self.assertEqual(read_all(s), b"")
        # From anyone else a PROXY header is refused: the connection ends.
        s = connect(self.ports["smtp"], "127.0.0.3")
        self.assertTrue(read_until(s, b"\r\n").startswith(b"220"))
        s.sendall(proxy_v2("198.51.100.1", 1) + b"HELO spoof\r\nMAIL FROM:<a@example.net>\r\n")
        self.assertEqual(read_all(s), b"")
        log = self.read_log()
        self.assertIn("no valid PROXY v2 header from a balancer", log)
        self.assertIn("127.0.0.3: closed: a PROXY header from an address that is not a configured balancer", log)
        self.assertEqual(len(self.messages("annv")), 1)


if __name__ == "__main__":
    main()
