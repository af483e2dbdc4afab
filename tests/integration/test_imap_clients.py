"""Real IMAP clients from Debian against Congvu on loopback, over TLS verified against the local CA:
curl imaps:// (list, fetch, search), mbsync (isync) syncing a mailbox both ways and again after
changes on both sides, and mutt in tmux opening the INBOX and reading a Vietnamese message."""
import glob
import imaplib
import os
import shutil
import smtplib
import ssl
import subprocess
import time
import unittest

import support

PASSWORD = "CongVu-demo-2026"
DOMAIN = "tinhmau.gov.test"


class ClientsTest(support.ServerTest):
    def setUp(self):
        super().setUp()
        self.proc, self.info = self.start(extra_config=f'[directory]\ndomain = "{DOMAIN}"\n[mail]\n' + support.NO_DNS)
        self.port = self.info["ports"]["imaps"]
        self.ca = self.info["ca"]

    def tearDown(self):
        self.stop(self.proc)
        super().tearDown()

    def deliver(self, subject, body, to=f"annv@{DOMAIN}"):
        msg = (f"From: =?utf-8?b?{__import__('base64').b64encode('Ngô Đình Khoa'.encode()).decode()}?= <khoa@example.org>\r\n"
               f"To: {to}\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body + "\r\n")
        with smtplib.SMTP("127.0.0.1", self.info["ports"]["smtp"]) as s:
            s.sendmail("khoa@example.org", [to], msg.encode())

    def imap(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=ssl.create_default_context(cafile=self.ca))
        m.login("annv", PASSWORD)
        m.enable("UTF8=ACCEPT")
        return m

    def curl(self, url, *extra):
        p = subprocess.run(["curl", "-sS", "--cacert", self.ca, "-u", f"annv:{PASSWORD}", *extra,
                            f"imaps://127.0.0.1:{self.port}/{url}"], capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_curl(self):
        self.deliver("=?utf-8?q?C=C3=B4ng_v=C4=83n_s=E1=BB=91_7?=", "Nội dung công văn số 7")
        listing = self.curl("")
        self.assertIn(b"INBOX", listing)
        self.assertIn(b"\\Sent", listing)
        msg = self.curl("INBOX;UID=1")
        self.assertIn("Nội dung công văn số 7".encode(), msg)
        found = self.curl("INBOX?SUBJECT%20cong")
        self.assertIn(b"* SEARCH 1", found)
        examined = self.curl("INBOX", "-X", "EXAMINE INBOX")
        self.assertIn(b"1 EXISTS", examined)

    def test_mbsync_both_ways(self):
        for i in range(3):
            self.deliver(f"Thông báo {i}", f"Nội dung {i}")
        local = os.path.join(self.tmp, "mail")
        os.makedirs(local)
        rc = os.path.join(self.tmp, "mbsyncrc")
        with open(rc, "w") as f:
            # isync matches the certificate by DNS name only (no IP addresses): localhost, which
            # the local CA's certificate names and /etc/hosts maps to loopback.
            f.write(f"""IMAPAccount congvu
Host localhost
Port {self.port}
User annv
Pass {PASSWORD}
SSLType IMAPS
CertificateFile {self.ca}

IMAPStore remote
Account congvu

MaildirStore local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel c
Far :remote:
Near :local:
Patterns INBOX Archive DuAn
Create Both
Expunge Both
SyncState *
""")

        def sync():
            p = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

        def files(box):
            return sorted(glob.glob(os.path.join(local, box, "cur", "*")) + glob.glob(os.path.join(local, box, "new", "*")))

        sync()
        self.assertEqual(len(files("INBOX")), 3)
        # Local changes: one message read, one deleted, a new folder with a new message.
        # (The folder name is ASCII: isync 1.4 neither encodes nor decodes modified UTF-7.)
        inbox = files("INBOX")
        seen = inbox[0]
        os.rename(seen, os.path.join(local, "INBOX", "cur", os.path.basename(seen).split(":2,")[0] + ":2,S"))
        gone = inbox[1]
        os.rename(gone, os.path.join(local, "INBOX", "cur", os.path.basename(gone).split(":2,")[0] + ":2,T"))
        os.makedirs(os.path.join(local, "DuAn", "cur"))
        os.makedirs(os.path.join(local, "DuAn", "new"))
        os.makedirs(os.path.join(local, "DuAn", "tmp"))
        with open(os.path.join(local, "DuAn", "new", "1.local"), "wb") as f:
            f.write("From: annv@tinhmau.gov.test\r\nSubject: Kế hoạch\r\n\r\nDự thảo kế hoạch.\r\n".encode())
        # Server changes: a new message and a flag.
        self.deliver("Khẩn", "Họp lúc 14 giờ")
        m = self.imap()
        m.select("INBOX")
        m.store("3", "+FLAGS", "(\\Flagged)")
        sync()
        m.select("INBOX")
        typ, data = m.search(None, "ALL")
        self.assertEqual(len(data[0].split()), 3)  # 3 + 1 new - 1 deleted
        typ, data = m.search(None, "SEEN")
        self.assertEqual(len(data[0].split()), 1)
        typ, data = m.select('"DuAn"')
        self.assertEqual((typ, data[0]), ("OK", b"1"))
        typ, data = m.fetch("1", "(BODY.PEEK[TEXT])")
        self.assertIn("Dự thảo kế hoạch.".encode(), data[0][1])
        self.assertEqual(len(files("INBOX")), 3)
        self.assertTrue(any(f.endswith("F") or ",F" in f.split(":2,")[-1] for f in files("INBOX")), files("INBOX"))
        # And again: a change on each side, nothing else moves.
        m.select("INBOX")
        m.store("1:*", "+FLAGS", "(\\Seen)")
        os.remove(files('DuAn')[0])
        sync()
        self.assertTrue(all("S" in f.split(":2,")[-1] for f in files("INBOX")), files("INBOX"))
        typ, data = m.select('"DuAn"')
        self.assertEqual(data[0], b"0")
        m.logout()

    @unittest.skipUnless(shutil.which("tmux") and shutil.which("mutt"), "tmux and mutt")
    def test_mutt_reads_vietnamese_mail(self):
        self.deliver("=?utf-8?q?Gi=E1=BA=A5y_m=E1=BB=9Di_h=E1=BB=8Dp?=", "Kính mời đồng chí Nguyễn Văn An dự họp giao ban.")
        rc = os.path.join(self.tmp, "muttrc")
        with open(rc, "w") as f:
            f.write(f"""set folder="imaps://annv@127.0.0.1:{self.port}/"
set spoolfile="+INBOX"
set imap_pass="{PASSWORD}"
set ssl_ca_certificates_file="{self.ca}"
set ssl_verify_host=yes
set charset="utf-8"
set send_charset="utf-8"
set header_cache=""
set message_cachedir=""
set mail_check=5
set imap_check_subscribed=no
set sort=date
""")
        session = f"cv{os.getpid()}"
        env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "xterm-256color", "HOME": self.tmp}
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "40", f"mutt -n -F {rc}"], check=True, env=env)
        self.addCleanup(lambda: subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True))

        def screen():
            return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout

        def wait_for(text, timeout=20):
            deadline = time.time() + timeout
            while time.time() < deadline:
                s = screen()
                if text in s:
                    return s
                time.sleep(0.3)
            self.fail(f"{text!r} not on screen:\n{screen()}")

        wait_for("Giấy mời họp")
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
        s = wait_for("Nguyễn Văn An dự họp giao ban")
        self.assertIn("Ngô Đình Khoa", s)
        subprocess.run(["tmux", "send-keys", "-t", session, "q", "q"], check=True)
        m = self.imap()
        m.select("INBOX", readonly=True)
        typ, data = m.search(None, "SEEN")
        self.assertEqual(data[0], b"1")  # mutt marked it read on the server
        m.logout()


if __name__ == "__main__":
    support.main()
