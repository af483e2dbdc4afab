"""Helpers for integration tests: run the real `congvu` binary in temporary data folders."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("CONGVU_BIN", os.path.join(os.path.dirname(__file__), "../../build/congvu"))
SHARED = os.environ.get("CONGVU_SHARED", os.path.join(os.path.dirname(__file__), "../../../shared"))
PROVINCE = os.path.join(SHARED, "data", "province")


def run(*args, data=None, stdin=None, check=True, timeout=600):
    """Runs congvu with args; returns (exit status, stdout, stderr)."""
    cmd = [BIN, *args]
    if data is not None:
        cmd += ["--data", data]
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p.returncode, p.stdout, p.stderr


def run_json(*args, data=None, **kw):
    _, out, _ = run(*args, "--json", data=data, **kw)
    return json.loads(out)


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="congvu-it-")
        self.data = os.path.join(self.tmp, "data")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, text, encoding="utf-8"):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding=encoding, newline="") as f:
            f.write(text)
        return path


LISTENERS = ("smtp", "submission", "smtps", "imap", "imaps", "https", "ldap", "ldaps")
# For [mail]: tests never send DNS queries off the machine (SPF/DKIM/DMARC of inbound mail).
NO_DNS = 'dns_servers = "127.0.0.1:9"\n'



class ServerTest(TempDirTest):
    """Starts `congvu serve` on free loopback ports and stops it with SIGTERM."""

    def start(self, *extra, config=None, extra_config="", wrapper=(), env=None):
        ready = os.path.join(self.tmp, f"ready-{time.monotonic_ns()}.json")
        if config is None:
            # DNS stays on loopback: a closed port answers every lookup at once (temperror).
            if "[mail]" not in extra_config:
                extra_config += "[mail]\n" + NO_DNS
            config = self.write("congvu.toml", "[listen]\n" + "".join(f'{n} = "127.0.0.1:0"\n' for n in LISTENERS) + extra_config)
        self.log = os.path.join(self.tmp, f"serve-{time.monotonic_ns()}.log")
        with open(self.log, "w") as log:
            proc = subprocess.Popen([*wrapper, BIN, "serve", "--config", config, "--data", self.data, "--ready-file", ready, *extra],
                                    stdout=subprocess.DEVNULL, stderr=log, env=None if env is None else {**os.environ, **env})
        deadline = time.time() + 60
        while not os.path.exists(ready):
            if proc.poll() is not None:
                self.fail(f"serve exited {proc.returncode}: {self.read_log()}")
            if time.time() > deadline:
                proc.kill()
                self.fail("serve did not write its ready file")
            time.sleep(0.05)
        with open(ready) as f:
            info = json.load(f)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        return proc, info

    def start_https(self):
        """Starts the server with only HTTPS listening, on a free port that is also the IdP's
        issuer (https://127.0.0.1:PORT); sets self.port, self.issuer, self.proc, self.info."""
        self.port = free_port()
        self.issuer = f"https://127.0.0.1:{self.port}"
        listen = "".join(f'{n} = "off"\n' for n in LISTENERS if n != "https")
        config = self.write("congvu.toml", f'[listen]\nhttps = "127.0.0.1:{self.port}"\n{listen}'
                            f'[idp]\nissuer = "{self.issuer}"\n[mail]\n{NO_DNS}')
        self.proc, self.info = self.start(config=config)

    def read_log(self):
        with open(self.log) as f:
            return f.read()

    def stop(self, proc, info=None):
        """SIGTERM to the server (to the pid in its ready file when it runs under a wrapper)."""
        if info is not None:
            os.kill(info["pid"], signal.SIGTERM)
        else:
            proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=15)
        self.assertEqual(code, 0, self.read_log())
        self.assertIn("stopped", self.read_log())


def main():
    """Runs the module's tests and ends with the plain 'N passed, N failed' line."""
    import sys
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"{passed} passed, {failed} failed" + (f", {len(result.skipped)} skipped" if result.skipped else ""))
    sys.exit(1 if failed or result.testsRun == 0 else 0)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nss_home(root, cas):
    """A HOME whose NSS database (what Chromium reads) trusts the CA files `cas`."""
    home = os.path.join(root, "home")
    db = os.path.join(home, ".pki", "nssdb")
    os.makedirs(db)
    subprocess.run(["certutil", "-N", "-d", "sql:" + db, "--empty-password"], check=True)
    for i, path in enumerate(cas):
        subprocess.run(["certutil", "-A", "-d", "sql:" + db, "-n", f"test-ca-{i}", "-t", "C,,", "-i", path], check=True)
    return home


