"""Randomised multi-client IMAP stress with a state checker (issue 21).

Many connections of one account share two mailboxes and do random SELECT, FETCH, STORE,
APPEND, EXPUNGE, COPY, MOVE, SEARCH and IDLE, one command at a time in an order drawn from a
seeded generator (the same seed gives the same commands, whatever the machine's speed). Each
connection keeps what its session has been told and fails on anything a correct server could
not have said (RFC 3501 2.3.1, 7.2.6, 7.3.1, 7.4.1, 7.4.2; RFC 7162 3.1):

- EXISTS never shrinks the mailbox (only EXPUNGE does) and EXPUNGE names an existing number;
- no EXPUNGE during FETCH, STORE or SEARCH (non-UID forms);
- a FETCH names an existing message, and its UID agrees with what the session knows; UIDs grow
  with sequence numbers;
- every keyword in a FETCH FLAGS was announced in FLAGS before;
- MODSEQ of a message never goes down; a SEARCH answers numbers that exist;
- every command the client may give here is answered OK (or NO only where the checker allows).

`run(servers, steps, seed)` returns the list of errors; test_imap_diff.py runs it against
Congvu and Dovecot and expects none from either.
"""
import random
import re

FLAGS = [b"\\Seen", b"\\Flagged", b"\\Answered", b"\\Draft", b"\\Deleted", b"$Label1", b"Urgent", b"Phong_ban"]


class Model:
    """What one session has been told about its selected mailbox."""

    def __init__(self):
        self.mailbox = None
        self.uids = []        # seq - 1 -> UID (None: not told yet)
        self.keywords = set()  # announced by FLAGS
        self.modseq = {}       # uid -> highest MODSEQ seen
        self.errors = []

    def err(self, conn, cmd, text):
        self.errors.append(f"{conn}: {cmd.decode(errors='replace')[:80]}: {text}")


def parse_flags(s):
    return s.strip()[1:-1].split()


def check(model, conn, cmd, lines, kind):
    """Applies and checks the untagged responses of one command. kind: the command's name."""
    no_expunge = kind in (b"FETCH", b"STORE", b"SEARCH")
    for l in lines:
        if not l.startswith(b"* "):
            continue
        m = re.match(rb"^\* (\d+) EXISTS$", l)
        if m:
            n = int(m.group(1))
            if n < len(model.uids):
                model.err(conn, cmd, f"EXISTS {n} after {len(model.uids)} without EXPUNGE")
                model.uids = model.uids[:n]
            model.uids += [None] * (n - len(model.uids))
            continue
        m = re.match(rb"^\* (\d+) EXPUNGE$", l)
        if m:
            n = int(m.group(1))
            if no_expunge:
                model.err(conn, cmd, f"EXPUNGE {n} during {kind.decode()}")
            if not 1 <= n <= len(model.uids):
                model.err(conn, cmd, f"EXPUNGE {n} of {len(model.uids)} messages")
            else:
                model.uids.pop(n - 1)
            continue
        m = re.match(rb"^\* VANISHED (.*)$", l)
        if m:
            model.err(conn, cmd, "VANISHED without QRESYNC")
            continue
        m = re.match(rb"^\* FLAGS (\(.*\))$", l)
        if m:
            model.keywords = {f for f in parse_flags(m.group(1)) if not f.startswith(b"\\")}
            continue
        m = re.match(rb"^\* (\d+) FETCH \((.*)\)$", l, re.S)
        if m:
            n, body = int(m.group(1)), m.group(2)
            if not 1 <= n <= len(model.uids):
                model.err(conn, cmd, f"FETCH {n} of {len(model.uids)} messages")
                continue
            u = re.search(rb"\bUID (\d+)", body)
            if u:
                uid = int(u.group(1))
                known = model.uids[n - 1]
                if known is not None and known != uid:
                    model.err(conn, cmd, f"message {n} was UID {known}, now {uid}")
                model.uids[n - 1] = uid
                before = [x for x in model.uids[:n - 1] if x is not None]
                after = [x for x in model.uids[n:] if x is not None]
                if (before and max(before) >= uid) or (after and min(after) <= uid):
                    model.err(conn, cmd, f"UID {uid} out of order at {n}")
            f = re.search(rb"\bFLAGS (\([^)]*\))", body)
            if f:
                for k in parse_flags(f.group(1)):
                    if not k.startswith(b"\\") and k not in model.keywords:
                        model.err(conn, cmd, f"keyword {k.decode()} before FLAGS announced it")
            ms = re.search(rb"\bMODSEQ \((\d+)\)", body)
            if ms and model.uids[n - 1] is not None:
                uid, v = model.uids[n - 1], int(ms.group(1))
                if v < model.modseq.get(uid, 0):
                    model.err(conn, cmd, f"MODSEQ of UID {uid} went from {model.modseq[uid]} to {v}")
                model.modseq[uid] = max(v, model.modseq.get(uid, 0))
            continue
        m = re.match(rb"^\* SEARCH(.*)$", l)
        if m and kind == b"SEARCH":
            for x in m.group(1).split():
                if x.isdigit() and not 1 <= int(x) <= len(model.uids):
                    model.err(conn, cmd, f"SEARCH names {x.decode()} of {len(model.uids)}")


