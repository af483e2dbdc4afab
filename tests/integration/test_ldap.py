"""The LDAP front end with real clients from Debian, over TLS verified against the local CA:
ldapsearch/ldapwhoami/ldapcompare (ldap-utils: simple binds over StartTLS and LDAPS, SASL PLAIN
and EXTERNAL, paged results with -E pr=, server-side sort with -E sss=), python3-ldap (paged
results control, the schema subentry parsed by python-ldap's schema module), the address-book
queries of Thunderbird and Outlook, the lockout shared with the IdP's login page, transfers seen
at once, service accounts, and hostile input on a raw socket.

Thunderbird (mailnews/addrbook, LDAP autocomplete) connects over ldaps:// without StartTLS, binds
with a fixed DN, and for the typed text "nguyen van" (lower-cased; %v1 = the first word, %v2-
= the rest, %v = all of it) sends
    (|(cn=*nguyen*van*)(mail=*nguyen van*)(givenName=*nguyen*)(sn=*nguyen van*))
asking for cn, mail and mozillaSecondEmail with a size limit of 100; a sizeLimitExceeded result
with entries is shown as a success.
Outlook's LDAP address book (Check Names against a non-Exchange directory) sends prefix searches
    (|(cn=nguyen*)(mail=nguyen*)(sn=nguyen*)(givenName=nguyen*)(displayName=nguyen*))
asking for cn, mail, sn, givenName, displayName, title and ou, size limit 100."""
import os
import socket
import ssl
import subprocess
import time
import unicodedata
import unittest

import ldap
import ldap.schema
from ldap.controls import SimplePagedResultsControl
import requests

import support

PASSWORD = "CongVu-demo-2026"
BASE = "dc=tinhmau,dc=test"
ANNV = f"uid=annv,ou=people,{BASE}"


def fold(s):
    """Lower case without diacritics (đ -> d), as Congvu matches names."""
    s = unicodedata.normalize("NFD", s.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in s if not unicodedata.combining(c)).lower()


class LdapCase(support.ServerTest):
    def setUp(self):
        super().setUp()
        self.serve()

    def serve(self, *args, env=None, extra_config=""):
        self.proc, self.info = self.start(*args, env=env, extra_config=extra_config)
        self.ca = self.info["ca"]
        self.ldap_port = self.info["ports"]["ldap"]
        self.ldaps_port = self.info["ports"]["ldaps"]
        self.env = {**os.environ, "LDAPTLS_CACERT": self.ca, "LDAPTLS_REQCERT": "demand", "LDAPCONF": "/dev/null"}

    def tearDown(self):
        self.stop(self.proc)
        super().tearDown()

    # --- helpers -------------------------------------------------------------------------

    def tool(self, name, *args, ldaps=True, bind=(ANNV, PASSWORD), env=None):
        url = f"ldaps://127.0.0.1:{self.ldaps_port}" if ldaps else f"ldap://127.0.0.1:{self.ldap_port}"
        cmd = [name, "-H", url, "-x" if bind else "-Y", *(["-D", bind[0], "-w", bind[1]] if bind else []), *args]
        if not bind:
            cmd.remove("-Y")
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env or self.env)
        return p.returncode, p.stdout, p.stderr

    def search(self, *args, **kw):
        code, out, err = self.tool("ldapsearch", "-LLL", "-o", "ldif-wrap=no", *args, **kw)
        self.assertEqual(code, 0, err)
        return out

    def conn(self, who=ANNV, password=PASSWORD):
        c = ldap.initialize(f"ldaps://127.0.0.1:{self.ldaps_port}")
        c.set_option(ldap.OPT_X_TLS_CACERTFILE, self.ca)
        c.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        c.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        c.protocol_version = 3
        if who:
            c.simple_bind_s(who, password)
        return c

    @staticmethod
    def dns(ldif):
        return [l[4:] for l in ldif.splitlines() if l.startswith("dn: ")]



