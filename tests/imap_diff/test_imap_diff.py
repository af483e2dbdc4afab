"""Runs every script in tests/imap_diff/scripts against Congvu (IMAPS, certificate verified)
and Dovecot 2.3 (our own process on a loopback port) and fails on any difference that a
script does not mark as deliberate (harness.py says how). One pair of servers for the whole
run; each script gets its own mailboxes and fresh connections.

    CONGVU_BIN=build/release/congvu python3 tests/imap_diff/test_imap_diff.py [-k NAME]
"""
import glob
import os
import socket
import ssl
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
import support  # noqa: E402
import harness  # noqa: E402
import stress  # noqa: E402

DOVECOT_EXTRA = """namespace inbox {
  inbox = yes
  separator = /
}
protocol imap {
  mail_max_userip_connections = 100
}
"""


def scripts():
    only = os.environ.get("IMAP_DIFF_ONLY")
    out = sorted(glob.glob(os.path.join(HERE, "scripts", "*.imap")))
    return [p for p in out if not only or only in os.path.basename(p)]


class ImapDiff(support.ServerTest):
    def test_scripts_match_dovecot(self):
        proc, info = self.start()
        ctx = ssl.create_default_context(cafile=info["ca"])

        def congvu():
            raw = socket.create_connection(("127.0.0.1", info["ports"]["imaps"]))
            return ctx.wrap_socket(raw, server_hostname="127.0.0.1")

        with tempfile.TemporaryDirectory(prefix="dovecot-") as root:
            dv = support.Dovecot(root, extra=DOVECOT_EXTRA)
            try:
                servers = [harness.Server("congvu", congvu, "annv", "CongVu-demo-2026"),
                           harness.Server("dovecot", lambda: socket.create_connection(("127.0.0.1", dv.port)),
                                          dv.user, dv.password)]
                reports, known, ran = [], [], 0
                for path in scripts():
                    base = os.path.splitext(os.path.basename(path))[0]
                    for s in servers:
                        for mb in (f"diff-{base}", f"diff-{base}-2"):
                            s.conn(1).command(b"CREATE " + mb.encode())
                    try:
                        reports += harness.run_script(path, servers, known)
                    except (AssertionError, EOFError, OSError, ValueError) as e:
                        reports.append(f"{os.path.basename(path)}: stopped: {e}")
                    for s in servers:
                        s.close()
                    ran += 1
                if os.environ.get("IMAP_DIFF_ONLY") != "none":  # "none": the stress run alone
                    self.assertGreater(ran, 0)
                for k in known:
                    print("known difference: " + k, file=sys.stderr)
                print(f"{ran} scripts, {len(reports)} differences, {len(known)} known", file=sys.stderr)
                self.assertEqual(reports, [], "\n" + "\n".join(reports))
                # The randomised stress run, the same commands on each server: no state error.
                stress.self_test()
                steps = int(os.environ.get("IMAP_STRESS_STEPS", "1500"))
                found = {}
                for s in servers:
                    for mb in (b"stress-a", b"stress-b"):
                        s.conn(1).command(b"CREATE " + mb)
                    s.close()
                    found[s.name] = stress.run(s, [b"stress-a", b"stress-b"], conns=20, steps=steps,
                                                seed=int(os.environ.get("IMAP_STRESS_SEED", "21")))
                    s.close()
                    print(f"stress on {s.name}: {steps} steps, 20 connections, {len(found[s.name])} state errors",
                          file=sys.stderr)
                self.assertEqual(found["dovecot"], [], "the checker itself is wrong: " + "\n".join(found["dovecot"][:20]))
                self.assertEqual(found["congvu"], [], "\n" + "\n".join(found["congvu"][:40]))
            finally:
                dv.stop()
        self.stop(proc)


if __name__ == "__main__":
    support.main()