def wait_for_http(url, proc, error_log, context=None, timeout=20):
    """Waits until `url` answers (any HTTP status); fails with the server's output if `proc`
    exits or the time runs out."""
    import urllib.error
    import urllib.request
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2, context=context)
            return
        except urllib.error.HTTPError:
            return
        except Exception:
            if proc.poll() is not None or time.time() > deadline:
                log = open(error_log).read() if os.path.exists(error_log) else ""
                raise AssertionError("server did not start: " + (proc.stderr.read().decode() if proc.stderr else "") + log)
            time.sleep(0.1)


class Dovecot:
    """Debian's Dovecot as our own process on a loopback port (never the system service): one
    user with a plaintext password, Maildir under a temporary home. The reference IMAP server
    for BODYSTRUCTURE comparisons and benchmarks."""

    def __init__(self, root, user="annv", password="secret", extra="", mechanisms="plain", password_entry=None):
        import pwd
        self.root, self.user, self.password = root, user, password
        self.port = free_port()
        os.chmod(root, 0o755)  # Dovecot's auth process runs as another user
        os.makedirs(os.path.join(root, "run"), exist_ok=True)
        os.makedirs(os.path.join(root, "home"), exist_ok=True)
        me = pwd.getpwuid(os.getuid())
        # Dovecot refuses uid 0 for mail: as root, mail is stored as the dovecot user.
        mail_uid, mail_gid = (os.getuid(), os.getgid()) if os.getuid() else (pwd.getpwnam("dovecot").pw_uid, pwd.getpwnam("dovecot").pw_gid)
        os.chown(os.path.join(root, "home"), mail_uid, mail_gid)
        with open(os.path.join(root, "passwd"), "w") as f:
            f.write(f"{user}:{password_entry or '{PLAIN}' + password}::::::\n")
        self.conf = os.path.join(root, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(f"""base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
first_valid_uid = 0
default_internal_user = {me.pw_name if os.getuid() else 'dovecot'}
default_login_user = {me.pw_name if os.getuid() else 'dovenull'}
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
{extra}
""")
        with open(os.path.join(root, "dovecot.err"), "w") as err:
            self.proc = subprocess.Popen(["/usr/sbin/dovecot", "-F", "-c", self.conf], stdout=subprocess.DEVNULL, stderr=err)
        import socket
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise AssertionError("dovecot did not start: " + open(os.path.join(root, "dovecot.err")).read()
                                         + open(os.path.join(root, "dovecot.log")).read() if os.path.exists(os.path.join(root, "dovecot.log")) else "")
                time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Scram:
    """The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) for raw-protocol tests and load
    tools. SaltedPassword is kept in `cache` per (salt, iterations), as a client that keeps
    the password would."""

    def __init__(self, user, password, cache=None):
        import base64
        self.password = password
        self.cache = {} if cache is None else cache
        self.first_bare = f"n={user},r={base64.b64encode(os.urandom(18)).decode()}"
        self.server_signature = None

    def first(self):
        """The client-first message (gs2 header included), base64 for the wire."""
        import base64
        return base64.b64encode(("n,," + self.first_bare).encode())

    def final(self, challenge):
        """The client-final message for the server-first `challenge` (base64 as on the wire),
        base64 for the wire; sets `server_signature` (the expected "v=..." of the server)."""
        import base64
        import hashlib
        import hmac
        server_first = base64.b64decode(challenge.strip()).decode()
        attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
        key = (attrs["s"], attrs["i"])
        if key not in self.cache:
            self.cache[key] = hashlib.pbkdf2_hmac("sha256", self.password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
        salted = self.cache[key]
        client_key = hmac.new(salted, b"Client Key", "sha256").digest()
        without_proof = f"c=biws,r={attrs['r']}"
        auth_msg = f"{self.first_bare},{server_first},{without_proof}".encode()
        sig = hmac.new(hashlib.sha256(client_key).digest(), auth_msg, "sha256").digest()
        proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, sig))).decode()
        server_key = hmac.new(salted, b"Server Key", "sha256").digest()
        self.server_signature = "v=" + base64.b64encode(hmac.new(server_key, auth_msg, "sha256").digest()).decode()
        return base64.b64encode(f"{without_proof},p={proof}".encode())