class LdapTest(LdapCase):
    """The demo province (20 people)."""

    def test_simple_binds_starttls_ldaps_and_whoami(self):
        for ldaps in (True, False):
            args = () if ldaps else ("-ZZ",)
            code, out, err = self.tool("ldapwhoami", *args, ldaps=ldaps)
            self.assertEqual(code, 0, err)
            self.assertEqual(out.strip(), f"dn:{ANNV}")
        # The address (or login) instead of a DN, as applications written for AD do.
        code, out, _ = self.tool("ldapwhoami", bind=("annv@tinhmau.test", PASSWORD))
        self.assertEqual(out.strip(), f"dn:{ANNV}")
        # Plaintext binds are refused without StartTLS.
        code, _, err = self.tool("ldapwhoami", ldaps=False)
        self.assertEqual(code, 13, err)
        self.assertIn("Confidentiality required", err)
        # The anonymous simple bind succeeds (RFC 4513 5.1.1), as anonymous.
        code, out, err = self.tool("ldapwhoami", "-ZZ", ldaps=False, bind=("", ""))
        self.assertEqual(code, 0, err)
        self.assertEqual(out.strip(), "anonymous")
        code, _, err = self.tool("ldapwhoami", bind=(ANNV, "wrong password"))
        self.assertEqual(code, 49, err)
        code, _, err = self.tool("ldapwhoami", bind=("uid=nobody,ou=people," + BASE, PASSWORD))
        self.assertEqual(code, 49, err)
        code, _, err = self.tool("ldapwhoami", bind=("not a dn=", PASSWORD))
        self.assertEqual(code, 34, err)

    def test_sasl_plain_and_external(self):
        code, out, err = self.tool("ldapwhoami", "-Y", "PLAIN", "-U", "annv", "-w", PASSWORD, bind=None)
        self.assertEqual(code, 0, err)
        self.assertEqual(out.strip(), f"dn:{ANNV}")
        # EXTERNAL: a client certificate from the local CA naming annv's address.
        tls = os.path.join(self.data, "tls")
        key, csr, crt = (os.path.join(self.tmp, n) for n in ("client.key", "client.csr", "client.crt"))
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", csr, "-subj", "/CN=An/emailAddress=annv@tinhmau.test"],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(tls, "ca.pem"), "-CAkey",
                        os.path.join(tls, "ca.key"), "-CAcreateserial", "-days", "1", "-out", crt],
                       check=True, capture_output=True)
        env = {**self.env, "LDAPTLS_CERT": crt, "LDAPTLS_KEY": key}
        code, out, err = self.tool("ldapwhoami", "-Y", "EXTERNAL", bind=None, env=env)
        self.assertEqual(code, 0, err)
        self.assertEqual(out.strip(), f"dn:{ANNV}")
        # Without a certificate EXTERNAL is refused.
        code, _, err = self.tool("ldapwhoami", "-Y", "EXTERNAL", bind=None)
        self.assertNotEqual(code, 0)

    def test_diacritic_insensitive_search_and_dit(self):
        out = self.search("-b", BASE, "(cn=*nguyen van*)", "cn", "mail")
        dns = self.dns(out)
        self.assertIn(f"uid=annv,ou=vpubnd,ou=ubnd,{BASE}", dns)
        self.assertTrue(all(dn.startswith("uid=") for dn in dns))
        # The base, units nested as the unit tree, groups and people containers.
        top = self.dns(self.search("-b", BASE, "-s", "one", "(objectClass=*)", "1.1"))
        self.assertEqual(set(top), {f"ou=people,{BASE}", f"ou=groups,{BASE}", f"ou=ubnd,{BASE}"})
        # Personal data is not in the address book; userPassword never is.
        full = self.search("-b", ANNV, "-s", "base", "(objectClass=*)", "*", "+")
        for attr in ("employeeNumber", "congvuBirthDate", "congvuGender", "userPassword"):
            self.assertNotIn(attr + ":", full)
        for attr in ("entryUUID:", "congvuId:", "congvuUnitCode:", "objectClass: inetOrgPerson", "mail: annv@tinhmau.test"):
            self.assertIn(attr, full)
        # Filters cannot test personal data either.
        self.assertEqual(self.dns(self.search("-b", BASE, "(employeeNumber=*)", "1.1")), [])
        # The full grammar: and/or/not, >=, <=, approx, extensible.
        q = "(&(objectClass=inetOrgPerson)(!(uid=annv))(|(sn=nguyen)(sn=tran))(uid>=a)(uid<=z)(cn~=van an))"
        self.assertIn(f"uid=annv2,ou=sonv-vanphong,ou=sonv,ou=ubnd,{BASE}", self.dns(self.search("-b", BASE, q, "1.1")))
        self.assertEqual(len(self.dns(self.search("-b", BASE, "(uid:caseExactMatch:=annv)", "1.1"))), 1)
        self.assertEqual(len(self.dns(self.search("-b", BASE, "(uid:caseExactMatch:=ANNV)", "1.1"))), 0)
        self.assertGreater(len(self.dns(self.search("-b", BASE, "(ou:dn:=vpubnd)", "1.1"))), 1)
        # Root DSE without a bind, and the schema.
        c = ldap.initialize(f"ldaps://127.0.0.1:{self.ldaps_port}")
        c.set_option(ldap.OPT_X_TLS_CACERTFILE, self.ca)
        c.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        dse = c.search_s("", ldap.SCOPE_BASE, "(objectClass=*)", ["+"])[0][1]
        self.assertEqual(dse["namingContexts"], [BASE.encode()])
        self.assertIn(b"1.2.840.113556.1.4.319", dse["supportedControl"])
        self.assertIn(b"EXTERNAL", dse["supportedSASLMechanisms"])
        # ... and nothing else without a bind.
        with self.assertRaises(ldap.INSUFFICIENT_ACCESS):
            c.search_s(BASE, ldap.SCOPE_SUBTREE, "(uid=annv)")
        # ldapsearch -x binds anonymously first (RFC 4513 5.1.1): the root DSE answers, the tree
        # stays closed (insufficientAccessRights, 50).
        url = f"ldap://127.0.0.1:{self.ldap_port}"
        p = subprocess.run(["ldapsearch", "-x", "-H", url, "-ZZ", "-LLL", "-b", "", "-s", "base", "namingContexts"],
                           capture_output=True, text=True, timeout=60, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"namingContexts: {BASE}", p.stdout)
        p = subprocess.run(["ldapsearch", "-x", "-H", url, "-ZZ", "-LLL", "-b", BASE, "(objectClass=*)"],
                           capture_output=True, text=True, timeout=60, env=self.env)
        self.assertEqual(p.returncode, 50, p.stdout + p.stderr)
        self.assertNotIn("dn:", p.stdout)
        subschema = self.conn().search_s("cn=Subschema", ldap.SCOPE_BASE, "(objectClass=subschema)",
                                         ["attributeTypes", "objectClasses", "ldapSyntaxes", "matchingRules"])[0][1]
        schema = ldap.schema.SubSchema(subschema)
        oc = schema.get_obj(ldap.schema.ObjectClass, "congvuPerson")
        self.assertIn("congvuUnitCode", oc.may)
        self.assertEqual(schema.get_obj(ldap.schema.AttributeType, "mail").equality, "caseIgnoreIA5Match")

    def test_paged_results_sort_and_compare(self):
        everyone = self.dns(self.search("-b", BASE, "(objectClass=inetOrgPerson)", "1.1"))
        self.assertEqual(len(everyone), 20)
        code, out, err = self.tool("ldapsearch", "-b", BASE, "-E", "pr=6/noprompt", "(objectClass=inetOrgPerson)", "uid")
        self.assertEqual(code, 0, err)
        self.assertEqual(out.count("\ndn: "), 20)
        self.assertEqual(out.count("pagedresults: estimate=20 cookie="), 4)  # 6 + 6 + 6 + 2
        self.assertEqual(out.count("pagedresults: estimate=20 cookie=\n"), 1)  # the last page ends it
        # python-ldap's paged results control, page by page.
        c = self.conn()
        ctrl = SimplePagedResultsControl(True, size=7, cookie="")
        seen = []
        while True:
            msgid = c.search_ext(f"ou=people,{BASE}", ldap.SCOPE_ONELEVEL, "(uid=*)", ["uid"], serverctrls=[ctrl])
            _, data, _, ctrls = c.result3(msgid)
            seen += [d[1]["uid"][0].decode() for d in data]
            cookie = [x for x in ctrls if x.controlType == SimplePagedResultsControl.controlType][0].cookie
            if not cookie:
                break
            ctrl.cookie = cookie
        self.assertEqual(len(seen), 20)
        self.assertEqual(len(set(seen)), 20)
        # Server-side sort, reverse order by uid.
        out = self.search("-b", BASE, "-E", "sss=-uid", "(objectClass=inetOrgPerson)", "uid")
        uids = [l[5:] for l in out.splitlines() if l.startswith("uid: ")]
        self.assertEqual(uids, sorted(uids, reverse=True))
        # Compare: diacritic-insensitive on names; userPassword is never readable.
        code, out, _ = self.tool("ldapcompare", ANNV, "cn:nguyen van an")
        self.assertEqual((code, out.strip()), (6, "TRUE"))
        code, out, _ = self.tool("ldapcompare", ANNV, "cn:Trần Văn An")
        self.assertEqual((code, out.strip()), (5, "FALSE"))
        code, _, err = self.tool("ldapcompare", ANNV, "userPassword:" + PASSWORD)
        self.assertEqual(code, 50, err)
        # Writes are refused.
        p = subprocess.run(["ldapmodify", "-H", f"ldaps://127.0.0.1:{self.ldaps_port}", "-x", "-D", ANNV, "-w", PASSWORD],
                           input=f"dn: {ANNV}\nchangetype: modify\nreplace: title\ntitle: x\n", capture_output=True,
                           text=True, env=self.env, timeout=30)
        self.assertEqual(p.returncode, 53, p.stderr)

    def test_transfer_moves_the_dn_not_the_stable_one(self):
        before = self.search("-b", ANNV, "-s", "base", "(objectClass=*)", "entryUUID", "congvuId", "entryDN")
        support.run("person", "transfer", "annv", "--to", "000.00.02.H99", "--decision", "15/QĐ-UBND", data=self.data)
        after = self.search("-b", ANNV, "-s", "base", "(objectClass=*)", "entryUUID", "congvuId", "entryDN")
        self.assertEqual(before, after)  # the stable DN and the immutable id do not move
        dns = self.dns(self.search("-b", BASE, "(uid=annv)", "1.1"))
        unit = self.dns(self.search("-b", BASE, "(congvuUnitCode=000.00.02.H99)", "1.1"))
        self.assertEqual(len(dns), 1)
        self.assertIn("," + dns[0].split(",", 1)[1], ["," + u for u in unit if u.startswith("ou=")])
        self.assertNotIn("ou=vpubnd,", dns[0])
        # The old DN is gone; binds with the stable DN go on working.
        code, _, _ = self.tool("ldapsearch", "-b", f"uid=annv,ou=vpubnd,ou=ubnd,{BASE}", "-s", "base", "(objectClass=*)")
        self.assertEqual(code, 32)
        code, out, _ = self.tool("ldapwhoami")
        self.assertEqual(out.strip(), f"dn:{ANNV}")
        # A retired person cannot bind and leaves the address book.
        support.run("person", "retire", "hanhtt", "--decision", "16/QĐ-UBND", data=self.data)
        code, _, _ = self.tool("ldapwhoami", bind=(f"uid=hanhtt,ou=people,{BASE}", PASSWORD))
        self.assertEqual(code, 49)
        self.assertEqual(self.dns(self.search("-b", BASE, "(uid=hanhtt)", "1.1")), [])

    def test_service_account_reads_personal_data(self):
        out = support.run_json("ldap", "service", "add", "hr-sync", "--attributes", "employeeNumber,congvuBirthDate",
                               "--retired", data=self.data)
        svc = (out["dn"], out["password"])
        self.assertEqual(out["dn"], f"cn=hr-sync,ou=services,{BASE}")
        code, who, err = self.tool("ldapwhoami", bind=svc)
        self.assertEqual((code, who.strip()), (0, "dn:" + out["dn"]), err)
        res = self.search("-b", BASE, "(uid=annv)", "employeeNumber", "congvuGender", bind=svc)
        self.assertIn("employeeNumber: ", res)
        self.assertNotIn("congvuGender", res)  # not granted
        staff = [l.split(": ")[1] for l in res.splitlines() if l.startswith("employeeNumber: ")][0]
        self.assertEqual(len(self.dns(self.search("-b", BASE, f"(employeeNumber={staff})", "1.1", bind=svc))), 1)
        # A person may not, and a wrong service password fails.
        self.assertEqual(self.dns(self.search("-b", BASE, f"(employeeNumber={staff})", "1.1")), [])
        code, _, _ = self.tool("ldapwhoami", bind=(svc[0], "x" * 20))
        self.assertEqual(code, 49)
        listed = support.run_json("ldap", "service", "list", data=self.data)
        self.assertEqual([s["name"] for s in listed], ["hr-sync"])
        support.run("ldap", "service", "remove", "hr-sync", data=self.data)
        code, _, _ = self.tool("ldapwhoami", bind=svc)
        self.assertEqual(code, 49)
        _, log, _ = support.run("audit", "log", "--limit", "5", data=self.data)
        self.assertIn("ldap.service_add", log)
        self.assertIn("ldap.service_remove", log)

    def test_anonymous_address_book_only_when_configured(self):
        anon = ["ldapsearch", "-x", "-H", f"ldap://127.0.0.1:{self.ldap_port}", "-ZZ", "-LLL", "-b", BASE, "(uid=annv)", "mail"]
        p = subprocess.run(anon, capture_output=True, text=True, timeout=60, env=self.env)
        self.assertEqual(p.returncode, 50, p.stderr)
        self.stop(self.proc)
        self.serve(extra_config="[ldap]\nanonymous = true\n")
        anon[3] = f"ldap://127.0.0.1:{self.ldap_port}"
        p = subprocess.run(anon, capture_output=True, text=True, timeout=60, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("mail: annv@tinhmau.test", p.stdout)

    def test_lockout_shared_with_the_login_page(self):
        # The server's clock stands still (CONGVU_TEST_CLOCK) and moves only when this test
        # rewrites the file, so the backoff is observed through the answers, however slowly
        # the binds run on a busy machine.
        clock = os.path.join(self.tmp, "clock")
        now = int(time.time() * 1000)

        def set_clock(ms):
            with open(clock + ".tmp", "w") as f:
                f.write(str(ms))
            os.replace(clock + ".tmp", clock)

        guesses = iter(range(1000))

        def wrong():
            return (ANNV, f"wrong password {next(guesses)}")  # each guess a new one

        set_clock(now)
        self.stop(self.proc)
        self.serve(env={"CONGVU_TEST_CLOCK": clock})
        # Four failures are free; the fifth makes the next attempt wait 1 s (2^(n-5) s).
        for _ in range(5):
            code, _, err = self.tool("ldapwhoami", bind=wrong())
            self.assertEqual(code, 49, err)
            self.assertIn("invalid credentials", err)
        code, _, err = self.tool("ldapwhoami")  # the right password, too soon
        self.assertEqual(code, 49)
        self.assertIn("too many failed attempts; try again in 1 s", err)
        # The IdP's login page counts the same failures for the same login and address.
        https = f"https://127.0.0.1:{self.info['ports']['https']}"
        b = requests.Session()
        b.trust_env = False
        b.verify = self.ca
        page = b.get(https + "/login").text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        r = b.post(https + "/login", data={"csrf": csrf, "return_to": "/", "login": "annv@tinhmau.test",
                                           "password": PASSWORD}, allow_redirects=False)
        self.assertEqual(r.status_code, 429, r.text[:200])
        # Another person is not affected.
        code, _, err = self.tool("ldapwhoami", bind=(f"uid=annv2,ou=people,{BASE}", PASSWORD))
        self.assertEqual(code, 0, err)
        # 999 ms later it is still too soon; at 1 s the right password binds, and resets the count.
        set_clock(now + 999)
        code, _, err = self.tool("ldapwhoami")
        self.assertIn("too many failed attempts", err)
        set_clock(now + 1000)
        code, out, err = self.tool("ldapwhoami")
        self.assertEqual(code, 0, err)
        self.assertEqual(out.strip(), f"dn:{ANNV}")
        code, _, err = self.tool("ldapwhoami", bind=wrong())
        self.assertIn("invalid credentials", err)
        # A sixth consecutive failure doubles the wait: 2 s after it, not 1.
        for _ in range(5):
            self.tool("ldapwhoami", bind=wrong())
        set_clock(now + 2000)
        code, _, err = self.tool("ldapwhoami", bind=wrong())  # the sixth
        self.assertIn("invalid credentials", err)
        set_clock(now + 3000)
        code, _, err = self.tool("ldapwhoami")
        self.assertIn("too many failed attempts; try again in 1 s", err)
        set_clock(now + 4000)
        code, _, err = self.tool("ldapwhoami")
        self.assertEqual(code, 0, err)
        # A client retrying one stale password is counted once: ten tries, and the right
        # password still binds at once.
        for _ in range(10):
            code, _, err = self.tool("ldapwhoami", bind=(ANNV, "the old password"))
            self.assertIn("invalid credentials", err)
        code, _, err = self.tool("ldapwhoami")
        self.assertEqual(code, 0, err)

    def test_hostile_input_keeps_the_server_up(self):
        ctx = ssl.create_default_context(cafile=self.ca)

        def exchange(payload, read=True):
            with socket.create_connection(("127.0.0.1", self.ldaps_port), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    s.sendall(payload)
                    if not read:
                        return b""
                    got = b""
                    try:
                        while True:
                            chunk = s.recv(65536)
                            if not chunk:
                                break
                            got += chunk
                    except (socket.timeout, ssl.SSLError, ConnectionResetError):
                        pass
                    return got

        notice = b"1.3.6.1.4.1.1466.20036"
        self.assertIn(notice, exchange(b"GET / HTTP/1.1\r\n\r\n"))          # not BER
        self.assertIn(notice, exchange(b"\x30\x84\x7f\xff\xff\xff\x02\x01\x01"))  # 2 GiB length
        self.assertIn(notice, exchange(b"\x30\x05\x02\x01\x01\x63\x00"))    # truncated search
        self.assertIn(notice, exchange(b"\x30\x03\x02\x01\x01"))            # no operation
        c = self.conn()
        # 40 nested NOTs: adminLimitExceeded, and the connection goes on.
        deep = "(uid=annv)"
        for _ in range(40):
            deep = f"(!{deep})"
        with self.assertRaises(ldap.ADMINLIMIT_EXCEEDED):
            c.search_s(BASE, ldap.SCOPE_SUBTREE, deep)
        huge = "(cn=" + "*a" * 100 + "*)"
        with self.assertRaises(ldap.ADMINLIMIT_EXCEEDED):
            c.search_s(BASE, ldap.SCOPE_SUBTREE, huge)
        critical = ldap.controls.LDAPControl("1.2.3.4.5", True, b"")
        with self.assertRaises(ldap.UNAVAILABLE_CRITICAL_EXTENSION):
            c.search_ext_s(BASE, ldap.SCOPE_SUBTREE, "(uid=annv)", serverctrls=[critical])
        self.assertEqual(len(c.search_s(BASE, ldap.SCOPE_SUBTREE, "(uid=annv)", ["1.1"])), 1)
        # A PDU beyond the limit before a bind (64 KiB) ends the connection.
        big = b"\x30\x83\x02\x00\x00" + b"\x02\x01\x01" + b"\x00" * 16
        self.assertIn(notice, exchange(big))
        self.assertEqual(self.proc.poll(), None)
        self.assertIn("ldap: ", self.read_log())


class ProvinceLdapTest(LdapCase):
    """The shared synthetic province (20 000 people, 370 units), imported before the server starts."""

    def setUp(self):
        support.ServerTest.setUp(self)
        support.run("import", "--units", os.path.join(support.PROVINCE, "units.csv"), "--staff",
                    os.path.join(support.PROVINCE, "staff.csv"), data=self.data)
        support.run("person", "passwd", "annv", "--password-stdin", data=self.data, stdin=PASSWORD + "\n")
        self.serve("--no-demo")

    def test_thunderbird_and_outlook_address_book(self):
        c = self.conn()  # Thunderbird: ldaps://, a fixed bind DN, no StartTLS
        typed = "nguyen van"
        first, rest = typed.split(" ", 1)
        filt = f"(|(cn=*{first}*{rest}*)(mail=*{typed}*)(givenName=*{first}*)(sn=*{typed}*))"
        msgid = c.search_ext(BASE, ldap.SCOPE_SUBTREE, filt, ["cn", "mail", "mozillaSecondEmail"], sizelimit=100)
        entries = []
        with self.assertRaises(ldap.SIZELIMIT_EXCEEDED):
            while True:
                kind, data = c.result(msgid, all=0)
                if kind == ldap.RES_SEARCH_RESULT:
                    break
                entries += data
        self.assertEqual(len(entries), 100)
        for dn, attrs in entries:
            name = fold(attrs["cn"][0].decode())
            self.assertRegex(name, "nguyen.*van", name)
            self.assertTrue(attrs["mail"][0].decode().endswith("@tinhmau.test"))
        # Outlook: prefix searches on the usual attributes.
        filt = "(|(cn=nguyen van a*)(mail=annv*)(sn=nguyen van a*)(givenName=nguyen van a*)(displayName=nguyen van a*))"
        res = c.search_ext_s(BASE, ldap.SCOPE_SUBTREE, filt, ["cn", "mail", "sn", "givenName", "displayName", "title", "ou"],
                             sizelimit=100)
        self.assertGreater(len(res), 1)
        self.assertTrue(any(a["mail"][0] == b"annv@tinhmau.test" for _, a in res))
        # Every person of the province through paged results, as an address-book sync does.
        ctrl = SimplePagedResultsControl(True, size=1000, cookie="")
        total = 0
        while True:
            msgid = c.search_ext(f"ou=people,{BASE}", ldap.SCOPE_ONELEVEL, "(objectClass=inetOrgPerson)", ["mail"],
                                 serverctrls=[ctrl])
            _, data, _, ctrls = c.result3(msgid)
            total += len(data)
            ctrl.cookie = [x for x in ctrls if x.controlType == SimplePagedResultsControl.controlType][0].cookie
            if not ctrl.cookie:
                break
        self.assertEqual(total, 20000)


if __name__ == "__main__":
    support.main()