def message(rng, n):
    return (b"From: stress@tinhmau.test\r\nTo: annv@tinhmau.test\r\nSubject: stress %d\r\n"
            b"Message-ID: <stress-%d@tinhmau.test>\r\n\r\nbody %d\r\n" % (n, n, n))


def run(server, mailboxes, conns=20, steps=1500, seed=21):
    """One server: `conns` connections over `mailboxes`; returns the errors found."""
    rng = random.Random(seed)
    models, sessions, idling = {}, {}, set()
    errors = []
    appended = 0
    for i in range(1, conns + 1):
        c = server.conn(i)
        tag, lines = c.command(b"ENABLE CONDSTORE") if i % 2 else c.command(b"NOOP")
        models[i] = Model()
        sessions[i] = c
    for step in range(steps):
        i = rng.randrange(1, conns + 1)
        c, model = sessions[i], models[i]
        if i in idling:
            lines = c.bare(b"DONE")
            idling.discard(i)
            check(model, i, b"IDLE", lines, b"IDLE")
            if not lines[-1].split(b" ")[1:2] == [b"OK"]:
                model.err(i, b"IDLE", f"answered {lines[-1][:80]!r}")
            continue
        r = rng.random()
        n = len(model.uids)
        if model.mailbox is None or r < 0.04:
            box = rng.choice(mailboxes)
            cmd = b"SELECT " + box
            model.__init__()
            model.mailbox = box
            kind = b"SELECT"
        elif r < 0.22 and n:
            a = rng.randrange(1, n + 1)
            b = rng.randrange(a, n + 1)
            cmd = b"FETCH %d:%d (UID FLAGS)" % (a, b) if rng.random() < 0.5 else b"UID FETCH 1:* (FLAGS)"
            kind = b"FETCH" if cmd.startswith(b"FETCH") else b"UID"
        elif r < 0.42 and n:
            a = rng.randrange(1, n + 1)
            flags = b" ".join(rng.sample(FLAGS, rng.randrange(1, 3)))
            op = rng.choice([b"+FLAGS", b"-FLAGS", b"+FLAGS.SILENT", b"FLAGS"])
            if rng.random() < 0.5:
                cmd, kind = b"STORE %d %s (%s)" % (a, op, flags), b"STORE"
            else:
                cmd, kind = b"UID STORE %d:* %s (%s)" % (rng.randrange(1, 60), op, flags), b"UID"
        elif r < 0.55:
            appended += 1
            data = message(rng, appended)
            got = c.append(rng.choice(mailboxes), b"", data)
            check(model, i, b"APPEND", got, b"APPEND")
            if got[-1].split(b" ")[1:2] != [b"OK"]:
                model.err(i, b"APPEND", f"answered {got[-1][:80]!r}")
            continue
        elif r < 0.62:
            cmd, kind = (b"EXPUNGE", b"EXPUNGE") if rng.random() < 0.7 else (b"UID EXPUNGE 1:*", b"UID")
        elif r < 0.70 and n:
            a = rng.randrange(1, n + 1)
            verb = rng.choice([b"COPY", b"MOVE"])
            cmd, kind = b"%s %d %s" % (verb, a, rng.choice(mailboxes)), verb
        elif r < 0.80:
            cmd = rng.choice([b"SEARCH ALL", b"SEARCH UNSEEN", b"SEARCH KEYWORD Urgent", b"SEARCH DELETED"])
            kind = b"SEARCH"
        elif r < 0.86:
            tag, lines = c.command(b"IDLE")
            check(model, i, b"IDLE", lines, b"IDLE")
            if lines[-1].startswith(b"+"):
                idling.add(i)
            else:
                model.err(i, b"IDLE", f"answered {lines[-1][:80]!r}")
            continue
        else:
            cmd, kind = rng.choice([(b"NOOP", b"NOOP"), (b"CHECK", b"CHECK")])
        tag, lines = c.command(cmd)
        check(model, i, cmd, lines, kind)
        status = lines[-1].split(b" ")[1:2]
        if status == [b"NO"] and b"[EXPUNGEISSUED]" in lines[-1] and kind in (b"FETCH", b"STORE", b"COPY", b"MOVE"):
            continue  # a message another session expunged (RFC 2180 4.1.2, 4.2.2)
        if status != [b"OK"]:
            model.err(i, cmd, f"answered {lines[-1][:100]!r}")
    for i in idling:
        lines = sessions[i].bare(b"DONE")
        check(models[i], i, b"IDLE", lines, b"IDLE")
    for m in models.values():
        errors += m.errors
    return errors


