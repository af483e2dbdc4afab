"""Differential IMAP tests: the same script of commands, from one or more connections
interleaved, runs against Congvu and against Dovecot 2.3 (Debian's, our own process on a
loopback port) on the same messages; the responses are compared after normalising what may
legitimately differ (issue 21).

Script format (tests/imap_diff/scripts/*.imap), one step per line:

    # a comment
    @append FILE [(FLAGS)]     APPEND tests/imap_diff/messages/FILE (or ../data/mime/FILE) to $MB
                               on both servers with a fixed INTERNALDATE; must answer OK
    N COMMAND ...              connection N (1, 2, ...; opened and logged in on first use)
                               sends COMMAND with its own tag and reads up to the tagged answer
    N! COMMAND ...             the same, but the answers are not compared (set-up steps)
    N? TEXT                    for a command that leaves the connection waiting (IDLE's "+",
                               AUTHENTICATE): send a bare line TEXT (e.g. DONE) and read to the
                               tagged answer of the waiting command
    @congvu LINE               Congvu only: the next command's normalised answer must contain
                               LINE (for what Dovecot 2.3 lacks: IMAP4rev2, UTF8=ACCEPT, ...;
                               the expected line is derived from the RFC, cited beside it)
    @differs REASON            the next command differs from Dovecot on purpose (docs/IMAP.md),
                               or not yet ("TODO(issue 21): ..."): listed, not failed; @congvu
                               lines still check ours

In a COMMAND, $MB is the script's own mailbox ("diff-<script>"), $MB2 a second one, and
{{text}} is a synchronising literal (the harness waits for "+"), {{+text}} a LITERAL+ one;
text may hold \\r\\n escapes.

What normalisation removes: the text after a status (and its response code's arguments for
UIDVALIDITY, APPENDUID, COPYUID, HIGHESTMODSEQ, MODSEQ, CAPABILITY), CAPABILITY and ID
responses, untagged OK [HIGHESTMODSEQ] (see DROPPED), the greeting, the order of FETCH items and of flags, and the order of untagged
responses other than EXISTS, EXPUNGE, VANISHED, FETCH and RECENT (whose order is checked).
"""
import os
import re
import socket
import ssl
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MESSAGES = [os.path.join(HERE, "messages"), os.path.join(HERE, "..", "data", "mime")]
DATE = '"02-Dec-2026 09:30:00 +0700"'


class Conn:
    def __init__(self, sock, name):
        self.sock, self.name, self.buf, self.n = sock, name, b"", 0
        self.sock.settimeout(60)
        self.greeting = self.line()

    def fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError(f"{self.name}: connection closed")
        self.buf += d

    def line(self):
        """One response line with its literals inlined (bytes, CRLF stripped)."""
        out = b""
        while True:
            while b"\r\n" not in self.buf:
                self.fill()
            i = self.buf.index(b"\r\n")
            part, self.buf = self.buf[:i], self.buf[i + 2:]
            out += part
            m = re.search(rb"~?\{(\d+)\}$", part)
            if not m:
                return out
            n = int(m.group(1))
            while len(self.buf) < n:
                self.fill()
            out += b"\r\n" + self.buf[:n]
            self.buf = self.buf[n:]

    def send(self, data):
        self.sock.sendall(data)

    def command(self, text):
        """Sends `text` (bytes, literal markers expanded) with a new tag; returns (tag, lines)."""
        self.n += 1
        tag = f"{self.name}{self.n}".encode()
        self.tag = tag
        chunks = re.split(rb"\{\{(\+?)(.*?)\}\}", text, flags=re.S)
        head = tag + b" " + chunks[0]
        lines = []
        i = 1
        while i < len(chunks):
            plus, lit, rest = chunks[i], unescape(chunks[i + 1]), chunks[i + 2]
            self.send(head + b"{%d%s}\r\n" % (len(lit), b"+" if plus else b""))
            if not plus:
                while True:
                    l = self.line()
                    if l.startswith(b"+"):
                        break
                    lines.append(l)
                    if l.startswith(tag + b" "):
                        return tag, lines
            head = lit + rest
            i += 3
        self.send(head + b"\r\n")
        return tag, lines + self.until(tag)

    def until(self, tag):
        lines = []
        while True:
            l = self.line()
            lines.append(l)
            if l.startswith(tag + b" ") or l.startswith(b"+"):
                return lines

    def append(self, mailbox, flags, data):
        self.n += 1
        self.tag = tag = f"{self.name}{self.n}".encode()
        self.send(tag + b" APPEND " + mailbox + b" " + flags + DATE.encode() + b" {%d+}\r\n" % len(data) + data + b"\r\n")
        return self.until(tag)

    def bare(self, text):
        self.send(text + b"\r\n")
        return self.until(self.tag)


