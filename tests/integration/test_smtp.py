"""SMTP end to end with real clients on loopback, TLS verified against the exported CA:
swaks (MX, STARTTLS + AUTH PLAIN with an attachment), python's smtplib (implicit TLS,
SMTPUTF8, SCRAM-SHA-256, pipelined refusals), curl (smtp:// with STARTTLS required), DKIM
signatures checked by Debian's python3-dkim, and the read-back through `congvu mail`."""
import base64
import hashlib
import hmac
import json
import os
import smtplib
import socket
import ssl
import subprocess
import time

from support import BIN, NO_DNS, ServerTest, main, run

PASSWORD = "CongVu-demo-2026"


def scram_client(user, password):
    """A SCRAM-SHA-256 client (RFC 5802/7677) for smtplib.auth: returns the authobject."""
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = f"n={user},r={nonce}"
    state = {}

    def step(challenge=None):
        if challenge is None:
            return "n,," + first_bare
        text = challenge.decode()
        if "salt" not in state:
            attrs = dict(kv.split("=", 1) for kv in text.split(","))
            assert attrs["r"].startswith(nonce)
            salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
            client_key = hmac.new(salted, b"Client Key", "sha256").digest()
            stored = hashlib.sha256(client_key).digest()
            final_bare = f"c=biws,r={attrs['r']}"
            auth_message = f"{first_bare},{text},{final_bare}".encode()
            signature = hmac.new(stored, auth_message, "sha256").digest()
            proof = bytes(a ^ b for a, b in zip(client_key, signature))
            server_key = hmac.new(salted, b"Server Key", "sha256").digest()
            state["salt"] = True
            state["expect"] = base64.b64encode(hmac.new(server_key, auth_message, "sha256").digest()).decode()
            return f"{final_bare},p={base64.b64encode(proof).decode()}"
        assert text == "v=" + state["expect"], "server signature mismatch"
        state["verified"] = True
        return ""

    step.state = state
    return step


