"""Outbound mail end to end: submission to another domain is queued and delivered by the
runner to Postfix's smtp-sink (smart host), DKIM-signed (RSA and Ed25519, verified by
python3-dkim); a 5xx from the peer bounces with an RFC 3464 report to the sender's INBOX; a
4xx stays queued for retry (congvu queue list/delete); and without a smart host, delivery
follows the MX records that a dnsmasq of the test serves on loopback, with STARTTLS to the
other domain's server (a second Congvu)."""
import email
import glob
import json
import os
import smtplib
import socket
import ssl
import subprocess
import time

from support import BIN, LISTENERS, NO_DNS, ServerTest, main, run

PASSWORD = "CongVu-demo-2026"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Outbound(ServerTest):
    def sink(self, *flags):
        """Postfix's smtp-sink on a free port, dumping each message into a file."""
        port = free_port()
        self.dumps = os.path.join(self.tmp, f"sink-{port}")
        os.makedirs(self.dumps)
        p = subprocess.Popen(["/usr/sbin/smtp-sink", "-u", "root", "-d", os.path.join(self.dumps, "%H%M%S."), *flags,
                              f"127.0.0.1:{port}", "100"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(p.kill)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port
            except OSError:
                time.sleep(0.05)
        self.fail("smtp-sink did not start")

    def serve(self, extra):
        if "dns_servers" not in extra:
            extra += NO_DNS
        config = self.write(f"congvu-{time.monotonic_ns()}.toml", "[listen]\n" + "".join(
            f'{n} = "127.0.0.1:0"\n' for n in LISTENERS) + extra)
        return self.start(config=config)

    def submit(self, info, rcpt, subject="Gửi ra ngoài", extra_headers="", rcpt_options=()):
        ctx = ssl.create_default_context(cafile=info["ca"])
        raw = (f"From: annv@tinhmau.test\r\nTo: {rcpt}\r\nSubject: {subject}\r\n{extra_headers}"
               "Content-Type: text/plain; charset=utf-8\r\n\r\nKính gửi quý cơ quan.\r\n").encode()
        with smtplib.SMTP_SSL("127.0.0.1", info["ports"]["smtps"], context=ctx, timeout=30) as s:
            s.login("annv", PASSWORD)
            self.assertEqual(s.sendmail("annv@tinhmau.test", [rcpt], raw, rcpt_options=list(rcpt_options)), {})
        return raw

    def wait_for(self, what, predicate, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        self.fail(f"timed out waiting for {what}")

    def queue(self):
        return json.loads(run("queue", "list", "--json", data=self.data)[1])

    def test_smarthost_delivery_is_dkim_signed(self):
        port = self.sink()
        _, info = self.serve(f'[mail]\nsmarthost = "127.0.0.1:{port}"\n')
        sent = self.submit(info, "vanthu@example.org")
        files = self.wait_for("the sink to receive the message", lambda: glob.glob(os.path.join(self.dumps, "*")))
        dump = open(files[0], "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # smtp-sink writes LF
        self.assertIn(b"X-Rcpt-Args: <vanthu@example.org>", dump)
        message = dump[dump.index(b"Received: "):]  # smtp-sink's envelope lines come first
        self.assertTrue(message.rstrip(b"\r\n").endswith(sent.rstrip(b"\r\n")))
        import dkim
        keys = {json.loads(l)["dns_name"]: json.loads(l)["dns_txt"]
                for l in run("dkim", "list", "--json", data=self.data)[1].splitlines()}
        d = dkim.DKIM(message)
        for i in range(2):
            self.assertTrue(d.verify(idx=i, dnsfunc=lambda n, timeout=5: keys[n.decode().rstrip(".")].encode()))
        self.wait_for("the queue to empty", lambda: self.queue() == [])

    def test_permanent_failure_bounces_to_the_sender(self):
        port = self.sink("-f", "rcpt")
        _, info = self.serve(f'[mail]\nsmarthost = "127.0.0.1:{port}"\n')
        self.submit(info, "khongco@example.org", subject="Thư sẽ bị trả lại")

        def bounce():
            out = json.loads(run("mail", "list", "annv", "--json", data=self.data)[1])
            return out[0] if out else None
        m = self.wait_for("the bounce", bounce)
        raw = subprocess.run([BIN, "mail", "cat", "annv", str(m["uid"]), "--data", self.data], capture_output=True).stdout
        report = email.message_from_bytes(raw)
        self.assertEqual(report.get_content_type(), "multipart/report")
        self.assertEqual(report.get_param("report-type"), "delivery-status")
        parts = [p.get_content_type() for p in report.walk()]
        self.assertIn("message/delivery-status", parts)
        self.assertIn("text/rfc822-headers", parts)
        text = raw.decode("utf-8", "replace")
        self.assertIn("Final-Recipient: rfc822; khongco@example.org", text)
        self.assertIn("Action: failed", text)
        self.assertRegex(text, r"Status: 5\.\d+\.\d+")
        self.assertIn("Subject: Thư sẽ bị trả lại", text)  # the original header comes back
        self.wait_for("the queue to empty", lambda: self.queue() == [])

    def test_temporary_failure_stays_queued(self):
        port = self.sink("-q", "rcpt")
        _, info = self.serve(f'[mail]\nsmarthost = "127.0.0.1:{port}"\n')
        self.submit(info, "ban@example.org", rcpt_options=["NOTIFY=DELAY,FAILURE"])
        entry = self.wait_for("a failed attempt", lambda: next((q for q in self.queue() if q["attempts"] >= 1), None))
        rcpt = entry["recipients"][0]
        self.assertEqual(rcpt["state"], "pending")
        self.assertTrue(rcpt["last_reply"].startswith("4"), rcpt)
        # NOTIFY=DELAY: one "delayed" report, no bounce.
        msgs = self.wait_for("the delay report", lambda: json.loads(run("mail", "list", "annv", "--json", data=self.data)[1]))
        self.assertEqual(len(msgs), 1)
        report = subprocess.run([BIN, "mail", "cat", "annv", str(msgs[0]["uid"]), "--data", self.data], capture_output=True).stdout
        self.assertIn(b"Action: delayed", report)
        self.assertIn(b"Final-Recipient: rfc822; ban@example.org", report)
        run("queue", "delete", str(entry["id"]), data=self.data)
        self.assertEqual(self.queue(), [])
        self.assertIn("consistent", run("mail", "check", data=self.data)[1])

    def test_mx_lookup_and_starttls_to_another_domain(self):
        # The other domain: a second Congvu for "other.test", found through MX records.
        other_data = os.path.join(self.tmp, "other")
        other_cfg = self.write("other.toml", "[listen]\n" + "".join(
            f'{n} = "{"127.0.0.1:0" if n == "smtp" else "off"}"\n' for n in LISTENERS) +
            '[directory]\ndomain = "other.test"\n[mail]\n' + NO_DNS)
        ready = os.path.join(self.tmp, "other-ready.json")
        other = subprocess.Popen([BIN, "serve", "--config", other_cfg, "--data", other_data, "--ready-file", ready],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(other.kill)
        self.wait_for("the other server", lambda: os.path.exists(ready))
        other_port = json.load(open(ready))["ports"]["smtp"]
        dns_port = free_port()
        dns = subprocess.Popen(["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                                "--user=root", "--bind-interfaces", "--listen-address=127.0.0.1", f"--port={dns_port}",
                                "--mx-host=other.test,mx.other.test,10", "--host-record=mx.other.test,127.0.0.1",
                                "--pid-file="], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(dns.kill)
        time.sleep(0.5)
        _, info = self.serve(f'[mail]\ndns_servers = "127.0.0.1:{dns_port}"\noutbound_port = {other_port}\n')
        self.submit(info, "annv@other.test", subject="Liên tỉnh")

        def arrived():
            out = json.loads(run("mail", "list", "annv", "--json", data=other_data)[1])
            return out or None
        m = self.wait_for("delivery to other.test", arrived)[0]
        raw = subprocess.run([BIN, "mail", "cat", "annv", str(m["uid"]), "--data", other_data], capture_output=True).stdout
        first = raw.split(b"\r\n")[0:2]
        self.assertIn(b"with ESMTPS id", b"".join(first))  # the hop used STARTTLS
        self.assertIn("Subject: Liên tỉnh".encode(), raw)
        self.wait_for("the queue to empty", lambda: self.queue() == [])
        # A UTF-8 address goes out with SMTPUTF8: the other server understands the address and
        # says it has no such user (550 5.1.1), which comes back as a report.
        ctx = ssl.create_default_context(cafile=info["ca"])
        with smtplib.SMTP_SSL("127.0.0.1", info["ports"]["smtps"], context=ctx, timeout=30) as s:
            s.login("annv", PASSWORD)
            s.sendmail("annv@tinhmau.test", ["ngọc@other.test"], "From: annv@tinhmau.test\r\nSubject: u\r\n\r\nx\r\n".encode(),
                       mail_options=["SMTPUTF8"])
        report = self.wait_for("the report", lambda: json.loads(run("mail", "list", "annv", "--json", data=self.data)[1]))
        raw = subprocess.run([BIN, "mail", "cat", "annv", str(report[0]["uid"]), "--data", self.data], capture_output=True).stdout
        self.assertIn("Final-Recipient: rfc822; ngọc@other.test".encode(), raw)
        self.assertIn(b"550 5.1.1", raw)


if __name__ == "__main__":
    main()
