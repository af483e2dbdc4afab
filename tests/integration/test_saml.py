"""The SAML 2.0 IdP against Debian's python3-pysaml2 as the service provider (it signs its
AuthnRequests, verifies our Response and Assertion signatures with xmlsec1 and decrypts the
encrypted assertions), with a `requests` session as the browser. Also every refusal the issue
names — unsigned where signing is required, wrong Destination, unknown Issuer, replayed ID,
expired IssueInstant, signature wrapping, XXE, billion laughs, oversize — each asserting the
error page, the log line, and that no SSO session, pending request or replay record was
written. TLS is verified against the server's local CA."""
import base64
import html
import os
import re
import subprocess
import time
import urllib.parse
import zlib

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_PERSISTENT

import support

PASSWORD = "CongVu-demo-2026"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA256_DIGEST = SHA256


def table_count(data, table):
    """Entries in one table of directory.mdb, read beside the running server (mdb_stat)."""
    out = subprocess.run(["mdb_stat", "-n", "-s", table, os.path.join(data, "directory.mdb")],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return 0
    m = re.search(r"Entries: (\d+)", out.stdout)
    return int(m.group(1)) if m else 0


class SamlTest(support.ServerTest):
    def setUp(self):
        super().setUp()
        self.port = support.free_port()
        self.issuer = f"https://127.0.0.1:{self.port}"
        listen = "".join(f'{n} = "off"\n' for n in support.LISTENERS if n != "https")
        config = self.write("saml.toml", f'[listen]\nhttps = "127.0.0.1:{self.port}"\n{listen}'
                            f'[idp]\nissuer = "{self.issuer}"\n[mail]\n{support.NO_DNS}')
        self.proc, self.info = self.start(config=config)
        self.ca = self.info["ca"]
        md = requests.get(self.issuer + "/saml/metadata", verify=self.ca)
        self.assertEqual(md.status_code, 200)
        self.idp_metadata = self.write("idp-metadata.xml", md.text)
        self.idp_entity = self.issuer + "/saml/metadata"
        self.sso = self.issuer + "/saml/sso"

    def tearDown(self):
        self.stop(self.proc)
        super().tearDown()

    # --- helpers -------------------------------------------------------------------------

    def keypair(self, name):
        key, cert = os.path.join(self.tmp, name + ".key"), os.path.join(self.tmp, name + ".crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "30", "-subj", "/CN=" + name], check=True, capture_output=True)
        return key, cert

    def make_sp(self, name, sign=True, register=True, extra=(), slo_binding=BINDING_HTTP_REDIRECT, signing_cert=True):
        key, cert = self.keypair(name)
        entity = f"https://{name}.test/sp"
        acs = f"https://127.0.0.1:9/{name}/acs"
        conf = SPConfig()
        conf.load({
            "entityid": entity,
            "key_file": key, "cert_file": cert,
            "encryption_keypairs": [{"key_file": key, "cert_file": cert}],
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "metadata": {"local": [self.idp_metadata]},
            "allow_unknown_attributes": True,
            "signing_algorithm": RSA_SHA256,
            "digest_algorithm": SHA256,
            "service": {"sp": {
                "endpoints": {"assertion_consumer_service": [(acs, BINDING_HTTP_POST)],
                              "single_logout_service": [(f"https://127.0.0.1:9/{name}/slo", slo_binding)]},
                "authn_requests_signed": sign,
                "logout_requests_signed": True,
                "want_assertions_signed": True,
                "want_response_signed": True,
                "allow_unsolicited": True,
                "name_id_format": NAMEID_FORMAT_PERSISTENT,
                "requested_attributes": [],
            }},
        })
        metadata = str(entity_descriptor(conf))
        if not signing_cert:  # an SP whose metadata offers an encryption key only
            metadata = re.sub(r'<(\w+:)?KeyDescriptor use="signing">.*?</(\w+:)?KeyDescriptor>', "", metadata, flags=re.S)
            self.assertNotIn('use="signing"', metadata)
        path = self.write(name + "-metadata.xml", metadata)
        if register:
            support.run("sp", "add", "--metadata", path, *extra, data=self.data)
        client = Saml2Client(conf)
        client.key_pem, client.acs, client.entity = key, acs, entity
        return client

    def browser(self):
        b = requests.Session()
        b.trust_env = False
        b.verify = self.ca
        return b

    def form_fields(self, page):
        return {m.group(1): html.unescape(m.group(2))
                for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)}

    def follow(self, b, r, password=PASSWORD, login="annv"):
        """Follows redirects and the login page until the auto-submitting SAML form; returns
        (action URL, its fields) or the last response when it is something else."""
        for _ in range(10):
            if r.status_code in (302, 303):
                r = b.get(urllib.parse.urljoin(r.url, r.headers["Location"]), allow_redirects=False)
                continue
            if r.status_code == 200 and 'action="/login"' in r.text:
                fields = self.form_fields(r.text)
                fields.update(login=login, password=password)
                r = b.post(self.issuer + "/login", data=fields, allow_redirects=False)
                continue
            m = re.search(r'<form method="post" action="([^"]+)"', r.text)
            if r.status_code == 200 and m and "SAML" in r.text:
                return html.unescape(m.group(1)), self.form_fields(r.text)
            why = re.search(r'<p lang="en">(.*?)</p>', r.text)
            self.fail(f"no SAML form: {r.status_code} {r.headers.get('Location')} {why.group(1) if why else r.text[:300]}")
        self.fail("too many redirects")

    def sp_login(self, sp, b, binding=BINDING_HTTP_REDIRECT, relay="https://app.test/page", **kw):
        reqid, info = sp.prepare_for_authenticate(entityid=self.idp_entity, relay_state=relay, binding=binding,
                                                  sigalg=RSA_SHA256, digest_alg=SHA256_DIGEST, **kw)
        if binding == BINDING_HTTP_REDIRECT:
            loc = dict(info["headers"])["Location"]
            r = b.get(loc, allow_redirects=False)
        else:
            fields = self.form_fields(info["data"])
            r = b.post(self.sso, data=fields, allow_redirects=False)
        return reqid, self.follow(b, r)

    def counts(self):
        return {t: table_count(self.data, t) for t in ("sso", "sso_index", "saml_pending", "saml_seen", "audit")}

    def redirect_url(self, xml, key_pem, relay=None, sigalg=RSA_SHA256, sign=True, endpoint=None, param="SAMLRequest"):
        """An HTTP-Redirect binding URL for `xml`, signed like an SP does (SAML Bindings 3.4.4.1)."""
        q = param + "=" + urllib.parse.quote(base64.b64encode(zlib.compress(xml.encode())[2:-4]).decode(), safe="")
        if relay:
            q += "&RelayState=" + urllib.parse.quote(relay, safe="")
        if sign:
            q += "&SigAlg=" + urllib.parse.quote(sigalg, safe="")
            with open(key_pem, "rb") as f:
                key = serialization.load_pem_private_key(f.read(), password=None)
            sig = key.sign(q.encode(), padding.PKCS1v15(), hashes.SHA256())
            q += "&Signature=" + urllib.parse.quote(base64.b64encode(sig).decode(), safe="")
        return (endpoint or self.sso) + "?" + q

    def authn_xml(self, sp, id_="_req1", instant=None, destination=None, acs=None):
        instant = instant or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        dest = f' Destination="{destination or self.sso}"' if destination != "" else ""
        return (f'<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
                f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id_}" Version="2.0" '
                f'IssueInstant="{instant}"{dest} AssertionConsumerServiceURL="{acs or sp.acs}">'
                f'<saml:Issuer>{sp.entity}</saml:Issuer></samlp:AuthnRequest>')

    def xml_signed(self, xml, key_pem, id_, element="AuthnRequest"):
        """`xml` with an enveloped RSA-SHA256 signature made by the xmlsec1 command."""
        tmpl = xml.replace("</saml:Issuer>", "</saml:Issuer>" + (
            '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
            '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
            f'<ds:SignatureMethod Algorithm="{RSA_SHA256}"/><ds:Reference URI="#{id_}"><ds:Transforms>'
            '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
            '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
            f'<ds:DigestMethod Algorithm="{SHA256}"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>'
            '<ds:SignatureValue/></ds:Signature>'), 1)
        path = self.write(f"tmpl-{time.monotonic_ns()}.xml", tmpl)
        out = subprocess.run(["xmlsec1", "--sign", "--privkey-pem", key_pem, "--id-attr:ID",
                              "urn:oasis:names:tc:SAML:2.0:protocol:" + element, path],
                             capture_output=True, text=True, check=True)
        return out.stdout

    def assert_refused(self, r, reason, before):
        self.assertEqual(r.status_code, 400, r.text[:500])
        self.assertIn(reason, html.unescape(r.text))
        self.assertNotIn("Set-Cookie", r.headers)
        self.assertEqual(self.counts(), before)
        self.assertIn("saml: refused", self.read_log())

    # --- tests ---------------------------------------------------------------------------

    def test_metadata_is_signed_and_complete(self):
        with open(self.idp_metadata) as f:
            md = f.read()
        self.assertIn('entityID="%s"' % self.idp_entity, md)
        for binding in ("HTTP-Redirect", "HTTP-POST"):
            self.assertIn(f'SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:{binding}"', md)
        cert = re.search(r"<ds:X509Certificate>([^<]+)<", md).group(1)
        pem = self.write("idp.crt", "-----BEGIN CERTIFICATE-----\n" + cert + "\n-----END CERTIFICATE-----\n")
        out = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", pem, "--id-attr:ID",
                              "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor", self.idp_metadata],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        # Tampering breaks it.
        bad = self.write("bad.xml", md.replace("HTTP-POST", "HTTP-PAST", 1))
        out = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", pem, "--id-attr:ID",
                              "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor", bad],
                             capture_output=True, text=True)
        self.assertNotEqual(out.returncode, 0)

    def test_sp_initiated_redirect_and_post_with_encrypted_assertion(self):
        sp = self.make_sp("pysaml", extra=("--encrypt", "--require-signed"))
        b = self.browser()
        reqid, (action, fields) = self.sp_login(sp, b)
        self.assertEqual(action, sp.acs)
        self.assertEqual(fields["RelayState"], "https://app.test/page")
        raw = base64.b64decode(fields["SAMLResponse"]).decode()
        self.assertIn("EncryptedAssertion", raw)
        self.assertIn("aes256-gcm", raw)
        self.assertNotIn("annv@", raw)  # the attributes are inside the encrypted part
        resp = sp.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={reqid: "/"})
        self.assertIsNotNone(resp)
        ava = resp.get_identity()
        person = support.run_json("person", "show", "annv", data=self.data)
        self.assertEqual(ava["mail"], [person["address"]])
        self.assertIn("uid", ava)
        self.assertTrue(ava["departmentNumber"][0])
        self.assertTrue(ava["ou"][0])
        self.assertTrue(ava["title"][0])
        name_id = resp.assertion.subject.name_id
        self.assertEqual(name_id.format, NAMEID_FORMAT_PERSISTENT)
        self.assertEqual(name_id.text, person["id"])
        self.assertEqual(resp.assertion.authn_statement[0].authn_context.authn_context_class_ref.text,
                         "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
        # The same browser, POST binding: no second password prompt.
        reqid2, got = self.sp_login(sp, b, binding=BINDING_HTTP_POST)
        self.assertIsInstance(got, tuple)
        # pysaml2's default digest is SHA-1: refused, with the reason.
        _, info = sp.prepare_for_authenticate(entityid=self.idp_entity, binding=BINDING_HTTP_POST, sigalg=RSA_SHA256)
        r = b.post(self.sso, data=self.form_fields(info["data"]), allow_redirects=False)
        self.assertEqual(r.status_code, 400)
        self.assertIn("SHA-1", r.text)
        resp2 = sp.parse_authn_request_response(got[1]["SAMLResponse"], BINDING_HTTP_POST, outstanding={reqid2: "/"})
        self.assertEqual(resp2.assertion.subject.name_id.text, person["id"])

    def test_force_authn_is_passive_and_name_id_formats(self):
        sp = self.make_sp("plain", sign=True, extra=("--name-id-format", "email", "--attributes", "mail,isMemberOf"))
        b = self.browser()
        # IsPassive without a session: NoPassive, no login page.
        reqid, info = sp.prepare_for_authenticate(entityid=self.idp_entity, binding=BINDING_HTTP_REDIRECT,
                                                  sigalg=RSA_SHA256, is_passive="true")
        got = self.follow(b, b.get(dict(info["headers"])["Location"], allow_redirects=False))
        raw = base64.b64decode(got[1]["SAMLResponse"]).decode()
        self.assertIn("urn:oasis:names:tc:SAML:2.0:status:NoPassive", raw)
        reqid, (action, fields) = self.sp_login(sp, b)
        resp = sp.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={reqid: "/"})
        person = support.run_json("person", "show", "annv", data=self.data)
        self.assertEqual(resp.assertion.subject.name_id.text, person["address"])
        self.assertEqual(sorted(resp.get_identity()), ["isMemberOf", "mail"])
        # ForceAuthn: the login page again although the session is alive.
        reqid, info = sp.prepare_for_authenticate(entityid=self.idp_entity, binding=BINDING_HTTP_REDIRECT,
                                                  sigalg=RSA_SHA256, force_authn="true")
        r = b.get(dict(info["headers"])["Location"], allow_redirects=False)
        self.assertIn("/login", r.headers["Location"])

    def test_unauthenticated_requests_store_nothing_and_are_answered_once(self):
        # Issue 20: /saml/sso and /saml/init from a browser that is not signed in cause no
        # durable write, however many arrive; the continuation is answered once.
        sp = self.make_sp("flood")
        portal = self.make_sp("flood-portal", extra=("--idp-initiated",))
        before = self.counts()
        b = self.browser()
        last = None
        for i in range(200):
            r = b.get(self.redirect_url(self.authn_xml(sp, f"_f{i}"), sp.key_pem), allow_redirects=False)
            self.assertEqual(r.status_code, 303, r.text[:300])
            last = urllib.parse.urljoin(r.url, r.headers["Location"])
        for _ in range(50):
            r = b.get(self.issuer + "/saml/init?sp=" + urllib.parse.quote(portal.entity, safe=""), allow_redirects=False)
            self.assertEqual(r.status_code, 303)
        self.assertTrue(last.startswith(self.issuer + "/saml/continue?p=s."), last)
        self.assertEqual(self.counts(), before)
        # The last one, signed in: answered once; the continuation and the request then refused.
        action, fields = self.follow(b, b.get(last, allow_redirects=False))
        self.assertEqual(action, sp.acs)
        self.assertIn('InResponseTo="_f199"', base64.b64decode(fields["SAMLResponse"]).decode())
        r = b.get(last, allow_redirects=False)
        self.assertEqual(r.status_code, 400)
        self.assertIn("answered already", html.unescape(r.text))
        r = b.get(self.redirect_url(self.authn_xml(sp, "_f199"), sp.key_pem), allow_redirects=False)
        self.assertEqual(r.status_code, 400)
        self.assertIn("seen before", html.unescape(r.text))
        # An altered continuation is refused like an expired one.
        bad = last[:-6] + ("A" if last[-6] != "A" else "B") + last[-5:]
        self.assertEqual(b.get(bad, allow_redirects=False).status_code, 400)

    def test_idp_initiated_and_single_logout(self):
        sp = self.make_sp("portal", extra=("--idp-initiated", "--relay-state", "https://portal.test/home"))
        b = self.browser()
        got = self.follow(b, b.get(self.issuer + "/saml/init?sp=" + urllib.parse.quote(sp.entity, safe=""),
                                   allow_redirects=False))
        action, fields = got
        self.assertEqual(fields["RelayState"], "https://portal.test/home")
        resp = sp.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST)
        self.assertNotIn("InResponseTo", base64.b64decode(fields["SAMLResponse"]).decode().split("<saml:Assertion")[0])
        name_id = resp.assertion.subject.name_id
        session_index = resp.assertion.authn_statement[0].session_index
        self.assertEqual(self.counts()["sso"], 1)
        # SP-initiated single logout over the Redirect binding, signed by the SP.
        req_id, req = sp.create_logout_request(self.issuer + "/saml/slo", self.idp_entity, name_id=name_id,
                                               session_indexes=[session_index], sign=False)
        url = self.redirect_url(str(req), sp.key_pem, relay="bye", endpoint=self.issuer + "/saml/slo")
        r = b.get(url, allow_redirects=False)
        self.assertEqual(r.status_code, 303, r.text[:300])
        loc = urllib.parse.urlparse(r.headers["Location"])
        self.assertTrue(r.headers["Location"].startswith("https://127.0.0.1:9/portal/slo?"))
        q = urllib.parse.parse_qs(loc.query)
        self.assertEqual(q["RelayState"], ["bye"])
        xml = zlib.decompress(base64.b64decode(q["SAMLResponse"][0]), -15).decode()
        self.assertIn("LogoutResponse", xml)
        self.assertIn(f'InResponseTo="{req_id}"', xml)
        self.assertIn("status:Success", xml)
        self.assertEqual(self.counts()["sso"], 0)
        # The browser's session is gone: a new request asks for the password.
        reqid, info = sp.prepare_for_authenticate(entityid=self.idp_entity, binding=BINDING_HTTP_REDIRECT, sigalg=RSA_SHA256)
        r = b.get(dict(info["headers"])["Location"], allow_redirects=False)
        r = b.get(urllib.parse.urljoin(r.url, r.headers["Location"]), allow_redirects=False)
        self.assertIn("/login", r.headers.get("Location", ""))

    def idp_cert(self):
        with open(self.idp_metadata) as f:
            cert = re.search(r"<ds:X509Certificate>([^<]+)<", f.read()).group(1)
        return self.write("idp-cert.pem", "-----BEGIN CERTIFICATE-----\n" + cert + "\n-----END CERTIFICATE-----\n")

    def logout_response(self, sp, in_response_to, id_):
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return (f'<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
                f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id_}" Version="2.0" IssueInstant="{now}" '
                f'Destination="{self.issuer}/saml/slo" InResponseTo="{in_response_to}"><saml:Issuer>{sp.entity}</saml:Issuer>'
                f'<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
                f'</samlp:LogoutResponse>')

    def test_idp_initiated_logout_chain_over_redirect_and_post(self):
        a = self.make_sp("alpha")
        bsp = self.make_sp("beta", slo_binding=BINDING_HTTP_POST)
        b = self.browser()
        _, (_, fa) = self.sp_login(a, b)
        ra = a.parse_authn_request_response(fa["SAMLResponse"], BINDING_HTTP_POST, outstanding={_: "/"})
        reqid, got = self.sp_login(bsp, b)
        self.assertIsInstance(got, tuple)  # no second password
        # Sign out at Congvu: confirmation page, then the chain.
        page = b.get(self.issuer + "/oidc/logout")
        fields = self.form_fields(page.text)
        fields["confirm"] = "yes"
        r = b.post(self.issuer + "/oidc/logout", data=fields, allow_redirects=False)
        self.assertEqual(r.status_code, 303, r.text[:300])
        self.assertEqual(self.counts()["sso"], 0)
        loc = r.headers["Location"]
        self.assertTrue(loc.startswith("https://127.0.0.1:9/alpha/slo?"), loc)
        query = urllib.parse.urlparse(loc).query
        q = urllib.parse.parse_qs(query)
        # The IdP's query signature verifies with its certificate (SAML Bindings 3.4.4.1).
        from cryptography import x509
        with open(self.idp_cert(), "rb") as f:
            idp_key = x509.load_pem_x509_certificate(f.read()).public_key()
        signed = query[:query.index("&Signature=")]
        idp_key.verify(base64.b64decode(q["Signature"][0]), signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        xml = zlib.decompress(base64.b64decode(q["SAMLRequest"][0]), -15).decode()
        self.assertIn(ra.assertion.subject.name_id.text, xml)
        self.assertIn(ra.assertion.authn_statement[0].session_index, xml)
        req_id = re.search(r'ID="([^"]+)"', xml).group(1)
        # alpha answers over Redirect; the chain moves on to beta over POST.
        url = self.redirect_url(self.logout_response(a, req_id, "_lr1"), a.key_pem, relay=q["RelayState"][0],
                                endpoint=self.issuer + "/saml/slo", param="SAMLResponse")
        r = b.get(url, allow_redirects=False)
        self.assertEqual(r.status_code, 200, r.text[:400])
        action = html.unescape(re.search(r'action="([^"]+)"', r.text).group(1))
        self.assertEqual(action, "https://127.0.0.1:9/beta/slo")
        f2 = self.form_fields(r.text)
        xml = base64.b64decode(f2["SAMLRequest"]).decode()
        path = self.write("lr.xml", xml)
        out = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", self.idp_cert(), "--id-attr:ID",
                              "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest", path], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        req_id = re.search(r'ID="([^"]+)"', xml).group(1)
        # A response to the wrong request is refused; the right one, POST-signed, ends the chain.
        wrong = self.xml_signed(self.logout_response(bsp, "_other", "_lr2"), bsp.key_pem, "_lr2", "LogoutResponse")
        r = b.post(self.issuer + "/saml/slo", data={"SAMLResponse": base64.b64encode(wrong.encode()).decode(),
                                                   "RelayState": f2["RelayState"]}, allow_redirects=False)
        self.assertEqual(r.status_code, 400)
        good = self.xml_signed(self.logout_response(bsp, req_id, "_lr3"), bsp.key_pem, "_lr3", "LogoutResponse")
        r = b.post(self.issuer + "/saml/slo", data={"SAMLResponse": base64.b64encode(good.encode()).decode(),
                                                   "RelayState": f2["RelayState"]}, allow_redirects=False)
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertIn("Signed out", r.text)
        self.assertEqual(self.counts()["saml_pending"], 0)

    def test_sp_initiated_logout_over_post(self):
        a = self.make_sp("gamma")
        b = self.browser()
        reqid, (_, fa) = self.sp_login(a, b)
        ra = a.parse_authn_request_response(fa["SAMLResponse"], BINDING_HTTP_POST, outstanding={reqid: "/"})
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        xml = (f'<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
               f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_slo1" Version="2.0" IssueInstant="{now}" '
               f'Destination="{self.issuer}/saml/slo"><saml:Issuer>{a.entity}</saml:Issuer>'
               f'<saml:NameID Format="{NAMEID_FORMAT_PERSISTENT}">{ra.assertion.subject.name_id.text}</saml:NameID>'
               f'<samlp:SessionIndex>{ra.assertion.authn_statement[0].session_index}</samlp:SessionIndex>'
               f'</samlp:LogoutRequest>')
        before = self.counts()
        # Unsigned: refused (the SP has a signing certificate), the session stays.
        r = b.post(self.issuer + "/saml/slo", data={"SAMLRequest": base64.b64encode(xml.encode()).decode()},
                   allow_redirects=False)
        self.assert_refused(r, "requires signed", before)
        signed = self.xml_signed(xml, a.key_pem, "_slo1", "LogoutRequest")
        # A cross-site POST brings no cookie: the session is found by NameID and SessionIndex.
        plain = requests.Session()
        plain.trust_env = False
        plain.verify = self.ca
        r = plain.post(self.issuer + "/saml/slo", data={"SAMLRequest": base64.b64encode(signed.encode()).decode(),
                                                       "RelayState": "r"}, allow_redirects=False)
        self.assertEqual(r.status_code, 303, r.text[:300])
        self.assertTrue(r.headers["Location"].startswith("https://127.0.0.1:9/gamma/slo?SAMLResponse="))
        self.assertEqual(self.counts()["sso"], 0)

    def test_unsigned_logout_request_ends_only_the_browsers_own_session(self):
        # An SP without a signing certificate cannot sign its LogoutRequest: anybody could write
        # one naming a colleague's NameID. It ends at most the session of the browser that
        # brings it.
        sp = self.make_sp("nocert", sign=False, signing_cert=False)
        b = self.browser()
        reqid, (_, fa) = self.sp_login(sp, b, sign=False)
        ra = sp.parse_authn_request_response(fa["SAMLResponse"], BINDING_HTTP_POST, outstanding={reqid: "/"})
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

        def request(rid):
            return (f'<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
                    f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{rid}" Version="2.0" IssueInstant="{now}" '
                    f'Destination="{self.issuer}/saml/slo"><saml:Issuer>{sp.entity}</saml:Issuer>'
                    f'<saml:NameID Format="{NAMEID_FORMAT_PERSISTENT}">{ra.assertion.subject.name_id.text}</saml:NameID>'
                    f'</samlp:LogoutRequest>')
        self.assertEqual(self.counts()["sso"], 1)
        attacker = self.browser()
        r = attacker.post(self.issuer + "/saml/slo", data={"SAMLRequest": base64.b64encode(request("_u1").encode()).decode()},
                          allow_redirects=False)
        self.assertEqual(r.status_code, 303, r.text[:300])
        self.assertEqual(self.counts()["sso"], 1, "another browser's unsigned request ends nobody's session")
        r = b.post(self.issuer + "/saml/slo", data={"SAMLRequest": base64.b64encode(request("_u2").encode()).decode()},
                   allow_redirects=False)
        self.assertEqual(r.status_code, 303, r.text[:300])
        self.assertEqual(self.counts()["sso"], 0, "the browser's own session ends")

    def test_metadata_import_from_a_loopback_url(self):
        sp = self.make_sp("remote", register=False)
        web = subprocess.Popen(["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", str(port := support.free_port()),
                                "--directory", self.tmp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(50):
                try:
                    requests.get(f"http://127.0.0.1:{port}/", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            out = support.run_json("sp", "add", "--metadata", f"http://127.0.0.1:{port}/remote-metadata.xml",
                                   data=self.data)
            self.assertEqual(out["entity_id"], sp.entity)
        finally:
            web.terminate()
            web.wait()
        # Not on loopback: refused before any fetch. An IdP's metadata is not an SP's.
        code, _, err = support.run("sp", "add", "--metadata", "https://example.org/md.xml", data=self.data, check=False)
        self.assertNotEqual(code, 0)
        self.assertIn("loopback", err)
        code, _, err = support.run("sp", "add", "--metadata", self.idp_metadata, data=self.data, check=False)
        self.assertNotEqual(code, 0)
        self.assertIn("SPSSODescriptor", err)

    def test_refusals_leave_nothing_behind(self):
        sp = self.make_sp("strict", extra=("--require-signed",))
        other = self.make_sp("stranger", register=False)
        b = self.browser()
        before = self.counts()
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        # Unsigned where the SP requires signing.
        r = b.get(self.redirect_url(self.authn_xml(sp, "_u1"), sp.key_pem, sign=False), allow_redirects=False)
        self.assert_refused(r, "requires signed", before)
        # Wrong Destination.
        r = b.get(self.redirect_url(self.authn_xml(sp, "_d1", destination="https://evil.test/sso"), sp.key_pem),
                  allow_redirects=False)
        self.assert_refused(r, "another Destination", before)
        # Unknown Issuer.
        r = b.get(self.redirect_url(self.authn_xml(other, "_i1"), other.key_pem), allow_redirects=False)
        self.assert_refused(r, "not a registered service provider", before)
        # Expired IssueInstant.
        old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
        r = b.get(self.redirect_url(self.authn_xml(sp, "_e1", instant=old), sp.key_pem), allow_redirects=False)
        self.assert_refused(r, "expired", before)
        # A signature made with another key, and SHA-1.
        r = b.get(self.redirect_url(self.authn_xml(sp, "_k1"), other.key_pem), allow_redirects=False)
        self.assert_refused(r, "does not verify", before)
        r = b.get(self.redirect_url(self.authn_xml(sp, "_s1"), sp.key_pem,
                                    sigalg="http://www.w3.org/2000/09/xmldsig#rsa-sha1"), allow_redirects=False)
        self.assert_refused(r, "SHA-1", before)
        # ACS URL not in the metadata.
        r = b.get(self.redirect_url(self.authn_xml(sp, "_a1", acs="https://evil.test/acs"), sp.key_pem),
                  allow_redirects=False)
        self.assert_refused(r, "not in the SP's metadata", before)
        # Replay: a request not yet answered is stored nowhere (its continuation travels sealed
        # in the URL), so the same request again goes to the login page again; once answered,
        # its ID is refused (test_unauthenticated_requests_store_nothing_and_are_answered_once).
        url = self.redirect_url(self.authn_xml(sp, "_r1"), sp.key_pem)
        self.assertEqual(b.get(url, allow_redirects=False).status_code, 303)
        self.assertEqual(self.counts(), before)
        self.assertEqual(b.get(url, allow_redirects=False).status_code, 303)
        self.assertEqual(self.counts(), before)
        # POST binding: XML signature wrapping. The signed request is moved inside a new root
        # that names the attacker's ACS; the signature still verifies over the inner element.
        signed = self.xml_signed(self.authn_xml(sp, "_w1"), sp.key_pem, "_w1")
        inner = signed.split("?>", 1)[-1].strip()
        wrapped = (f'<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
                   f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_evil" Version="2.0" IssueInstant="{now}" '
                   f'Destination="{self.sso}" AssertionConsumerServiceURL="{sp.acs}">'
                   f'<saml:Issuer>{sp.entity}</saml:Issuer><samlp:Extensions>{inner}</samlp:Extensions></samlp:AuthnRequest>')
        post = lambda xml: b.post(self.sso, data={"SAMLRequest": base64.b64encode(xml.encode()).decode()},
                                  allow_redirects=False)
        self.assert_refused(post(wrapped), "requires signed", before)
        # ... and with the signature lifted to the new root, still pointing at the inner ID.
        sig = re.search(r"<ds:Signature.*</ds:Signature>", inner, re.S).group(0)
        lifted = wrapped.replace("</saml:Issuer>", "</saml:Issuer>" + sig, 1)
        self.assert_refused(post(lifted), "does not cover", before)
        # A duplicated ID: the signed element and a forged copy with the same ID.
        forged = inner.replace(sp.acs, "https://evil.test/acs")
        dup = signed.split("?>", 1)[-1].strip().replace("</samlp:AuthnRequest>", f"<samlp:Extensions>{forged}</samlp:Extensions></samlp:AuthnRequest>")
        self.assertEqual(post(dup).status_code, 400)
        self.assertEqual(self.counts(), before)
        # The valid signed POST request is accepted (proves the refusals above were for cause).
        self.assertEqual(post(self.xml_signed(self.authn_xml(sp, "_ok1"), sp.key_pem, "_ok1")).status_code, 303)
        before = self.counts()
        # XXE and billion laughs.
        xxe = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
               + self.authn_xml(sp, "_x1").replace(sp.entity, sp.entity + "&x;"))
        self.assert_refused(post(xxe), "DOCTYPE", before)
        lol = '<!DOCTYPE r [<!ENTITY a "lol">' + "".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)) + "]>"
        self.assert_refused(post(lol + self.authn_xml(sp, "_l1").replace(sp.entity, "&j;")), "DOCTYPE", before)
        # Oversize: 300 KiB of padding.
        big = self.authn_xml(sp, "_b1").replace("</samlp:AuthnRequest>", "<!--" + "x" * 300000 + "--></samlp:AuthnRequest>")
        self.assert_refused(post(big), "larger than", before)
        # Over the Redirect binding, a zip bomb.
        bomb = self.authn_xml(sp, "_z1").replace("</samlp:AuthnRequest>", "<!--" + " " * 5000000 + "--></samlp:AuthnRequest>")
        r = b.get(self.redirect_url(bomb, sp.key_pem), allow_redirects=False)
        self.assert_refused(r, "inflates to more than", before)
        # RelayState over 80 bytes.
        r = b.get(self.redirect_url(self.authn_xml(sp, "_rs"), sp.key_pem, relay="x" * 81), allow_redirects=False)
        self.assert_refused(r, "RelayState", before)


if __name__ == "__main__":
    support.main()
