"""Mail from outside is checked with SPF, DKIM and DMARC against a DNS server the test runs
on loopback (dnsmasq), with signatures made by an independent implementation (python3-dkim,
simple and relaxed canonicalization): aligned DKIM passes DMARC even when SPF fails; a forged
From of a p=reject domain is refused at the end of DATA; p=quarantine puts it in Junk; every
delivered message carries an Authentication-Results header."""
import base64
import json
import os
import smtplib
import socket
import subprocess
import time

from support import BIN, LISTENERS, ServerTest, main, run


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def txt_arg(name, text):
    """dnsmasq's --txt-record with the text cut into strings of at most 200 octets (on the
    command line quotes would be part of the text; commas separate the strings)."""
    assert "," not in text
    chunks = [text[i:i + 200] for i in range(0, len(text), 200)]
    return f"--txt-record={name}," + ",".join(chunks)


class Inbound(ServerTest):
    def setUp(self):
        super().setUp()
        key = os.path.join(self.tmp, "dkim.pem")
        subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True, capture_output=True)
        der = subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-outform", "DER"], check=True, capture_output=True).stdout
        self.key = open(key, "rb").read()
        records = [
            ("example.net", "v=spf1 ip4:192.0.2.0/24 -all"),          # 127.0.0.1 is not allowed: SPF fails
            ("sel._domainkey.example.net", "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()),
            ("_dmarc.example.net", "v=DMARC1; p=reject; adkim=r; aspf=r"),
            ("spfok.example", "v=spf1 ip4:127.0.0.0/8 -all"),
            ("_dmarc.quarantine.example", "v=DMARC1; p=quarantine"),
            ("quarantine.example", "v=spf1 -all"),
        ]
        self.dns_port = free_port()
        dns = subprocess.Popen(["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--user=root",
                                "--bind-interfaces", "--listen-address=127.0.0.1", f"--port={self.dns_port}", "--pid-file=",
                                *[txt_arg(n, t) for n, t in records]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(dns.kill)
        time.sleep(0.5)
        config = self.write("congvu.toml", "[listen]\n" + "".join(f'{n} = "127.0.0.1:0"\n' for n in LISTENERS) +
                            f'[mail]\ndns_servers = "127.0.0.1:{self.dns_port}"\n')
        _, self.info = self.start(config=config)

    def send(self, sender, from_header, body_headers="", sign=None):
        msg = (f"From: {from_header}\r\nTo: annv@tinhmau.test\r\nSubject: Thông báo\r\n{body_headers}"
               "Content-Type: text/plain; charset=utf-8\r\n\r\nKính gửi   anh An.  \r\n\r\n").encode()
        if sign:
            import dkim
            msg = dkim.sign(msg, b"sel", b"example.net", self.key, canonicalize=sign,
                            include_headers=[b"from", b"to", b"subject"]) + msg
        with smtplib.SMTP("127.0.0.1", self.info["ports"]["smtp"], timeout=30) as s:
            s.ehlo("mx.sender.example")
            return s.sendmail(sender, ["annv@tinhmau.test"], msg)

    def stored(self, mailbox="INBOX"):
        msgs = json.loads(run("mail", "list", "annv", "--mailbox", mailbox, "--json", data=self.data)[1])
        return [subprocess.run([BIN, "mail", "cat", "annv", str(m["uid"]), "--mailbox", mailbox, "--data", self.data],
                               capture_output=True, check=True).stdout for m in msgs]

    def auth_results(self, raw):
        head = raw.split(b"\r\n\r\n")[0].decode()
        start = head.index("Authentication-Results:")
        lines = [head[start:].split("\r\n")[0]]
        for l in head[start:].split("\r\n")[1:]:
            if not l.startswith("\t"):
                break
            lines.append(l.strip())
        return " ".join(lines)

    def test_aligned_dkim_passes_dmarc_with_either_canonicalization(self):
        for canon in [(b"simple", b"simple"), (b"relaxed", b"relaxed")]:
            self.assertEqual(self.send("bounces@example.net", "Ngân hàng <tb@example.net>", sign=canon), {})
        stored = self.stored()
        self.assertEqual(len(stored), 2)
        for raw in stored:
            ar = self.auth_results(raw)
            self.assertIn("spf=fail smtp.mailfrom=example.net", ar)
            self.assertIn("dkim=pass header.d=example.net header.s=sel header.a=rsa-sha256", ar)
            self.assertIn("dmarc=pass (p=reject) header.from=example.net", ar)

    def test_forged_from_of_a_reject_domain_is_refused(self):
        with self.assertRaises(smtplib.SMTPDataError) as e:
            self.send("x@forger.example", "Ngân hàng <tb@example.net>")
        self.assertEqual(e.exception.smtp_code, 550)
        self.assertIn(b"5.7.1", e.exception.smtp_error)
        self.assertIn(b"DMARC", e.exception.smtp_error)
        self.assertEqual(self.stored(), [])

    def test_quarantine_goes_to_junk_and_spf_pass_is_recorded(self):
        self.assertEqual(self.send("x@quarantine.example", "a@quarantine.example"), {})
        self.assertEqual(self.send("news@spfok.example", "news@spfok.example"), {})
        junk = self.stored("Junk")
        self.assertEqual(len(junk), 1)
        self.assertIn("dmarc=fail (p=quarantine)", self.auth_results(junk[0]))
        inbox = self.stored()
        self.assertEqual(len(inbox), 1)
        self.assertIn("spf=pass smtp.mailfrom=spfok.example", self.auth_results(inbox[0]))


if __name__ == "__main__":
    main()
