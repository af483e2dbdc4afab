"""BODYSTRUCTURE and ENVELOPE against Dovecot: the 400 messages of the shared province (and the
MIME edge cases in tests/data/mime) are appended to Congvu and to Debian's Dovecot (our own
process on a loopback port), fetched back, and compared: the bytes must come back identical
and the structures equal to Dovecot's."""
import glob
import imaplib
import os
import ssl
import tempfile

import support

HERE = os.path.dirname(os.path.abspath(__file__))


def messages():
    files = sorted(glob.glob(os.path.join(support.PROVINCE, "mail", "*.eml")))
    files += sorted(glob.glob(os.path.join(HERE, "..", "data", "mime", "*.eml")))
    out = []
    for f in files:
        with open(f, "rb") as fh:
            data = fh.read()
        if b"\r\n" not in data:
            data = data.replace(b"\n", b"\r\n")
        out.append((os.path.basename(f), data))
    return out


def parse(b, i=0):
    """One IMAP value from bytes: list, quoted string, literal, NIL or atom -> Python value."""
    while b[i:i + 1] == b" ":
        i += 1
    c = b[i:i + 1]
    if c == b"(":
        out, i = [], i + 1
        while True:
            while b[i:i + 1] == b" ":
                i += 1
            if b[i:i + 1] == b")":
                return out, i + 1
            v, i = parse(b, i)
            out.append(v)
    if c == b'"':
        j, out = i + 1, bytearray()
        while b[j:j + 1] != b'"':
            if b[j:j + 1] == b"\\":
                j += 1
            out += b[j:j + 1]
            j += 1
        return bytes(out), j + 1
    if c == b"{":
        j = b.index(b"}", i)
        n = int(b[i + 1:j].rstrip(b"+"))
        start = j + 3  # "}\r\n"
        return b[start:start + n], start + n
    j = i
    while j < len(b) and b[j:j + 1] not in (b" ", b")", b"("):
        j += 1
    if b[j:j + 1] == b"[":
        j = b.index(b"]", j) + 1
    atom = b[i:j]
    return (None if atom.upper() == b"NIL" else atom), j


def fetch_all(m, count):
    """{uid: {item: value}} from FETCH responses, literals and quoted strings alike."""
    typ, data = m.uid("FETCH", "1:*", "(BODYSTRUCTURE ENVELOPE BODY.PEEK[])")
    assert typ == "OK", data
    wire = b""
    for part in data:
        if isinstance(part, tuple):
            wire += part[0] + b"\r\n" + part[1]
        else:
            wire += part + b"\n"
    out = {}
    i = 0
    while i < len(wire):
        while wire[i:i + 1] in (b"\n", b" "):
            i += 1
        if i >= len(wire):
            break
        j = wire.index(b" ", i)
        items, i = parse(wire, j + 1)
        d = {items[k].upper(): items[k + 1] for k in range(0, len(items), 2)}
        out[int(d[b"UID"])] = d
    assert len(out) == count, (len(out), count)
    return out


class DovecotComparison(support.ServerTest):
    def test_bodystructure_matches_dovecot(self):
        msgs = messages()
        self.assertGreaterEqual(len(msgs), 400)
        proc, info = self.start()
        ctx = ssl.create_default_context(cafile=info["ca"])
        cv = imaplib.IMAP4_SSL("127.0.0.1", info["ports"]["imaps"], ssl_context=ctx)
        cv.login("annv", "CongVu-demo-2026")
        with tempfile.TemporaryDirectory(prefix="dovecot-") as root:
            dv = support.Dovecot(root)
            try:
                d = imaplib.IMAP4("127.0.0.1", dv.port)
                d.login(dv.user, dv.password)
                for m in (cv, d):
                    m.create("Cmp")
                    for _, data in msgs:
                        typ, resp = m.append("Cmp", None, None, data)
                        self.assertEqual(typ, "OK", resp)
                    m.select("Cmp", readonly=True)
                ours = fetch_all(cv, len(msgs))
                theirs = fetch_all(d, len(msgs))
                mismatches = []
                for uid, (name, data) in enumerate(msgs, start=1):
                    bs1, env1, body1 = ours[uid][b"BODYSTRUCTURE"], ours[uid][b"ENVELOPE"], ours[uid][b"BODY[]"]
                    bs2, env2 = theirs[uid][b"BODYSTRUCTURE"], theirs[uid][b"ENVELOPE"]
                    self.assertEqual(body1, data, f"{name}: bytes differ after APPEND/FETCH")
                    if bs1 != bs2:
                        mismatches.append(f"{name}: BODYSTRUCTURE\n  congvu:  {bs1!r:.600}\n  dovecot: {bs2!r:.600}")
                    if env1 != env2:
                        mismatches.append(f"{name}: ENVELOPE\n  congvu:  {env1!r:.600}\n  dovecot: {env2!r:.600}")
                self.assertEqual(mismatches, [], "\n".join(mismatches[:10]) + f"\n({len(mismatches)} in all)")
                d.logout()
            finally:
                dv.stop()
        cv.logout()
        self.stop(proc)


if __name__ == "__main__":
    support.main()
