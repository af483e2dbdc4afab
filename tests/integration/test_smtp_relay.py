"""No open relay and no SMTP smuggling, on the real server with raw sockets (the bytes on the
wire are exactly the ones written here):
- the MX port without AUTH refuses every address that would take mail elsewhere: another
  domain (any case), the percent hack, source routes, bang paths, quoted local parts holding
  an address, unqualified addresses, address literals, trailing dots, look-alike domains;
- the MX port refuses our own domain as MAIL FROM (DESIGN.md "Security defaults": no open
  relay; the server's rule: "mail from our own domain arrives through submission, never from
  outside");
- submission (STARTTLS and implicit TLS) takes no transaction before AUTH (530 5.7.0), and after
  AUTH no sender the person does not own;
- SMTP smuggling (SEC Consult, December 2023) on every SMTP port: the end-of-data variants
  <LF>.<LF>, <LF>.<CR><LF>, <CR>.<LF>, <CR><LF>.<CR>, <CR><LF>.<LF> (and <CR>.<CR><LF>,
  <CR><LF>.<CR><CR><LF>) followed by a second MAIL/RCPT/DATA inside one DATA, the same bytes in
  BDAT, and a submission whose bare LF would be relayed to another domain. The server may refuse
  the message or take it whole as one message; it must never start the smuggled one;
- commands pipelined behind STARTTLS are discarded (RFC 3207 5).
Every refusal is checked by its reply code and enhanced code, and by what reached the store:
`congvu mail list` and `congvu queue list` after each vector, IMAP (imaplib over IMAPS) at the
end; a positive control first shows that the same path does deliver."""
import base64
import imaplib
import json
import socket
import ssl

from support import ServerTest, main, run

PASSWORD = "CongVu-demo-2026"
HOST = "mail.tinhmau.test"