def self_test():
    """The checker finds what it is there to find (each case is a bug some server had)."""
    cases = [
        ([b"* 3 EXISTS", b"* 2 EXISTS"], b"NOOP", "without EXPUNGE"),
        ([b"* 2 EXISTS", b"* 1 EXPUNGE"], b"FETCH", "during FETCH"),
        ([b"* 2 EXISTS", b"* 3 EXPUNGE"], b"NOOP", "EXPUNGE 3 of 2"),
        ([b"* FLAGS (\\Seen)", b"* 1 EXISTS", b"* 1 FETCH (FLAGS (\\Seen NewOne))"], b"NOOP", "before FLAGS"),
        ([b"* 2 EXISTS", b"* 1 FETCH (UID 5)", b"* 2 FETCH (UID 4)"], b"FETCH", "out of order"),
        ([b"* 1 EXISTS", b"* 1 FETCH (UID 5 MODSEQ (9))", b"* 1 FETCH (UID 5 MODSEQ (8))"], b"FETCH", "went from 9 to 8"),
        ([b"* 1 EXISTS", b"* SEARCH 1 2"], b"SEARCH", "names 2 of 1"),
        ([b"* 1 EXISTS", b"* 2 FETCH (FLAGS ())"], b"NOOP", "FETCH 2 of 1"),
    ]
    for lines, kind, want in cases:
        m = Model()
        check(m, 1, kind, lines, kind)
        assert any(want in e for e in m.errors), (lines, want, m.errors)
    m = Model()
    check(m, 1, b"NOOP", [b"* FLAGS (\\Seen Ok)", b"* 2 EXISTS", b"* 1 FETCH (UID 3 FLAGS (Ok) MODSEQ (4))",
                          b"* 1 EXPUNGE", b"* 1 FETCH (UID 7)"], b"NOOP")
    assert m.errors == [], m.errors