class Smtp(ServerTest):
    def setUp(self):
        super().setUp()
        self.proc, self.info = self.start()
        self.ca = self.info["ca"]
        self.ctx = ssl.create_default_context(cafile=self.ca)

    def port(self, name):
        return self.info["ports"][name]

    def mail(self, *args):
        return run("mail", *args, data=self.data)[1]

    def messages(self, who, mailbox="INBOX"):
        return json.loads(run("mail", "list", who, "--mailbox", mailbox, "--json", data=self.data)[1])

    def body(self, who, uid, mailbox="INBOX"):
        p = subprocess.run([BIN, "mail", "cat", who, str(uid), "--mailbox", mailbox, "--data", self.data], capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def swaks(self, *args):
        p = subprocess.run(["swaks", "--tls-ca-path", self.ca, *args], capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout + p.stderr

    def dkim_keys(self):
        out = run("dkim", "list", "--json", data=self.data)[1]
        return {json.loads(l)["dns_name"]: json.loads(l)["dns_txt"] for l in out.splitlines()}

    def verify_dkim(self, raw):
        import dkim
        keys = self.dkim_keys()

        def dnsfunc(name, timeout=5):
            name = name.decode() if isinstance(name, bytes) else name
            return keys.get(name.rstrip("."), "").encode()
        d = dkim.DKIM(raw)
        algorithms = []
        for i in range(2):
            self.assertTrue(d.verify(idx=i, dnsfunc=dnsfunc), f"DKIM signature {i} does not verify")
            algorithms.append(d.signature_fields[b"a"].decode())
        return sorted(algorithms)

    def test_mx_delivery_with_swaks_over_starttls(self):
        code, out = self.swaks("--server", f"127.0.0.1:{self.port('smtp')}", "--tls", "--tls-verify", "--tls-sni", "mail.tinhmau.test",
                               "--ehlo", "mx.example.net", "--from", "sender@example.net", "--to", "annv@tinhmau.test",
                               "--header", "Subject: Thư từ bên ngoài", "--body", "Kính gửi anh An.")
        self.assertEqual(code, 0, out)
        self.assertIn("250 2.0.0 Ok: queued as", out)
        msgs = self.messages("annv")
        self.assertEqual(len(msgs), 1)
        raw = self.body("annv", msgs[0]["uid"])
        self.assertTrue(raw.startswith(b"Received: from mx.example.net ([127.0.0.1])\r\n\tby mail.tinhmau.test (Congvu) with ESMTPS id "), raw[:200])
        self.assertIn("Thư từ bên ngoài".encode(), raw)
        self.assertNotIn(b"DKIM-Signature", raw)  # mail from outside is not signed by us
        self.assertEqual(msgs[0]["size"], len(raw))

    def test_submission_starttls_auth_plain_attachment_signed(self):
        attachment = os.path.join(self.tmp, "bao-cao.pdf")
        with open(attachment, "wb") as f:
            f.write(b"%PDF-1.4\n" + os.urandom(20000))
        code, out = self.swaks("--server", f"127.0.0.1:{self.port('submission')}", "--tls", "--tls-verify", "--tls-sni", "mail.tinhmau.test",
                               "-a", "PLAIN", "-au", "annv@tinhmau.test", "-ap", PASSWORD,
                               "--from", "annv@tinhmau.test", "--to", "ngocttb@tinhmau.test",
                               "--header", "Subject: Báo cáo tháng", "--attach", f"@{attachment}")
        self.assertEqual(code, 0, out)
        self.assertIn("235 2.7.0 Authentication successful", out)
        raw = self.body("ngocttb", 1)
        self.assertIn(b"with ESMTPSA id", raw.split(b"\r\n\r\n")[0])
        self.assertEqual(self.verify_dkim(raw), ["ed25519-sha256", "rsa-sha256"])
        # Tampering breaks both signatures.
        import dkim
        tampered = raw.replace(b"Subject: ", b"Subject: FW ", 1)
        keys = self.dkim_keys()
        self.assertFalse(dkim.DKIM(tampered).verify(dnsfunc=lambda n, timeout=5: keys.get(n.decode().rstrip("."), "").encode()))

    def test_auth_refused_before_tls_and_on_mx(self):
        code, out = self.swaks("--server", f"127.0.0.1:{self.port('submission')}", "-a", "PLAIN", "-au", "annv", "-ap", PASSWORD,
                               "--from", "annv@tinhmau.test", "--to", "ngocttb@tinhmau.test")
        self.assertNotEqual(code, 0)
        self.assertIn("did not advertise authentication", out)  # no AUTH before STARTTLS
        with smtplib.SMTP("127.0.0.1", self.port("submission"), timeout=30) as s:
            s.ehlo("laptop")
            self.assertNotIn("auth", s.esmtp_features)
            code, msg = s.docmd("AUTH", "PLAIN " + base64.b64encode(f"\0annv\0{PASSWORD}".encode()).decode())
            self.assertEqual(code, 530)
            self.assertIn(b"5.7.0", msg)

    def test_smtplib_implicit_tls_smtputf8_byte_identical(self):
        message = ("From: =?UTF-8?B?Tmd1eeG7hW4gVsSDbiBBbg==?= <annv@tinhmau.test>\r\n"
                   "To: Trần Thị Bích Ngọc <ngocttb@tinhmau.test>\r\n"
                   "Subject: Giấy mời họp giao ban\r\n"
                   "Date: Sat, 21 Nov 2026 08:00:00 +0700\r\n"
                   "Message-ID: <giaymoi-1@tinhmau.test>\r\n"
                   "MIME-Version: 1.0\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\n"
                   "Content-Transfer-Encoding: 8bit\r\n\r\n"
                   "Kính gửi chị Ngọc,\r\n.dòng bắt đầu bằng dấu chấm\r\nTrân trọng./.\r\n").encode()
        with smtplib.SMTP_SSL("127.0.0.1", self.port("smtps"), context=self.ctx, timeout=30) as s:
            s.login("annv", PASSWORD)
            self.assertIn("smtputf8", s.esmtp_features)
            refused = s.sendmail("annv@tinhmau.test", ["ngocttb@tinhmau.test"], message, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
            self.assertEqual(refused, {})
            # A UTF-8 local part is understood and refused as unknown, not as a syntax error.
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as e:
                s.sendmail("annv@tinhmau.test", ["ngọc@tinhmau.test"], message, mail_options=["SMTPUTF8"])
            self.assertEqual(e.exception.recipients["ngọc@tinhmau.test"][0], 550)
        raw = self.body("ngocttb", 1)
        trace, _, rest = raw.partition(b"\r\nDKIM-Signature: ")
        self.assertIn(b"with UTF8SMTPSA id", trace)
        # After our Received and DKIM-Signature fields comes the message exactly as sent.
        self.assertTrue(raw.endswith(message))
        prefix = raw[: len(raw) - len(message)]
        self.assertEqual([l.split(b":")[0] for l in prefix.split(b"\r\n") if l and not l[:1].isspace()],
                         [b"Received", b"DKIM-Signature", b"DKIM-Signature"])

    def test_scram_sha_256(self):
        with smtplib.SMTP("127.0.0.1", self.port("submission"), timeout=30) as s:
            s.ehlo("pc")
            s.starttls(context=ssl.create_default_context(cafile=self.ca))
            s.ehlo("pc")
            client = scram_client("ngocttb", PASSWORD)
            code, _ = s.auth("SCRAM-SHA-256", client, initial_response_ok=True)
            self.assertEqual(code, 235)
            self.assertTrue(client.state.get("verified"), "the server's signature was not checked")
            s.sendmail("ngocttb@tinhmau.test", ["namlh@tinhmau.test"], b"From: ngocttb@tinhmau.test\r\nSubject: scram\r\n\r\nok\r\n")
        with smtplib.SMTP("127.0.0.1", self.port("submission"), timeout=30) as s:
            s.ehlo("pc")
            s.starttls(context=ssl.create_default_context(cafile=self.ca))
            s.ehlo("pc")
            with self.assertRaises(smtplib.SMTPAuthenticationError) as e:
                s.auth("SCRAM-SHA-256", scram_client("ngocttb", "wrong password"), initial_response_ok=True)
            self.assertEqual(e.exception.smtp_code, 535)
        self.assertEqual(len(self.messages("namlh")), 1)

    def test_curl_smtp_with_starttls_required(self):
        mail = self.write("mail.txt", "From: Lê Hoàng Nam <namlh@tinhmau.test>\r\nTo: annv@tinhmau.test\r\nSubject: curl\r\n\r\nGửi từ curl.\r\n")
        p = subprocess.run(["curl", "-sS", f"smtp://127.0.0.1:{self.port('submission')}", "--ssl-reqd", "--cacert", self.ca,
                            "--connect-to", f"mail.tinhmau.test:{self.port('submission')}:127.0.0.1:{self.port('submission')}",
                            "--url", f"smtp://mail.tinhmau.test:{self.port('submission')}",
                            "--user", f"namlh:{PASSWORD}", "--mail-from", "namlh@tinhmau.test", "--mail-rcpt", "annv@tinhmau.test",
                            "-T", mail], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        raw = self.body("annv", 1)
        self.assertTrue(raw.endswith("Subject: curl\r\n\r\nGửi từ curl.\r\n".encode()))

    def test_silent_client_is_disconnected_after_the_command_timeout(self):
        self.stop(self.proc)
        config = self.write("timeout.toml", "[listen]\n" + "".join(
            f'{n} = "{"127.0.0.1:0" if n == "smtp" else "off"}"\n' for n in ("smtp", "submission", "smtps", "imap", "imaps", "https", "ldap", "ldaps")) +
            "[mail]\ncommand_timeout_s = 10\n" + NO_DNS)
        _, info = self.start(config=config)
        with socket.create_connection(("127.0.0.1", info["ports"]["smtp"]), timeout=30) as c:
            t0 = time.monotonic()
            data = b""
            while True:
                chunk = c.recv(1024)
                if not chunk:
                    break  # the server hung up
                data += chunk
            took = time.monotonic() - t0
        self.assertEqual(data, b"220 mail.tinhmau.test ESMTP Congvu\r\n")
        self.assertGreaterEqual(took, 9.5)
        self.assertLess(took, 20)

    def test_no_open_relay_from_outside(self):
        with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=30) as s:
            s.ehlo("mx.example.net")
            s.mail("spam@example.net")
            for rcpt, code in [("victim@example.org", 554), ("victim%example.org@tinhmau.test", 550),
                               ("@tinhmau.test:victim@example.org", 550), ("annv@[127.0.0.1]", 550), ("nobody@tinhmau.test", 550)]:
                got, msg = s.rcpt(rcpt)
                self.assertEqual(got, code, f"{rcpt}: {msg}")
        self.assertEqual(self.messages("annv"), [])


if __name__ == "__main__":
    main()