def unescape(b):
    return b.replace(b"\\r", b"\r").replace(b"\\n", b"\n").replace(b"\\t", b"\t")


# ---- normalisation -----------------------------------------------------------------------

def split_values(s):
    """Top-level IMAP values of a parenthesised list body (bytes) -> list of bytes."""
    out, i, n = [], 0, len(s)
    while i < n:
        while i < n and s[i:i + 1] == b" ":
            i += 1
        if i >= n:
            break
        j = i
        if s[j:j + 1] == b'"':
            j += 1
            while s[j:j + 1] != b'"':
                j += 2 if s[j:j + 1] == b"\\" else 1
            j += 1
        elif s[j:j + 1] in (b"{", b"~"):
            m = re.match(rb"~?\{(\d+)\}\r\n", s[j:])
            j += m.end() + int(m.group(1))
        elif s[j:j + 1] == b"(":
            depth = 0
            while True:
                c = s[j:j + 1]
                if c == b'"':
                    j += 1
                    while s[j:j + 1] != b'"':
                        j += 2 if s[j:j + 1] == b"\\" else 1
                elif c in (b"{",):
                    m = re.match(rb"\{(\d+)\}\r\n", s[j:])
                    if m:
                        j += m.end() + int(m.group(1)) - 1
                elif c == b"(":
                    depth += 1
                elif c == b")":
                    depth -= 1
                    if depth == 0:
                        j += 1
                        break
                j += 1
        else:
            while j < n and s[j:j + 1] not in (b" ", b"("):
                if s[j:j + 1] == b"[":
                    depth = 0
                    while True:
                        if s[j:j + 1] == b"[":
                            depth += 1
                        elif s[j:j + 1] == b"]":
                            depth -= 1
                            if depth == 0:
                                break
                        j += 1
                j += 1
            # a section's origin <n> or a following list belongs to the item name
        out.append(s[i:j])
        i = j
    return out


def literal_to_quoted(v):
    """A literal value becomes {N}-free bytes so that quoted and literal forms compare equal."""
    m = re.match(rb"(~?)\{(\d+)\}\r\n", v)
    if m:
        return m.group(1) + b"LIT:" + v[m.end():]
    if v.startswith(b'"'):
        return b"LIT:" + re.sub(rb'\\(.)', rb"\1", v[1:-1])
    return v


def norm_flags(v):
    inner = v.strip()[1:-1].split()
    return b"(" + b" ".join(sorted(inner, key=lambda x: x.lower())) + b")"


def norm_fetch(body):
    items = split_values(body)
    pairs = []
    k = 0
    while k + 1 < len(items):
        name, val = items[k].upper(), items[k + 1]
        if name in (b"FLAGS",):
            val = norm_flags(val)
        elif name == b"MODSEQ":
            val = b"(N)"
        else:
            val = literal_to_quoted(val)
        pairs.append(name + b" " + val)
        k += 2
    return b"(" + b" ".join(sorted(pairs)) + b")"