class Conn:
    """One SMTP connection on raw bytes: replies are read whole (all continuation lines)."""

    def __init__(self, port, ctx=None, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if ctx is not None:
            self.sock = ctx.wrap_socket(self.sock, server_hostname=HOST)
        self.buf = b""
        self.greeting = self.reply()

    def _recv(self):
        try:
            return self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
            return b""

    def reply(self):
        """The next reply as (code, text of the last line), or (None, "") when the server closed."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self._recv()
                if not chunk:
                    return (None, "") if not lines else (int(lines[-1][:3]), lines[-1][4:])
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            line = line.decode("utf-8", "replace")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), line[4:]

    def replies(self):
        """Every reply until the server closes the connection."""
        out = []
        while True:
            r = self.reply()
            if r[0] is None:
                return out
            out.append(r)

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, line):
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def starttls(self, ctx):
        code, text = self.cmd("STARTTLS")
        assert code == 220, (code, text)
        assert self.buf == b"", self.buf
        self.sock = ctx.wrap_socket(self.sock, server_hostname=HOST)

    def close(self):
        self.sock.close()


class Relay(ServerTest):
    def setUp(self):
        super().setUp()
        self.proc, self.info = self.start()
        self.ctx = ssl.create_default_context(cafile=self.info["ca"])
        self.ports = self.info["ports"]

    def tearDown(self):
        self.stop(self.proc)
        super().tearDown()

    # ---- what reached the store

    def messages(self, who, mailbox="INBOX"):
        return json.loads(run("mail", "list", who, "--mailbox", mailbox, "--json", data=self.data)[1])

    def body(self, who, uid):
        import subprocess
        from support import BIN
        p = subprocess.run([BIN, "mail", "cat", who, str(uid), "--data", self.data], capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def queue(self):
        return json.loads(run("queue", "list", "--json", data=self.data)[1])

    def imap_subjects(self, user):
        """The Subject of every message in `user`'s INBOX, over IMAPS with the CA verified."""
        m = imaplib.IMAP4_SSL("127.0.0.1", self.ports["imaps"], ssl_context=self.ctx)
        try:
            m.login(user, PASSWORD)
            typ, data = m.select("INBOX", readonly=True)
            self.assertEqual(typ, "OK", data)
            typ, data = m.search(None, "ALL")
            self.assertEqual(typ, "OK", data)
            subjects = []
            for n in data[0].split():
                typ, got = m.fetch(n, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                self.assertEqual(typ, "OK", got)
                subjects.append(got[0][1].decode().strip())
            return subjects
        finally:
            m.logout()

    # ---- sessions

    def mx(self, starttls=False):
        c = Conn(self.ports["smtp"])
        self.assertEqual(c.greeting[0], 220)
        self.assertEqual(c.cmd("EHLO mx.example.net")[0], 250)
        if starttls:
            c.starttls(self.ctx)
            self.assertEqual(c.cmd("EHLO mx.example.net")[0], 250)
        return c

    def submission(self, implicit=False, user="annv", auth=True):
        if implicit:
            c = Conn(self.ports["smtps"], self.ctx)
            self.assertEqual(c.cmd("EHLO laptop")[0], 250)
        else:
            c = Conn(self.ports["submission"])
            self.assertEqual(c.cmd("EHLO laptop")[0], 250)
            c.starttls(self.ctx)
            self.assertEqual(c.cmd("EHLO laptop")[0], 250)
        if auth:
            code, text = c.cmd("AUTH PLAIN " + base64.b64encode(f"\0{user}\0{PASSWORD}".encode()).decode())
            self.assertEqual((code, text), (235, "2.7.0 Authentication successful"))
        return c

    def assert_nothing_stored(self, *who):
        self.assertEqual(self.queue(), [], "a message was queued for another domain")
        for w in who:
            self.assertEqual(self.messages(w), [], f"a message reached {w}")

    # ---- open relay on the MX port

    # (RCPT TO argument, expected code, expected enhanced code); MAIL FROM:<spam@example.net>.
    MX_VECTORS = [
        ("<victim@external.example>", 554, "5.7.1"),                  # plain relay
        ("<victim@EXTERNAL.EXAMPLE>", 554, "5.7.1"),                  # upper case
        ("<Victim@External.Example>", 554, "5.7.1"),                  # mixed case
        ("<user@tinhmau.test.external.example>", 554, "5.7.1"),       # our name as a prefix
        ("<user@external.example.tinhmau>", 554, "5.7.1"),
        ("<user@mail.tinhmau.test>", 554, "5.7.1"),                   # our host name, not a mail domain
        ("<user@localhost>", 554, "5.7.1"),
        ("<user%external.example@tinhmau.test>", 550, "5.7.1"),       # percent hack
        ("<annv%external.example@tinhmau.test>", 550, "5.7.1"),
        ("<USER%External.Example@TinhMau.TEST>", 550, "5.7.1"),
        ("<@tinhmau.test:user@external.example>", 550, "5.7.1"),      # source route
        ("<@TINHMAU.TEST,@relay.example:user@external.example>", 550, "5.7.1"),
        ("<@tinhmau.test:annv@tinhmau.test>", 550, "5.7.1"),
        ("<external.example!user@tinhmau.test>", 550, "5.7.1"),       # bang path
        ("<external.example!annv@tinhmau.test>", 550, "5.7.1"),
        ("<external.example!user>", 501, "5.1.3"),
        ('<"user@external.example"@tinhmau.test>', 550, "5.7.1"),     # quoted local part
        ('<"annv@external.example"@TinhMau.Test>', 550, "5.7.1"),
        ('<"user%external.example"@tinhmau.test>', 550, "5.7.1"),
        ('<"external.example!user"@tinhmau.test>', 550, "5.7.1"),
        ("<user@external.example@tinhmau.test>", 501, "5.1.3"),
        ("<annv\\@external.example@tinhmau.test>", 501, "5.1.3"),
        ("<user>", 501, "5.1.3"),                                     # unqualified
        ("<annv>", 501, "5.1.3"),
        ("<user@[127.0.0.1]>", 550, "5.7.1"),                         # address literals
        ("<annv@[127.0.0.1]>", 550, "5.7.1"),
        ("<user@[192.0.2.1]>", 550, "5.7.1"),
        ("<user@[IPv6:::1]>", 550, "5.7.1"),
        ("<user@external.example.>", 501, "5.1.3"),                   # trailing dot
        ("<annv@tinhmau.test.>", 501, "5.1.3"),
        ("user@external.example", 501, "5.5.4"),                      # no angle brackets
    ]

    def test_mx_is_no_open_relay(self):
        # Positive control: the same path delivers to a local mailbox, in any case of the domain.
        c = self.mx()
        self.assertEqual(c.cmd("MAIL FROM:<sender@example.net>"), (250, "2.1.0 Sender OK"))
        self.assertEqual(c.cmd("RCPT TO:<annv@TinhMau.TEST>"), (250, "2.1.5 Recipient OK"))
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send(b"Subject: control\r\n\r\nA real message.\r\n.\r\n")
        code, text = c.reply()
        self.assertEqual(code, 250, text)
        self.assertEqual(c.cmd("QUIT")[0], 221)
        c.close()
        self.assertEqual(len(self.messages("annv")), 1)
        self.assertEqual(self.imap_subjects("annv"), ["Subject: control"])

        for rcpt, code, enhanced in self.MX_VECTORS:
            with self.subTest(rcpt=rcpt):
                # One connection per vector: the session ends after max_errors (10) refusals.
                c = self.mx()
                self.assertEqual(c.cmd("MAIL FROM:<spam@example.net>"), (250, "2.1.0 Sender OK"))
                got, text = c.cmd("RCPT TO:" + rcpt)
                self.assertEqual((got, text.split(" ")[0]), (code, enhanced), f"RCPT TO:{rcpt} -> {got} {text}")
                # With no recipient accepted there is no transaction to send.
                self.assertEqual(c.cmd("DATA"), (554, "5.5.1 No valid recipients"))
                self.assertEqual(c.cmd("QUIT")[0], 221)
                c.close()
        self.assertEqual(self.queue(), [])
        self.assertEqual(len(self.messages("annv")), 1)  # still only the control

    def test_mx_postmaster_is_never_relayed(self):
        # RFC 5321 4.5.1: "RCPT TO:<Postmaster>" (no domain) is the postmaster of this server:
        # never taken for another domain. It is postmaster@ our domain (delivered when someone
        # holds that address; the demo province has no postmaster, hence 550 5.1.1).
        c = self.mx()
        self.assertEqual(c.cmd("MAIL FROM:<spam@example.net>")[0], 250)
        code, text = c.cmd("RCPT TO:<Postmaster>")
        self.assertIn(code, (250, 550), text)
        self.assertNotIn("Relay", text)
        if code == 250:
            self.assertEqual(c.cmd("DATA")[0], 354)
            c.send(b"Subject: to postmaster\r\n\r\nx\r\n.\r\n")
            self.assertEqual(c.reply()[0], 250)
        self.assertEqual(c.cmd("QUIT")[0], 221)
        c.close()
        self.assertEqual(self.queue(), [])

    def test_mx_refuses_our_own_domain_as_sender(self):
        for starttls in (False, True):
            for sender in ("<annv@tinhmau.test>", "<ANNV@TinhMau.Test>", "<ngocttb@TINHMAU.TEST>", "<nobody@tinhmau.test>"):
                with self.subTest(sender=sender, starttls=starttls):
                    c = self.mx(starttls)
                    code, text = c.cmd("MAIL FROM:" + sender)
                    self.assertEqual((code, text), (550, "5.7.1 Sender address rejected: tinhmau.test mail must be sent through submission with AUTH"))
                    # No transaction was opened: the recipient and the data are refused too.
                    self.assertEqual(c.cmd("RCPT TO:<ngocttb@tinhmau.test>"), (503, "5.5.1 Need MAIL command first"))
                    self.assertEqual(c.cmd("DATA"), (503, "5.5.1 Need MAIL command first"))
                    self.assertEqual(c.cmd("QUIT")[0], 221)
                    c.close()
        # Our domain with a trailing dot, as a literal or behind a route is no way round it.
        for sender, code, enhanced in [("<annv@tinhmau.test.>", 501, "5.1.3"), ("<annv@[127.0.0.1]>", 553, "5.7.1"),
                                       ("<@relay.example:annv@tinhmau.test>", 553, "5.7.1")]:
            with self.subTest(sender=sender):
                c = self.mx()
                got, text = c.cmd("MAIL FROM:" + sender)
                self.assertEqual((got, text.split(" ")[0]), (code, enhanced), text)
                self.assertEqual(c.cmd("RCPT TO:<ngocttb@tinhmau.test>")[0], 503)
                c.cmd("QUIT")
                c.close()
        self.assert_nothing_stored("annv", "ngocttb")

    # ---- submission

    def test_submission_takes_no_transaction_before_auth(self):
        sessions = {"submission (plain, before STARTTLS)": lambda: self.plain_submission(),
                    "submission after STARTTLS": lambda: self.submission(auth=False),
                    "smtps": lambda: self.submission(implicit=True, auth=False)}
        for name, open_session in sessions.items():
            for sender in ("<annv@tinhmau.test>", "<spam@example.net>", "<>"):
                with self.subTest(session=name, sender=sender):
                    c = open_session()
                    self.assertEqual(c.cmd("MAIL FROM:" + sender), (530, "5.7.0 Authentication required"))
                    for rcpt in ("<ngocttb@tinhmau.test>", "<victim@external.example>"):
                        code, text = c.cmd("RCPT TO:" + rcpt)
                        # Refused: the MAIL was (530), so there is no transaction to add to.
                        self.assertIn((code, text), [(503, "5.5.1 Need MAIL command first"), (530, "5.7.0 Authentication required")])
                    self.assertIn(c.cmd("DATA")[0], (503, 530))
                    self.assertEqual(c.cmd("QUIT")[0], 221)
                    c.close()
        # After AUTH: only the person's own addresses as sender.
        for implicit in (False, True):
            with self.subTest(implicit=implicit):
                c = self.submission(implicit=implicit)
                for sender in ("<ngocttb@tinhmau.test>", "<ceo@external.example>", "<>"):
                    code, text = c.cmd("MAIL FROM:" + sender)
                    self.assertEqual((code, text), (553, "5.7.1 Sender address rejected: not owned by user annv"), sender)
                self.assertEqual(c.cmd("QUIT")[0], 221)
                c.close()
        self.assert_nothing_stored("annv", "ngocttb")

    def plain_submission(self):
        c = Conn(self.ports["submission"])
        self.assertEqual(c.cmd("EHLO laptop")[0], 250)
        return c

    # ---- SMTP smuggling

    SEPARATORS = [b"\n.\n", b"\n.\r\n", b"\r.\n", b"\r\n.\r", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r\r\n"]

    def smuggle_sessions(self):
        """(name, open a session, MAIL FROM of the outer and of the smuggled message): senders
        the session accepts, so a smuggled transaction would really go through."""
        return [("mx", lambda: self.mx(), "<sender@example.net>", "<ceo@example.org>"),
                ("mx+starttls", lambda: self.mx(starttls=True), "<sender@example.net>", "<ceo@example.org>"),
                ("submission", lambda: self.submission(), "<annv@tinhmau.test>", "<annv@tinhmau.test>"),
                ("smtps", lambda: self.submission(implicit=True), "<annv@tinhmau.test>", "<annv@tinhmau.test>")]

    def smuggled(self, tag, sender):
        return (b"MAIL FROM:" + sender.encode() + b"\r\nRCPT TO:<ngocttb@tinhmau.test>\r\nDATA\r\n"
                b"Subject: smuggled " + tag + b"\r\n\r\nThe smuggled message.\r\n.\r\n")

    def check_outcome(self, what, replies, before, rcpt="namlh"):
        """One message or none: a refusal and nothing stored, or one 250 and one message (that
        holds the smuggled commands as text). Never a 354 for the smuggled DATA."""
        codes = [c for c, _ in replies]
        self.assertNotIn(354, codes, f"{what}: the smuggled DATA was started: {replies}")
        self.assertEqual(self.messages("ngocttb"), [], f"{what}: the smuggled message was delivered: {replies}")
        after = self.messages(rcpt)
        if codes and codes[0] // 100 == 5:
            self.assertEqual(len(after), len(before), f"{what}: refused, yet stored: {replies}")
            self.assertTrue(all(c // 100 != 2 or c == 221 for c in codes[1:]), f"{what}: {replies}")
        else:
            self.assertEqual(codes[:1], [250], f"{what}: {replies}")
            self.assertEqual([c for c in codes if c == 250], [250], f"{what}: more than one message accepted: {replies}")
            self.assertEqual(len(after), len(before) + 1, what)
            self.assertIn(b"RCPT TO:<ngocttb@tinhmau.test>", self.body(rcpt, after[-1]["uid"]), f"{what}: not one whole message")
        self.assertEqual(self.queue(), [], f"{what}: queued for another domain")
        return codes

    def envelope(self, open_session, sender):
        """A new session with MAIL FROM `sender` and RCPT TO namlh accepted."""
        c = open_session()
        self.assertEqual(c.cmd("MAIL FROM:" + sender)[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<namlh@tinhmau.test>")[0], 250)
        return c

    def test_smtp_smuggling_in_data(self):
        seen = {}
        for name, open_session, sender, smuggled_sender in self.smuggle_sessions():
            for sep in self.SEPARATORS:
                what = f"{name} {sep!r}"
                with self.subTest(session=name, separator=sep):
                    before = self.messages("namlh")
                    c = self.envelope(open_session, sender)
                    self.assertEqual(c.cmd("DATA")[0], 354)
                    tag = name.encode() + b" " + repr(sep).encode()
                    c.send(b"Subject: outer " + tag + b"\r\n\r\nThe outer message." + sep + self.smuggled(tag, smuggled_sender) + b"QUIT\r\n")
                    replies = c.replies()
                    c.close()
                    seen[what] = replies
                    codes = self.check_outcome(what, replies, before)
                    # This server's answer: the bare CR or LF ends the session (as Postfix does).
                    self.assertEqual(codes, [521], f"{what}: {replies}")
                    self.assertIn(replies[0][1], ("5.5.2 Bare LF in message data", "5.5.2 Bare CR in message data"))
        print("\n".join(f"  {k}: {v}" for k, v in seen.items()))
        # Over IMAP: the smuggled recipient got nothing, the outer one no smuggled subject.
        self.assertEqual(self.imap_subjects("ngocttb"), [])
        self.assertFalse([s for s in self.imap_subjects("namlh") if "smuggled" in s])

    def test_smtp_smuggling_in_bdat(self):
        # BDAT is counted in octets, so the separator cannot end it; but stored or relayed mail
        # must not carry a bare LF either (the next hop may read it as the end of DATA).
        for name, open_session, sender, smuggled_sender in self.smuggle_sessions():
            for sep in (b"\n.\n", b"\r\n.\n", b"\r.\r\n"):
                what = f"{name} BDAT {sep!r}"
                with self.subTest(session=name, separator=sep):
                    before = self.messages("namlh")
                    c = self.envelope(open_session, sender)
                    chunk = b"Subject: outer BDAT\r\n\r\nThe outer message." + sep + self.smuggled(b"bdat", smuggled_sender)
                    c.send(b"BDAT %d LAST\r\n" % len(chunk) + chunk + b"QUIT\r\n")
                    replies = c.replies()
                    c.close()
                    codes = self.check_outcome(what, replies, before)
                    self.assertEqual(replies[0], (554, "5.6.0 Message has bare CR, bare LF or NUL; send lines ending in CRLF"), what)
                    self.assertEqual(codes, [554, 221], what)
        self.assertEqual(self.imap_subjects("ngocttb"), [])

    def test_submission_does_not_relay_bare_lf_onwards(self):
        # The other half of smuggling: a message for another domain carrying <LF>.<LF> would be
        # passed to the next hop as is. Refused here, nothing queued.
        for implicit in (False, True):
            for sep in (b"\n.\n", b"\r\n.\n", b"\n.\r\n"):
                with self.subTest(implicit=implicit, separator=sep):
                    c = self.submission(implicit=implicit)
                    self.assertEqual(c.cmd("MAIL FROM:<annv@tinhmau.test>")[0], 250)
                    code, text = c.cmd("RCPT TO:<partner@external.example>")
                    self.assertEqual(code, 250, text)  # an authenticated person may send out
                    self.assertEqual(c.cmd("DATA")[0], 354)
                    c.send(b"Subject: out\r\n\r\nout" + sep + b"MAIL FROM:<ceo@tinhmau.test>\r\nRCPT TO:<victim@external.example>\r\n"
                           b"DATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\nQUIT\r\n")
                    replies = c.replies()
                    c.close()
                    self.assertEqual([r[0] for r in replies], [521], replies)
                    self.assertEqual(self.queue(), [])

    def test_commands_pipelined_behind_starttls_are_discarded(self):
        # RFC 3207 5 (CVE-2011-0411 in other servers): plaintext sent after STARTTLS in the same
        # packet must not run inside the TLS session.
        for port, sender in (("smtp", "<spam@example.net>"), ("submission", "<annv@tinhmau.test>")):
            with self.subTest(port=port):
                c = Conn(self.ports[port])
                self.assertEqual(c.cmd("EHLO x")[0], 250)
                c.send(b"STARTTLS\r\nMAIL FROM:" + sender.encode() + b"\r\nRCPT TO:<ngocttb@tinhmau.test>\r\n")
                self.assertEqual(c.reply()[0], 220)
                self.assertEqual(c.buf, b"")
                c.sock = self.ctx.wrap_socket(c.sock, server_hostname=HOST)
                self.assertEqual(c.cmd("EHLO x")[0], 250)  # the first answer inside TLS is this one
                self.assertEqual(c.cmd("RCPT TO:<ngocttb@tinhmau.test>"), (503, "5.5.1 Need MAIL command first"))
                self.assertEqual(c.cmd("QUIT")[0], 221)
                c.close()
        self.assert_nothing_stored("ngocttb")


if __name__ == "__main__":
    main()
