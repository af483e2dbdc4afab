"""IMAP with Python's imaplib against the real server on loopback: TLS (STARTTLS on the imap port
and implicit TLS on imaps, certificates verified against the local CA), every command imaplib
exposes, mail delivered by SMTP seen by IMAP (also in IDLE, within a second), several sessions
on one mailbox, the unit's official inbox under Shared/<slug> and its loss on transfer,
limits and bad input."""
import base64
import imaplib
import smtplib
import socket
import ssl
import time

import support

PASSWORD = "CongVu-demo-2026"
DOMAIN = "tinhmau.gov.test"


class ImapTest(support.ServerTest):
    @classmethod
    def setUpClass(cls):
        pass

    def setUp(self):
        super().setUp()
        self.proc, self.info = self.start(extra_config=f'[directory]\ndomain = "{DOMAIN}"\n[mail]\n' + support.NO_DNS)
        self.ctx = ssl.create_default_context(cafile=self.info["ca"])
        self.port = self.info["ports"]["imaps"]

    def tearDown(self):
        self.stop(self.proc)
        super().tearDown()

    def raw(self):
        """A TLS socket on the IMAPS port, past the greeting, and a file to read its lines."""
        s = self.ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.port)), server_hostname="127.0.0.1")
        f = s.makefile("rb")
        f.readline()
        return s, f

    def client(self, user="annv", password=PASSWORD):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=self.ctx)
        m.login(user, password)
        return m

    def deliver(self, to, subject="Test", body="Xin chào", extra=""):
        msg = (f"From: Ngo Dinh Khoa <khoandk@example.org>\r\nTo: {to}\r\nSubject: {subject}\r\n"
               f"Message-ID: <{time.monotonic_ns()}@example.org>\r\n{extra}MIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body + "\r\n")
        with smtplib.SMTP("127.0.0.1", self.info["ports"]["smtp"]) as s:
            s.sendmail("khoandk@example.org", [to], msg.encode())

    # ---- connection and authentication

    def test_starttls_required_before_login(self):
        m = imaplib.IMAP4("127.0.0.1", self.info["ports"]["imap"])
        self.assertIn("LOGINDISABLED", m.capabilities)
        self.assertIn("STARTTLS", m.capabilities)
        with self.assertRaises(imaplib.IMAP4.error):
            m.login("annv", PASSWORD)
        m.starttls(ssl_context=self.ctx)
        self.assertIn("AUTH=PLAIN", m.capabilities)
        self.assertNotIn("LOGINDISABLED", m.capabilities)
        typ, _ = m.login("annv", PASSWORD)
        self.assertEqual(typ, "OK")
        self.assertIn(b"QRESYNC", m.capability()[1][0])
        m.logout()

    def test_login_failures_and_authenticate_plain(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=self.ctx)
        with self.assertRaises(imaplib.IMAP4.error) as e:
            m.login("annv", "wrong password")
        self.assertIn(b"AUTHENTICATIONFAILED", e.exception.args[0].encode() if isinstance(e.exception.args[0], str) else e.exception.args[0])
        typ, _ = m.authenticate("PLAIN", lambda _: f"\0annv\0{PASSWORD}".encode())
        self.assertEqual(typ, "OK")
        self.assertEqual(m.state, "AUTH")
        m.logout()
        m = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=self.ctx)
        with self.assertRaises(imaplib.IMAP4.error):
            m.login_cram_md5("annv", PASSWORD)  # not offered: a clean NO
        m.logout()

    def test_authenticate_scram_sha_256(self):
        # SCRAM-SHA-256 (RFC 5802/7677) over a raw TLS socket, with SASL-IR; the server's
        # signature in its final message is checked too.
        s, f = self.raw()
        scram = support.Scram("annv", PASSWORD)
        s.sendall(b"a AUTHENTICATE SCRAM-SHA-256 " + scram.first() + b"\r\n")
        line = f.readline()
        self.assertTrue(line.startswith(b"+ "), line)
        s.sendall(scram.final(line[2:]) + b"\r\n")
        line = f.readline()
        self.assertTrue(line.startswith(b"+ "), line)
        self.assertEqual(base64.b64decode(line[2:].strip()).decode(), scram.server_signature)
        s.sendall(b"\r\n")
        self.assertTrue(f.readline().startswith(b"a OK"))
        s.close()

    # ---- every command imaplib exposes

    def test_imaplib_commands(self):
        self.deliver(f"annv@{DOMAIN}", "Công văn số 12", "Kính gửi Nguyễn Văn An, nội dung công văn.")
        m = self.client()
        self.assertEqual(m.capability()[0], "OK")
        self.assertEqual(m.noop()[0], "OK")
        typ, data = m.enable("UTF8=ACCEPT")
        self.assertEqual(typ, "OK")
        typ, data = m.list()
        names = b"\n".join(data)
        for box in (b'"/" INBOX', b'"/" Sent', b'"/" Drafts', b'"/" Trash', b'"/" Junk', b'"/" Archive'):
            self.assertIn(box, names)
        self.assertIn(b"\\Sent", names)
        self.assertEqual(m.create('"Dự án/2026"')[0], "OK")
        self.assertEqual(m.create('"Dự án/2026"')[0], "NO")  # ALREADYEXISTS
        self.assertEqual(m.subscribe('"Dự án/2026"')[0], "OK")
        self.assertIn("Dự án/2026".encode(), b"\n".join(m.lsub()[1]))
        self.assertEqual(m.unsubscribe('"Dự án/2026"')[0], "OK")
        self.assertEqual(m.rename('"Dự án/2026"', '"Dự án/2027"')[0], "OK")
        typ, data = m.status("INBOX", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN SIZE HIGHESTMODSEQ)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"MESSAGES 1", data[0])
        typ, data = m.select("INBOX")
        self.assertEqual((typ, data[0]), ("OK", b"1"))
        typ, data = m.fetch("1", "(UID FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (Subject)])")
        self.assertEqual(typ, "OK")
        literals = b"".join(x[1] for x in data if isinstance(x, tuple))
        self.assertIn(b"Subject: C\xc3\xb4ng v\xc4\x83n s\xe1\xbb\x91 12\r\n\r\n", literals)
        typ, data = m.search(None, "TEXT", '"nguyen van an"')
        self.assertEqual(data[0], b"1")  # diacritic-insensitive
        typ, data = m.search(None, "SUBJECT", '"cong van"')
        self.assertEqual(data[0], b"1")
        typ, data = m.search(None, "BODY", '"không có"'.encode())
        self.assertEqual(data[0], b"")
        typ, data = m.fetch("1", "(BODY[TEXT])")
        self.assertIn("Nguyễn Văn An".encode(), data[0][1])
        self.assertIn(b"\\Seen", b"".join(x if isinstance(x, bytes) else x[0] for x in data))
        typ, data = m.store("1", "+FLAGS", "(\\Flagged $Important)")
        self.assertIn(b"\\Flagged", data[0])
        self.assertIn(b"$Important", data[0])
        typ, data = m.copy("1", "Archive")
        self.assertIn(b"COPYUID", data[0])
        typ, data = m.uid("MOVE", "1", '"Dự án/2027"')
        self.assertEqual(typ, "OK")
        self.assertEqual(m.check()[0], "OK")
        typ, data = m.sort("(REVERSE DATE)", "UTF-8", "ALL")
        self.assertEqual(typ, "OK")
        typ, data = m.thread("REFERENCES", "UTF-8", "ALL")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.expunge()[0], "OK")
        self.assertEqual(m.unselect()[0], "OK")
        typ, data = m.append("Drafts", "(\\Draft)", imaplib.Time2Internaldate(time.time()),
                             b"From: annv@tinhmau.gov.test\r\nSubject: draft\r\n\r\nbody\r\n")
        self.assertIn(b"APPENDUID", data[0])
        m.select("Drafts")
        self.assertEqual(m.store("1", "+FLAGS", "(\\Deleted)")[0], "OK")
        self.assertEqual(m.close()[0], "OK")
        typ, data = m.getquotaroot("INBOX")
        self.assertEqual(typ, "OK")
        self.assertIn(b"STORAGE", data[1][0])
        typ, data = m.getquota('""')
        self.assertEqual(typ, "OK")
        self.assertEqual(m.setquota('""', "(STORAGE 10)")[0], "NO")
        self.assertEqual(m.namespace()[0], "OK")
        typ, data = m.myrights("INBOX")
        self.assertIn(b"lrswipkxtea", data[0])
        self.assertEqual(m.setacl("Archive", "namlh", "lr")[0], "OK")
        typ, data = m.getacl("Archive")
        self.assertIn(b"namlh lr", data[0])
        self.assertEqual(m.deleteacl("Archive", "namlh")[0], "OK")
        self.assertNotIn(b"namlh", m.getacl("Archive")[1][0])
        self.assertEqual(m.delete('"Dự án/2027"')[0], "OK")
        self.assertEqual(m.delete('"Dự án"')[0], "OK")
        # Not offered: clean BAD/NO, the session goes on.
        self.assertEqual(m.recent()[0], "OK")  # a NOOP; no message is ever \Recent
        for call in (lambda: m.getannotation("INBOX", "/comment", "value.priv"),
                     lambda: m.setannotation("INBOX", '("/comment" ("value.priv" "x"))'),
                     lambda: m.partial("1", "BODY[]", "0", "10"),
                     lambda: m.proxyauth("annb"),
                     lambda: m.xatom("XFOO")):
            try:
                typ, _ = call()
                self.assertNotEqual(typ, "OK")
            except imaplib.IMAP4.error:
                pass
        self.assertEqual(m.noop()[0], "OK")
        self.assertEqual(m.logout()[0], "BYE")

    # ---- concurrency, IDLE, shared inbox

    def test_idle_hears_smtp_delivery_within_a_second(self):
        m = self.client()
        m.select("INBOX")
        s, f = self.raw()
        s.sendall(f"a LOGIN annv {PASSWORD}\r\nb SELECT INBOX\r\nc IDLE\r\n".encode())
        while not f.readline().startswith(b"+ idling"):
            pass
        t0 = time.monotonic()
        self.deliver(f"annv@{DOMAIN}", "Khẩn")
        s.settimeout(5)
        line = f.readline()
        elapsed = time.monotonic() - t0
        self.assertEqual(line.strip(), b"* 1 EXISTS")
        self.assertLess(elapsed, 1.0)
        s.sendall(b"DONE\r\n")
        while not (line := f.readline()).startswith(b"c "):
            self.assertTrue(line.startswith(b"* "), line)
        self.assertTrue(line.startswith(b"c OK"), line)
        s.close()
        m.logout()

    def test_two_sessions_see_each_other(self):
        for i in range(3):
            self.deliver(f"annv@{DOMAIN}", f"m{i}")
        a, b = self.client(), self.client()
        a.select("INBOX")
        b.select("INBOX")
        a.store("2", "+FLAGS", "(\\Deleted \\Flagged)")
        typ, data = b.noop()
        self.assertEqual(typ, "OK")
        fetches = b.response("FETCH")[1]
        self.assertTrue(any(b"\\Flagged" in x for x in fetches if x), fetches)
        a.expunge()
        # b is told of the expunge at its next command that allows it (NOOP), not during FETCH.
        typ, data = b.fetch("1:*", "(UID)")
        self.assertEqual(typ, "NO")  # [EXPUNGEISSUED]: message 2 is gone, still numbered
        self.assertIn(b"EXPUNGEISSUED", data[0])
        self.assertEqual(b.response("FETCH")[1], [b"1 (UID 1)", b"3 (UID 3)"])
        self.assertEqual(b.response("EXPUNGE")[1], [None])
        b.noop()
        self.assertEqual(b.response("EXPUNGE")[1], [b"2"])
        typ, data = b.fetch("1:*", "(UID)")
        self.assertEqual(data, [b"1 (UID 1)", b"2 (UID 3)"])
        a.logout()
        b.logout()

    def role_holder(self):
        """The login of DM0007, Văn thư (clerk) of Văn phòng Sở Nội vụ in the demo province."""
        _, out, _ = support.run("person", "show", "DM0007", data=self.data)
        return next(line.split()[1] for line in out.splitlines() if line.strip().startswith("login"))

    def test_merged_units_mail_follows_to_the_successor(self):
        """A district merged into a new one while the server runs: its role mailbox's mail moves
        under Shared/<new slug>/<old slug>, its clerk (moved with it) reads it there, and mail to
        the old role address now arrives in the new unit's inbox."""
        self.deliver(f"ubnd-hoabinh@{DOMAIN}", "Công văn gửi huyện Hòa Bình")
        login = self.login_of("DM0014")  # Văn thư of the district
        merge = ["unit", "merge", "001.00.00.H99", "--into", "002.00.00.H99", "--parent", "000.00.00.H99", "--kind",
                 "district", "--name", "Ủy ban nhân dân huyện Hòa Phú", "--slug", "ubnd-hoaphu", "--decision", "1656/NQ-UBTVQH15"]
        dry = support.run_json(*merge, "--dry-run", data=self.data)
        self.assertEqual([(m["folder"], m["messages"]) for m in dry["mail"]], [("ubnd-hoabinh", 1)])
        m = self.client(login)
        self.assertEqual(m.select("Shared/ubnd-hoabinh")[1], [b"1"])  # nothing moved by the dry run
        m.logout()
        done = support.run_json(*merge, data=self.data)
        self.assertEqual([(x["folder"], x["messages"]) for x in done["mail"]], [("ubnd-hoabinh", 1)])
        m = self.client(login)
        names = b"\n".join(m.list()[1])
        self.assertIn(b"Shared/ubnd-hoaphu/ubnd-hoabinh", names)
        self.assertNotIn(b'"/" Shared/ubnd-hoabinh', names)
        self.assertEqual(m.select("Shared/ubnd-hoaphu/ubnd-hoabinh")[1], [b"1"])
        typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertIn("huyện Hòa Bình", data[0][1].decode())
        self.deliver(f"ubnd-hoabinh@{DOMAIN}", "Công văn sau sáp nhập")
        self.assertEqual(m.select("Shared/ubnd-hoaphu")[1], [b"1"])
        m.logout()
        log = support.run_json("audit", "log", "--target", "001.00.00.H99", data=self.data)
        self.assertEqual(log[-1]["action"], "mail.move")

    def login_of(self, staff_no):
        return support.run_json("person", "show", staff_no, data=self.data)["login"]

    def test_shared_inbox_follows_the_position(self):
        login = self.role_holder()
        self.deliver(f"sonv-vanphong@{DOMAIN}", "Công văn đến Văn phòng Sở Nội vụ")
        m = self.client(login)
        typ, data = m.list()
        self.assertIn(b'"/" Shared/sonv-vanphong\n', b"\n".join(data) + b"\n")
        typ, data = m.select("Shared/sonv-vanphong")
        self.assertEqual((typ, data[0]), ("OK", b"1"))
        m.fetch("1", "(BODY[])")  # \Seen is shared by the team
        other = self.client("annv")
        self.assertEqual(other.select("Shared/sonv-vanphong")[0], "NO")
        # An IDLE session on the shared inbox ends when the transfer lands.
        s, f = self.raw()
        s.sendall(f"a LOGIN {login} {PASSWORD}\r\nb SELECT Shared/sonv-vanphong\r\nc IDLE\r\n".encode())
        while not f.readline().startswith(b"+ idling"):
            pass
        support.run("person", "transfer", "DM0007", "--to", "000.01.02.H99", "--position", "Chuyên viên",
                    "--decision", "QĐ-12/2026", data=self.data)
        t0 = time.monotonic()
        s.settimeout(10)
        rest = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            rest += chunk
        self.assertIn(b"BYE [NOPERM]", rest)
        self.assertLess(time.monotonic() - t0, 5)
        # The session that had it selected gets NO [NOPERM] at its next command.
        typ, data = m.fetch("1", "(FLAGS)")
        self.assertEqual(typ, "NO")
        self.assertNotIn(b"Shared/sonv-vanphong", b"\n".join(m.list()[1]))
        m.logout()
        other.logout()

    # ---- autoconfiguration

    def https(self, path, body=None):
        import urllib.request
        req = urllib.request.Request(f"https://127.0.0.1:{self.info['ports']['https']}{path}", data=body,
                                     headers={"Content-Type": "text/xml"} if body else {})
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def test_autoconfig_thunderbird_and_outlook(self):
        import xml.etree.ElementTree as ET
        status, body = self.https(f"/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=annv@{DOMAIN}")
        self.assertEqual(status, 200)
        doc = ET.fromstring(body)
        incoming = doc.find("emailProvider/incomingServer")
        self.assertEqual(incoming.find("port").text, str(self.port))
        self.assertEqual(incoming.find("socketType").text, "SSL")
        self.assertEqual(incoming.find("username").text, "%EMAILADDRESS%")
        outgoing = doc.find("emailProvider/outgoingServer")
        self.assertEqual(outgoing.find("port").text, str(self.info["ports"]["smtps"]))
        # A person types only address and password: the advertised login works.
        m = imaplib.IMAP4_SSL("127.0.0.1", int(incoming.find("port").text), ssl_context=self.ctx)
        self.assertEqual(m.login(f"annv@{DOMAIN}", PASSWORD)[0], "OK")
        m.logout()
        with smtplib.SMTP_SSL("127.0.0.1", int(outgoing.find("port").text), context=self.ctx) as s:
            s.login(f"annv@{DOMAIN}", PASSWORD)
        request = (f'<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/'
                   f'autodiscover/outlook/requestschema/2006"><Request><EMailAddress>annv@{DOMAIN}</EMailAddress>'
                   '<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a'
                   '</AcceptableResponseSchema></Request></Autodiscover>').encode()
        status, body = self.https("/autodiscover/autodiscover.xml", request)
        self.assertEqual(status, 200)
        ns = {"r": "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"}
        protocols = ET.fromstring(body).findall(".//r:Protocol", ns)
        by_type = {p.find("r:Type", ns).text: p for p in protocols}
        self.assertEqual(by_type["IMAP"].find("r:Port", ns).text, str(self.port))
        self.assertEqual(by_type["IMAP"].find("r:LoginName", ns).text, f"annv@{DOMAIN}")
        self.assertEqual(by_type["SMTP"].find("r:Port", ns).text, str(self.info["ports"]["smtps"]))
        status, _ = self.https("/Autodiscover/Autodiscover.xml", request.replace(DOMAIN.encode(), b"example.org"))
        self.assertEqual(status, 404)
        status, _ = self.https("/autodiscover/autodiscover.xml", b"<EMailAddress>a<b@" + DOMAIN.encode() + b"</EMailAddress>")
        self.assertEqual(status, 404)

    # ---- limits and bad input

    def test_bad_input(self):
        s, f = self.raw()
        # A literal before login larger than 8 KiB is refused before it is sent.
        s.sendall(b"a LOGIN {100000}\r\n")
        self.assertTrue(f.readline().startswith(b"a NO [TOOBIG]"))
        s.sendall(b"b FROB\r\n")
        self.assertTrue(f.readline().startswith(b"b BAD"))
        s.sendall(b"c LOGIN annv " + PASSWORD.encode() + b"\r\n")
        self.assertTrue(f.readline().startswith(b"c OK"))
        # A non-synchronising literal over the APPEND limit is read and dropped, answered TOOBIG.
        big = 51 * 1024 * 1024
        s.sendall(b"d APPEND INBOX {%d+}\r\n" % big)
        chunk = b"x" * 65536
        sent = 0
        while sent < big:
            s.sendall(chunk[:min(len(chunk), big - sent)])
            sent += min(len(chunk), big - sent)
        s.sendall(b"\r\n")
        self.assertTrue(f.readline().startswith(b"d NO [TOOBIG]"))
        s.sendall(b"e SELECT INBOX\r\n")
        lines = []
        while True:
            line = f.readline()
            lines.append(line)
            if line.startswith(b"e "):
                break
        self.assertTrue(lines[-1].startswith(b"e OK"), lines)
        self.assertIn(b"* 0 EXISTS\r\n", lines)  # nothing was half-written
        s.sendall(b"f FETCH 99 FLAGS\r\n")
        self.assertTrue(f.readline().startswith(b"f BAD"))
        s.sendall(b"g " + b"A" * 70000 + b"\r\n")
        self.assertTrue(f.readline().startswith(b"g BAD [TOOBIG]"))
        for i in range(10):
            s.sendall(b"h%d NOSUCH\r\n" % i)
        data = b""
        s.settimeout(5)
        while True:
            c = s.recv(4096)
            if not c:
                break
            data += c
        self.assertIn(b"* BYE Too many bad commands", data)
        s.close()


if __name__ == "__main__":
    support.main()