def norm_code(code):
    name = code.split(b" ", 1)[0].upper()
    if name == b"CAPABILITY":
        return b"[CAPABILITY]"
    if name in (b"UIDVALIDITY", b"HIGHESTMODSEQ"):
        return b"[" + name + b" N]"
    if name in (b"APPENDUID", b"COPYUID"):
        return b"[" + re.sub(rb"^(\S+) \d+", rb"\1 N", code) + b"]"
    if name == b"PERMANENTFLAGS":
        m = re.match(rb"PERMANENTFLAGS (\(.*\))", code, re.I)
        return b"[PERMANENTFLAGS " + (norm_flags(m.group(1)) if m else b"") + b"]"
    return b"[" + code + b"]"


STATUS = re.compile(rb"^(\S+) (OK|NO|BAD|BYE|PREAUTH)(?: \[((?:[^\]\[]|\[[^\]]*\])*)\])?(?: .*)?$", re.S | re.I)


def norm_line(l, tag):
    if l.startswith(b"+"):
        return b"+"
    m = STATUS.match(l)
    if m:
        who = b"TAG" if m.group(1) == tag else m.group(1)
        out = who + b" " + m.group(2).upper()
        if m.group(3) is not None:
            out += b" " + norm_code(m.group(3))
        return out
    m = re.match(rb"^\* (\d+) FETCH \((.*)\)$", l, re.S | re.I)
    if m:
        return b"* " + m.group(1) + b" FETCH " + norm_fetch(m.group(2))
    m = re.match(rb"^\* FLAGS (\(.*\))$", l, re.I)
    if m:
        return b"* FLAGS " + norm_flags(m.group(1))
    m = re.match(rb"^\* (LIST|LSUB) (\([^)]*\)) (.*)$", l, re.S | re.I)
    if m:  # an extended item's tag is an astring: "CHILDINFO" (RFC 5258's example) = CHILDINFO
        rest = m.group(3).replace(b'("CHILDINFO" ', b"(CHILDINFO ")
        return b"* " + m.group(1).upper() + b" " + norm_flags(m.group(2)) + b" " + rest
    m = re.match(rb"^\* (ESEARCH .*)$", l, re.I)
    if m:
        text = m.group(1).replace(b'(TAG "' + tag + b'")', b"(TAG TAG)")
        return b"* " + re.sub(rb"MODSEQ \d+", b"MODSEQ N", text)
    m = re.match(rb"^\* (SEARCH|SORT)(.*)$", l, re.I)
    if m:
        return b"* " + m.group(1).upper() + re.sub(rb"\(MODSEQ \d+\)", b"(MODSEQ N)", m.group(2))
    m = re.match(rb"^\* STATUS (.*) \((.*)\)$", l, re.S | re.I)
    if m:
        vals = split_values(m.group(2))
        pairs = sorted(vals[k].upper() + b" " + (b"N" if vals[k].upper() in (b"UIDVALIDITY", b"HIGHESTMODSEQ") else vals[k + 1])
                       for k in range(0, len(vals) - 1, 2))
        return b"* STATUS " + literal_to_quoted(m.group(1)) + b" (" + b" ".join(pairs) + b")"
    return l


ORDERED = re.compile(rb"^\* (\d+ (EXISTS|EXPUNGE|FETCH|RECENT)|VANISHED)", re.I)
# Dropped: CAPABILITY and ID; HIGHESTMODSEQ in untagged OK, which RFC 7162 3.1.2.1 wants on
# every SELECT of a server with persistent modseqs (Congvu) and Dovecot sends only once
# CONDSTORE is enabled (it comes back in the tagged answers and STATUS, which are compared).
DROPPED = re.compile(rb"^\* (CAPABILITY |ID |OK \[HIGHESTMODSEQ )", re.I)


def normalise(lines, tag):
    ordered, other, tail = [], [], []
    for l in lines:
        if DROPPED.match(l):
            continue
        n = norm_line(l, tag)
        if l.startswith(tag + b" ") or l.startswith(b"+"):
            tail.append(n)
        elif ORDERED.match(l):
            ordered.append(n)
        else:
            other.append(n)
    return sorted(other) + ordered + tail


# ---- servers -----------------------------------------------------------------------------

