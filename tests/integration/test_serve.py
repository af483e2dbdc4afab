"""`congvu serve` end to end: ready file with bound ports, HTTPS verified against the exported
CA (curl and python's ssl), TLS 1.2+ only, demo seeding, SIGTERM exit status, port conflicts."""
import json
import os
import signal
import socket
import ssl
import subprocess
import time

from support import BIN, ServerTest, main, run


class Serve(ServerTest):
    def curl(self, url, ca):
        p = subprocess.run(["curl", "-sS", "--fail", "--cacert", ca, url], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_demo_over_verified_https_and_graceful_stop(self):
        proc, info = self.start()
        port = info["ports"]["https"]
        self.assertNotEqual(port, 0)
        self.assertEqual(info["pid"], proc.pid)
        self.assertTrue(os.path.isabs(info["ca"]))
        health = json.loads(self.curl(f"https://localhost:{port}/healthz", info["ca"]))
        self.assertEqual(health, {"status": "ok", "people": 20, "units": 10})
        self.assertIn("Congvu", self.curl(f"https://127.0.0.1:{port}/", info["ca"]))
        # The CA that `tls export-ca` prints is the one the server's certificate chains to.
        _, pem, _ = run("tls", "export-ca", data=self.data)
        with open(info["ca"]) as f:
            self.assertEqual(pem, f.read())
        # Without the CA, verification fails: the certificate is not trusted by accident.
        p = subprocess.run(["curl", "-sS", f"https://localhost:{port}/healthz"], capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        # python's ssl, with hostname checking, over TLS 1.2 and 1.3.
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ctx = ssl.create_default_context(cafile=info["ca"])
            ctx.minimum_version = ctx.maximum_version = version
            with socket.create_connection(("127.0.0.1", port)) as s, ctx.wrap_socket(s, server_hostname="localhost") as t:
                self.assertEqual(t.version(), {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version])
        # TLS 1.1 is refused by the server (openssl's client may offer it at security level 0).
        p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
                           input="", capture_output=True, text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        # A demo person can be found by the admin CLI while the server runs (LMDB is multi-process).
        _, out, _ = run("person", "show", "annv2", data=self.data)
        self.assertIn("Nguyễn Văn An", out)
        self.assertIn("seeded the demo province", self.read_log())
        self.stop(proc)

    def test_restart_keeps_data_and_ca_and_no_demo_reseed(self):
        proc, info = self.start()
        # The data folder is the service's own: 0700, its stores 0600.
        import stat
        self.assertEqual(stat.S_IMODE(os.stat(self.data).st_mode), 0o700)
        for name in ("directory.mdb", "mail.mdb"):
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.data, name)).st_mode), 0o600, name)
        with open(info["ca"]) as f:
            ca1 = f.read()
        self.stop(proc)
        proc, info = self.start()
        with open(info["ca"]) as f:
            self.assertEqual(f.read(), ca1)
        health = json.loads(self.curl(f"https://localhost:{info['ports']['https']}/healthz", info["ca"]))
        self.assertEqual(health["people"], 20)
        self.stop(proc)

    def test_sigterm_closes_an_idle_keep_alive_connection_at_once(self):
        # A grace period far longer than the test's patience: the server must not wait for a
        # connection that sits between requests.
        proc, info = self.start(extra_config="[limits]\ngrace_seconds = 600\n")
        ctx = ssl.create_default_context(cafile=info["ca"])
        with socket.create_connection(("127.0.0.1", info["ports"]["https"])) as s, \
                ctx.wrap_socket(s, server_hostname="localhost") as t:
            t.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            self.assertIn(b"200 OK", t.recv(4096))
            # The connection stays open (keep-alive) and idle while the server is told to stop.
            proc.send_signal(signal.SIGTERM)
            t.settimeout(60)
            self.assertEqual(t.recv(4096), b"", "the server closes the idle connection")
            self.assertEqual(proc.wait(timeout=60), 0)
        self.assertIn("stopped", self.read_log())

    def test_head_then_get_on_one_connection(self):
        import http.client
        proc, info = self.start()
        ctx = ssl.create_default_context(cafile=info["ca"])
        conn = http.client.HTTPSConnection("localhost", info["ports"]["https"], context=ctx, timeout=10)
        conn.request("HEAD", "/healthz")
        head = conn.getresponse()
        self.assertEqual(head.status, 200)
        self.assertEqual(head.read(), b"")
        self.assertGreater(int(head.getheader("Content-Length")), 0)
        self.assertEqual(head.getheader("X-Content-Type-Options"), "nosniff")
        conn.request("GET", "/healthz")  # same connection: framing must still be right
        self.assertEqual(json.loads(conn.getresponse().read())["people"], 20)
        conn.request("POST", "/healthz", body=b"x")
        refused = conn.getresponse()
        self.assertEqual((refused.status, refused.getheader("Allow")), (405, "GET, HEAD"))
        refused.read()
        conn.request("GET", "/nope")
        missing = conn.getresponse()
        self.assertEqual(missing.status, 404)
        missing.read()
        conn.close()
        self.stop(proc)

    def test_no_demo(self):
        proc, info = self.start("--no-demo")
        health = json.loads(self.curl(f"https://localhost:{info['ports']['https']}/healthz", info["ca"]))
        self.assertEqual(health["people"], 0)
        self.stop(proc)

    def test_port_in_use_is_a_clear_error(self):
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        config = self.write("busy.toml", f'[listen]\nhttps = "127.0.0.1:{port}"\n')
        p = subprocess.run([BIN, "serve", "--config", config, "--data", self.data, "--no-demo"],
                           capture_output=True, text=True, timeout=60)
        blocker.close()
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"cannot listen on 127.0.0.1:{port}", p.stderr)

    def test_bad_config_is_refused_before_start(self):
        config = self.write("bad.toml", "[listen]\nhttps = \"nowhere\"\n")
        p = subprocess.run([BIN, "serve", "--config", config, "--data", self.data], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn(f"{config}:2:", p.stderr)


if __name__ == "__main__":
    main()