class Server:
    def __init__(self, name, connect, login, password):
        self.name, self.connect, self.login, self.password = name, connect, login, password
        self.conns = {}

    def conn(self, n):
        if n not in self.conns:
            c = Conn(self.connect(), chr(ord("a") + n - 1))
            tag, lines = c.command(b"LOGIN " + self.login.encode() + b" " + self.password.encode())
            assert lines[-1].startswith(tag + b" OK"), (self.name, lines)
            self.conns[n] = c
        return self.conns[n]

    def close(self):
        for c in self.conns.values():
            try:
                c.command(b"LOGOUT")
            except (OSError, EOFError):
                pass
            c.sock.close()
        self.conns = {}


def find_message(name):
    for d in MESSAGES:
        p = os.path.join(d, name)
        if os.path.exists(p):
            with open(p, "rb") as f:
                data = f.read()
            return data if b"\r\n" in data else data.replace(b"\n", b"\r\n")
    raise FileNotFoundError(name)


def run_script(path, servers, known=None):
    """Runs one script on every server; returns a list of difference reports (strings).
    Differences a script marks with @differs go to `known` (printed, not failed)."""
    known = [] if known is None else known
    base = os.path.splitext(os.path.basename(path))[0]
    subst = {b"$MB2": f"diff-{base}-2".encode(), b"$MB": f"diff-{base}".encode()}
    reports, expect, differs = [], [], None
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    for lineno, raw in enumerate(lines, 1):
        line = raw.rstrip(b"\r")
        if not line.strip() or line.startswith(b"#"):
            continue
        for k, v in subst.items():
            line = line.replace(k, v)
        where = f"{os.path.basename(path)}:{lineno}"
        if line.startswith(b"@congvu "):
            expect.append(line[len(b"@congvu "):].strip())
            continue
        if line.startswith(b"@differs"):
            differs = line[len(b"@differs"):].strip().decode()
            continue
        if line.startswith(b"@append "):
            parts = line.split(b" ", 2)
            data = find_message(parts[1].decode())
            flags = parts[2] + b" " if len(parts) > 2 else b""
            for s in servers:
                got = s.conn(1).append(subst[b"$MB"], flags, data)
                if not got[-1].split(b" ")[1:2] == [b"OK"]:
                    raise AssertionError(f"{where}: {s.name} refused the APPEND: {got!r}")
            continue
        m = re.match(rb"^(\d+)([!?]?) (.*)$", line, re.S)
        if not m:
            raise ValueError(f"{where}: cannot read this line")
        n, mode, cmd = int(m.group(1)), m.group(2), m.group(3)
        answers = []
        for s in servers:
            c = s.conn(n)
            if mode == b"?":
                got, tag = c.bare(cmd), c.tag
            else:
                tag, got = c.command(cmd)
            answers.append(normalise(got, tag))
        if mode == b"!":
            expect, differs = [], None
            continue
        if os.environ.get("IMAP_DIFF_SHOW"):  # for writing scripts: every answer, both servers
            print(f"{where}: {cmd.decode(errors='replace')[:200]}")
            for s, a in zip(servers, answers):
                print("".join(f"  {s.name}: {x.decode(errors='replace')[:300]}\n" for x in a), end="")
        ours = answers[0]
        for e in expect:
            if not any(x == e or x.startswith(e) for x in ours):
                reports.append(f"{where}: {cmd.decode(errors='replace')}\n  congvu lacks {e.decode(errors='replace')}\n"
                               + "".join(f"    {x.decode(errors='replace')[:300]}\n" for x in ours))
        if differs is not None and len(answers) > 1 and answers[0] != answers[1]:
            known.append(f"{where}: {differs}")
        if differs is None and len(answers) > 1 and answers[0] != answers[1]:
            reports.append(f"{where}: {cmd.decode(errors='replace')[:200]}\n" + "".join(
                f"  {s.name}:\n" + "".join(f"    {x.decode(errors='replace')[:300]}\n" for x in a)
                for s, a in zip(servers, answers)))
        expect, differs = [], None
    return reports
