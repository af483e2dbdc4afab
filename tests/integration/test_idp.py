"""The OpenID Connect provider against a real relying party library: Debian's python3-authlib
does the code flow with PKCE, refresh and client credentials, verifies ID tokens against JWKS;
a `requests` session plays the browser on the login page and the consent screen (cookies,
CSRF tokens). Security cases: redirect_uri mismatch, PKCE missing or wrong, code replay
(revokes its tokens), refresh reuse (revokes the family), open redirects, revocation,
suspension, login throttling per address, private_key_jwt, and a transfer seen by the next
token. TLS is verified against the server's local CA everywhere."""
import base64
import html
import http.client
import imaplib
import smtplib
import json
import re
import ssl
import time
import urllib.parse

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt

import support

PASSWORD = "CongVu-demo-2026"
RP = "https://127.0.0.1:9/cb"  # never contacted: the test reads the redirect itself
SCOPE = "openid profile email unit offline_access"


class IdpTest(support.ServerTest):
    def setUp(self):
        super().setUp()
        self.port = support.free_port()
        self.issuer = f"https://127.0.0.1:{self.port}"
        listen = "".join(f'{n} = "off"\n' for n in support.LISTENERS if n not in ("https", "imaps", "submission"))
        config = self.write("idp.toml", f'[listen]\nhttps = "127.0.0.1:{self.port}"\nimaps = "127.0.0.1:0"\n'
                            f'submission = "127.0.0.1:0"\n{listen}'
                            f'[idp]\nissuer = "{self.issuer}"\n[mail]\n{support.NO_DNS}')
        self.proc, self.info = self.start(config=config)
        self.ca = self.info["ca"]
        self.meta = requests.get(self.issuer + "/.well-known/openid-configuration", verify=self.ca).json()
        self.jwks = requests.get(self.meta["jwks_uri"], verify=self.ca).json()

    def tearDown(self):
        self.stop(self.proc)
        super().tearDown()

    # --- helpers -------------------------------------------------------------------------

    def add_client(self, client_id, *args):
        out = support.run_json("client", "add", client_id, *args, data=self.data)
        return out.get("client_secret")

    def browser(self):
        b = requests.Session()
        b.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override `verify`
        b.verify = self.ca
        return b

    def form_fields(self, page):
        return {m.group(1): html.unescape(m.group(2))
                for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)}

    def login(self, b, url, login="annv", password=PASSWORD, consent=True, otp=None):
        """Follows `url` through the login page (the TOTP step or enrolment, consent) to the
        relying party's redirect; returns that redirect URL (code or error). `otp(page)` gives
        the code to type on a TOTP or enrolment page."""
        r = b.get(url, allow_redirects=False)
        for _ in range(10):
            if r.status_code in (302, 303):
                loc = urllib.parse.urljoin(r.url, r.headers["Location"])
                if not loc.startswith(self.issuer):
                    return loc
                r = b.get(loc, allow_redirects=False)
                continue
            self.assertEqual(r.status_code, 200, r.text)
            fields = self.form_fields(r.text)
            if 'action="/login"' in r.text:
                fields.update(login=login, password=password)
                r = b.post(self.issuer + "/login", data=fields, allow_redirects=False)
                self.assertEqual(r.status_code, 303, r.text)
            elif 'action="/login/otp"' in r.text or 'action="/mfa/enrol"' in r.text:
                self.assertIsNotNone(otp, "unexpected second factor page")
                action = "/login/otp" if 'action="/login/otp"' in r.text else "/mfa/enrol"
                fields["code"] = otp(r.text)
                r = b.post(self.issuer + action, data=fields, allow_redirects=False)
                if r.status_code == 200 and "codes" in r.text:  # recovery codes after enrolment
                    self.recovery = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", r.text)
                    nxt = re.search(r'class="button" href="([^"]+)"', r.text).group(1)
                    r = b.get(self.issuer + html.unescape(nxt), allow_redirects=False)
            elif 'action="/consent"' in r.text:
                fields["decision"] = "allow" if consent else "deny"
                r = b.post(self.issuer + "/consent", data=fields, allow_redirects=False)
            else:
                self.fail("unexpected page: " + r.text)
        self.fail("too many steps")

    def rp(self, client_id, secret=None, **kw):
        s = OAuth2Session(client_id, secret, scope=SCOPE, redirect_uri=RP, code_challenge_method="S256",
                          token_endpoint_auth_method="client_secret_basic" if secret else "none", **kw)
        s.trust_env = False
        s.verify = self.ca
        return s

    def code_flow(self, session, b=None, **auth_params):
        verifier = "v" * 20 + str(time.monotonic_ns()) + "x" * 20
        url, state = session.create_authorization_url(self.meta["authorization_endpoint"], code_verifier=verifier,
                                                      nonce="n-123", **auth_params)
        callback = self.login(b or self.browser(), url)
        q = urllib.parse.parse_qs(urllib.parse.urlparse(callback).query)
        self.assertEqual(q["state"], [state])
        self.assertEqual(q["iss"], [self.issuer])
        token = session.fetch_token(self.meta["token_endpoint"], authorization_response=callback, code_verifier=verifier)
        return token

    def id_claims(self, id_token, aud):
        claims = jwt.decode(id_token, JsonWebKey.import_key_set(self.jwks),
                            claims_options={"iss": {"essential": True, "value": self.issuer},
                                            "aud": {"essential": True, "value": aud}})
        claims.validate()
        return claims

    def userinfo(self, access_token):
        return requests.get(self.meta["userinfo_endpoint"], headers={"Authorization": "Bearer " + access_token},
                            verify=self.ca)

    # --- tests ---------------------------------------------------------------------------

    def test_discovery_and_jwks(self):
        self.assertEqual(self.meta["issuer"], self.issuer)
        self.assertEqual(self.meta["code_challenge_methods_supported"], ["S256"])
        self.assertEqual(self.meta["response_types_supported"], ["code"])
        self.assertEqual(self.meta["subject_types_supported"], ["public"])
        self.assertIn("RS256", self.meta["id_token_signing_alg_values_supported"])
        algs = sorted(k["alg"] for k in self.jwks["keys"])
        self.assertEqual(algs, ["ES256", "EdDSA", "RS256"])
        for k in self.jwks["keys"]:
            self.assertNotIn("d", k)  # public parts only

    def test_code_flow_pkce_confidential_and_refresh_rotation(self):
        secret = self.add_client("docs", "--redirect-uri", RP, "--name", "Quản lý văn bản")
        rp = self.rp("docs", secret)
        token = self.code_flow(rp)
        claims = self.id_claims(token["id_token"], "docs")
        self.assertEqual(claims["nonce"], "n-123")
        self.assertEqual(claims["preferred_username"], "annv")
        self.assertEqual(claims["name"], "Nguyễn Văn An")
        self.assertEqual(claims["unit_code"], "000.00.01.H99")
        self.assertEqual(claims["unit_name"], "Văn phòng Ủy ban nhân dân tỉnh")
        self.assertEqual(claims["unit_path"], ["Ủy ban nhân dân tỉnh Mẫu", "Văn phòng Ủy ban nhân dân tỉnh"])
        self.assertEqual(claims["position"], "Giám đốc")
        self.assertEqual(claims["amr"], ["pwd"])
        self.assertNotIn("birthdate", claims)  # personal data only when configured
        sub = claims["sub"]
        info = self.userinfo(token["access_token"])
        self.assertEqual(info.status_code, 200, info.text)
        self.assertEqual(info.json()["sub"], sub)
        self.assertEqual(info.json()["email"], "annv@tinhmau.test")

        # Rotation: a new refresh token each time; the old one presented again revokes all.
        first_refresh = token["refresh_token"]
        new = rp.refresh_token(self.meta["token_endpoint"], refresh_token=first_refresh)
        self.assertNotEqual(new["refresh_token"], first_refresh)
        self.assertEqual(self.id_claims(new["id_token"], "docs")["sub"], sub)
        self.assertEqual(self.userinfo(new["access_token"]).status_code, 200)
        reuse = requests.post(self.meta["token_endpoint"], auth=("docs", secret), verify=self.ca,
                              data={"grant_type": "refresh_token", "refresh_token": first_refresh})
        self.assertEqual(reuse.status_code, 400)
        self.assertEqual(reuse.json()["error"], "invalid_grant")
        later = requests.post(self.meta["token_endpoint"], auth=("docs", secret), verify=self.ca,
                              data={"grant_type": "refresh_token", "refresh_token": new["refresh_token"]})
        self.assertEqual(later.json()["error"], "invalid_grant", "the family is revoked after reuse")
        r = self.userinfo(new["access_token"])
        self.assertEqual(r.status_code, 401)
        self.assertIn('error="invalid_token"', r.headers["WWW-Authenticate"])

    def test_public_client_requires_pkce(self):
        self.add_client("spa", "--type", "public", "--redirect-uri", RP, "--first-party")
        b = self.browser()
        # No code_challenge: refused at the authorization endpoint, back to the client.
        q = urllib.parse.urlencode({"client_id": "spa", "redirect_uri": RP, "response_type": "code",
                                    "scope": "openid", "state": "s1"})
        loc = self.login(b, self.meta["authorization_endpoint"] + "?" + q)
        params = urllib.parse.parse_qs(urllib.parse.urlparse(loc).query)
        self.assertEqual(params["error"], ["invalid_request"])
        self.assertEqual(params["state"], ["s1"])
        # With PKCE: works, no secret, and the verifier is checked.
        rp = self.rp("spa")
        token = self.code_flow(rp, b)
        self.assertEqual(self.id_claims(token["id_token"], "spa")["preferred_username"], "annv")

    def test_pkce_verifier_missing_or_wrong_and_code_replay(self):
        secret = self.add_client("docs", "--redirect-uri", RP, "--first-party")
        b = self.browser()
        rp = self.rp("docs", secret)
        verifier = "a" * 64
        url, _ = rp.create_authorization_url(self.meta["authorization_endpoint"], code_verifier=verifier)
        code = urllib.parse.parse_qs(urllib.parse.urlparse(self.login(b, url)).query)["code"][0]
        post = lambda **d: requests.post(self.meta["token_endpoint"], auth=("docs", secret), verify=self.ca,
                                         data={"grant_type": "authorization_code", "code": code,
                                               "redirect_uri": RP, **d})
        self.assertEqual(post().json()["error"], "invalid_grant")                          # missing
        self.assertEqual(post(code_verifier="b" * 64).json()["error"], "invalid_grant")   # wrong
        good = post(code_verifier=verifier)
        self.assertEqual(good.status_code, 200, good.text)
        access = good.json()["access_token"]
        self.assertEqual(self.userinfo(access).status_code, 200)
        replay = post(code_verifier=verifier)
        self.assertEqual(replay.json()["error"], "invalid_grant")
        self.assertEqual(self.userinfo(access).status_code, 401, "a replayed code revokes its tokens")
        refresh = requests.post(self.meta["token_endpoint"], auth=("docs", secret), verify=self.ca,
                                data={"grant_type": "refresh_token", "refresh_token": good.json()["refresh_token"]})
        self.assertEqual(refresh.json()["error"], "invalid_grant")

    def test_redirect_uri_mismatch_is_shown_not_redirected(self):
        self.add_client("docs", "--redirect-uri", RP)
        b = self.browser()
        for uri in (RP + "/evil", "https://evil.example/cb", RP.upper(), ""):
            q = urllib.parse.urlencode({"client_id": "docs", "redirect_uri": uri, "response_type": "code",
                                        "scope": "openid", "state": "x"})
            r = b.get(self.meta["authorization_endpoint"] + "?" + q, allow_redirects=False)
            self.assertEqual(r.status_code, 400, uri)
            self.assertNotIn("Location", r.headers)
            self.assertIn("redirect_uri", r.text)
        r = b.get(self.meta["authorization_endpoint"] + "?client_id=nobody&redirect_uri=" + urllib.parse.quote(RP),
                  allow_redirects=False)
        self.assertEqual(r.status_code, 400)
        self.assertNotIn("Location", r.headers)

    def test_login_page_open_redirect_csrf_and_wrong_password(self):
        b = self.browser()
        page = b.get(self.issuer + "/login?return_to=https://evil.example/")
        self.assertEqual(page.status_code, 200)
        self.assertIn('lang="vi"', page.text)
        cookie = page.headers["Set-Cookie"]
        for attr in ("__Host-congvu=", "Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
            self.assertIn(attr, cookie)
        fields = self.form_fields(page.text)
        self.assertEqual(fields["return_to"], "/")
        # Without the CSRF token (or with another browser's), nothing happens.
        bad = b.post(self.issuer + "/login", data={"login": "annv", "password": PASSWORD, "return_to": "/"},
                     allow_redirects=False)
        self.assertEqual(bad.status_code, 403)
        other = self.browser()
        other.get(self.issuer + "/login")
        stolen = other.post(self.issuer + "/login", data={**fields, "login": "annv", "password": PASSWORD},
                            allow_redirects=False)
        self.assertEqual(stolen.status_code, 403)
        wrong = b.post(self.issuer + "/login", data={**fields, "login": "annv", "password": "nope"},
                       allow_redirects=False)
        self.assertEqual(wrong.status_code, 401)
        self.assertIn('role="alert"', wrong.text)
        # Permanent vectors: a TAB that browsers drop ("/<TAB>/evil" becomes "//evil"), CR/LF that
        # would end the Location header and inject a Set-Cookie, a NUL, a fragment.
        for target in ("//evil.example/", "/\\evil.example/", "https://evil.example/", "/\t/evil.example",
                       "/\r\nSet-Cookie: sid=attacker; Path=/", "/ok\nX-Injected: 1", "/\x00/evil", "/#//evil.example"):
            before = b.cookies.get("__Host-congvu")
            ok = b.post(self.issuer + "/login", data={**fields, "return_to": target, "login": "annv",
                                                      "password": PASSWORD}, allow_redirects=False)
            self.assertEqual(ok.status_code, 303, ok.text)
            self.assertEqual(ok.headers["Location"], "/", repr(target))
            self.assertNotIn("X-Injected", ok.headers)
            self.assertNotIn("sid=attacker", ok.headers.get("Set-Cookie", ""))
            # The cookie changes at every login (no session fixation).
            self.assertNotEqual(ok.cookies.get("__Host-congvu"), before)
            self.assertIsNotNone(ok.cookies.get("__Host-congvu"))
            fields["csrf"] = self.form_fields(b.get(self.issuer + "/login").text)["csrf"]

    def test_consent_deny_and_prompt_none(self):
        secret = self.add_client("portal", "--redirect-uri", RP, "--name", "Cổng dịch vụ công")
        rp = self.rp("portal", secret)
        b = self.browser()
        url, state = rp.create_authorization_url(self.meta["authorization_endpoint"], code_verifier="c" * 50,
                                                 prompt="none")
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.login(b, url)).query)
        self.assertEqual(q["error"], ["login_required"])
        url, state = rp.create_authorization_url(self.meta["authorization_endpoint"], code_verifier="c" * 50)
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.login(b, url, consent=False)).query)
        self.assertEqual(q["error"], ["access_denied"])
        self.assertEqual(q["state"], [state])
        # Signed in now but no consent yet: prompt=none must say so.
        url, _ = rp.create_authorization_url(self.meta["authorization_endpoint"], code_verifier="c" * 50,
                                             prompt="none")
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.login(b, url)).query)
        self.assertEqual(q["error"], ["consent_required"])
        # After consent, prompt=none gets a code silently (single sign-on).
        self.code_flow(rp, b)
        url, _ = rp.create_authorization_url(self.meta["authorization_endpoint"], code_verifier="c" * 50,
                                             prompt="none")
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.login(b, url, password="unused")).query)
        self.assertIn("code", q)

    def test_client_credentials_introspection_revocation(self):
        secret = self.add_client("hrsync", "--grant", "client_credentials", "--auth", "client_secret_post",
                                 "--scope", "scim:read,scim:write", "--role", "province-admin")
        rs = self.add_client("resource", "--redirect-uri", RP)
        tok = requests.post(self.meta["token_endpoint"], verify=self.ca,
                            data={"grant_type": "client_credentials", "scope": "scim:read",
                                  "client_id": "hrsync", "client_secret": secret}).json()
        self.assertNotIn("refresh_token", tok)
        self.assertNotIn("id_token", tok)
        # Basic is not the registered method for this client: refused.
        basic = requests.post(self.meta["token_endpoint"], verify=self.ca, auth=("hrsync", secret),
                              data={"grant_type": "client_credentials", "scope": "scim:read"})
        self.assertEqual(basic.status_code, 401)
        self.assertEqual(basic.json()["error"], "invalid_client")
        bad_scope = requests.post(self.meta["token_endpoint"], verify=self.ca,
                                  data={"grant_type": "client_credentials", "scope": "openid",
                                        "client_id": "hrsync", "client_secret": secret})
        self.assertEqual(bad_scope.json()["error"], "invalid_scope")
        intro = lambda t: requests.post(self.meta["introspection_endpoint"], auth=("resource", rs), verify=self.ca,
                                        data={"token": t}).json()
        info = intro(tok["access_token"])
        self.assertTrue(info["active"])
        self.assertEqual(info["client_id"], "hrsync")
        self.assertEqual(info["aud"], ["scim"])
        self.assertEqual(info["scope"], "scim:read")
        self.assertFalse(intro("not-a-token")["active"])
        unauth = requests.post(self.meta["introspection_endpoint"], verify=self.ca, data={"token": tok["access_token"]})
        self.assertEqual(unauth.status_code, 401)
        # Access token for scim only: userinfo refuses it (wrong audience).
        self.assertEqual(self.userinfo(tok["access_token"]).status_code, 401)
        rev = requests.post(self.meta["revocation_endpoint"], verify=self.ca,
                            data={"token": tok["access_token"], "client_id": "hrsync", "client_secret": secret})
        self.assertEqual(rev.status_code, 200)
        self.assertFalse(intro(tok["access_token"])["active"])

    def test_private_key_jwt(self):
        from authlib.jose import JsonWebKey as JWK
        import base64

        def full(c):  # RFC 7518 6.2.1.2: 32 bytes; authlib drops leading zero bytes (1 key in ~128)
            return len(base64.urlsafe_b64decode(c + "=" * (-len(c) % 4))) == 32

        while True:
            key = JWK.generate_key("EC", "P-256", is_private=True)
            pub = key.as_dict(is_private=False)
            if full(pub["x"]) and full(pub["y"]):
                break
        pub["kid"] = "k1"
        jwk_file = self.write("client.jwk", json.dumps(pub))
        self.add_client("signer", "--grant", "client_credentials", "--jwk", jwk_file, "--scope", "scim:read", "--role", "auditor")

        def assertion(aud, jti):
            now = int(time.time())
            return jwt.encode({"alg": "ES256", "kid": "k1"},
                              {"iss": "signer", "sub": "signer", "aud": aud, "jti": jti, "iat": now, "exp": now + 60},
                              key).decode()

        def ask(a):
            return requests.post(self.meta["token_endpoint"], verify=self.ca, data={
                "grant_type": "client_credentials", "scope": "scim:read",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": a})
        a = assertion(self.meta["token_endpoint"], "j1")
        self.assertEqual(ask(a).status_code, 200)
        self.assertEqual(ask(a).status_code, 401, "an assertion is good once")
        self.assertEqual(ask(assertion("https://other.example/token", "j2")).status_code, 401)
        other = JWK.generate_key("EC", "P-256", is_private=True)
        now = int(time.time())
        forged = jwt.encode({"alg": "ES256", "kid": "k1"}, {"iss": "signer", "sub": "signer", "jti": "j3",
                                                           "aud": self.issuer, "exp": now + 60}, other).decode()
        self.assertEqual(ask(forged).status_code, 401)

    def test_suspension_and_transfer(self):
        secret = self.add_client("docs", "--redirect-uri", RP, "--first-party")
        rp = self.rp("docs", secret)
        token = self.code_flow(rp)
        support.run("person", "transfer", "annv", "--to", "000.00.02.H99", "--position", "Phó Giám đốc",
                    "--decision", "12/QĐ-UBND", data=self.data)
        new = rp.refresh_token(self.meta["token_endpoint"], refresh_token=token["refresh_token"])
        claims = self.id_claims(new["id_token"], "docs")
        self.assertEqual(claims["unit_code"], "000.00.02.H99")
        self.assertEqual(claims["unit_name"], "Sở Nội vụ")
        self.assertEqual(claims["position"], "Phó Giám đốc")
        self.assertEqual(self.userinfo(new["access_token"]).json()["unit_code"], "000.00.02.H99")
        support.run("person", "suspend", "annv", "--reason", "test", data=self.data)
        r = self.userinfo(new["access_token"])
        self.assertEqual(r.status_code, 401)
        self.assertIn("suspended", r.headers["WWW-Authenticate"])
        again = requests.post(self.meta["token_endpoint"], auth=("docs", secret), verify=self.ca,
                              data={"grant_type": "refresh_token", "refresh_token": new["refresh_token"]})
        self.assertEqual(again.json()["error"], "invalid_grant")

    def test_throttle_is_per_address(self):
        """1 000 failures from one address slow that address down, never the person elsewhere."""
        ctx = ssl.create_default_context(cafile=self.ca)

        def connect(source):
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, source_address=(source, 0))
            conn.request("GET", "/login")
            page = conn.getresponse()
            body = page.read().decode()
            return conn, page.getheader("Set-Cookie").split(";")[0], self.form_fields(body)

        def attempt(conn, cookie, fields, password):
            conn.request("POST", "/login", body=urllib.parse.urlencode({**fields, "login": "annv", "password": password}),
                         headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
            r = conn.getresponse()
            r.read()
            return r.status

        conn, cookie, fields = connect("127.0.0.2")
        statuses = [attempt(conn, cookie, fields, f"wrong-{i}") for i in range(1000)]
        self.assertEqual(statuses[:5], [401] * 5)
        self.assertEqual(statuses[5], 429, "from the 6th failure the pair waits")
        # The wait doubles after each checked attempt (1 s, 2 s, 4 s ...): over the seconds the
        # 1 000 requests take, only a few more are ever checked; all others are refused unread.
        self.assertLessEqual(statuses.count(401), 12)
        self.assertEqual(statuses.count(401) + statuses.count(429), 1000)
        self.assertEqual(attempt(conn, cookie, fields, PASSWORD), 429, "the attacker's address waits")
        conn.close()
        conn, cookie, fields = connect("127.0.0.3")
        self.assertEqual(attempt(conn, cookie, fields, PASSWORD), 303, "the person logs in from elsewhere")
        conn.close()

    def test_logout(self):
        secret = self.add_client("docs", "--redirect-uri", RP, "--first-party", "--post-logout-uri", RP + "/bye")
        rp = self.rp("docs", secret)
        b = self.browser()
        token = self.code_flow(rp, b)
        # An unregistered post-logout URI is refused, and the session stays.
        r = b.get(self.meta["end_session_endpoint"], params={"id_token_hint": token["id_token"],
                                                             "post_logout_redirect_uri": "https://evil.example/"},
                  allow_redirects=False)
        self.assertEqual(r.status_code, 400)
        r = b.get(self.meta["end_session_endpoint"], params={"id_token_hint": token["id_token"],
                                                             "post_logout_redirect_uri": RP + "/bye", "state": "z"},
                  allow_redirects=False)
        self.assertEqual(r.status_code, 303)
        self.assertEqual(r.headers["Location"], RP + "/bye?state=z")
        # The session is gone: prompt=none now needs a login.
        url, _ = rp.create_authorization_url(self.meta["authorization_endpoint"], code_verifier="d" * 50, prompt="none")
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.login(b, url)).query)
        self.assertEqual(q["error"], ["login_required"])

    def test_mail_clients_log_in_with_tokens(self):
        """OAUTHBEARER and XOAUTH2 with a real access token, in IMAP and SMTP submission."""
        secret = self.add_client("mailapp", "--redirect-uri", RP, "--first-party",
                                 "--scope", "openid,profile,email,mail,offline_access")
        rp = OAuth2Session("mailapp", secret, scope="openid email mail", redirect_uri=RP,
                           code_challenge_method="S256")
        rp.trust_env = False
        rp.verify = self.ca
        token = self.code_flow(rp)["access_token"]
        ctx = ssl.create_default_context(cafile=self.ca)
        user = "annv@tinhmau.test"
        oauthbearer = f"n,a={user},\x01host=127.0.0.1\x01port=993\x01auth=Bearer {token}\x01\x01"
        xoauth2 = f"user={user}\x01auth=Bearer {token}\x01\x01"

        imap = imaplib.IMAP4_SSL("127.0.0.1", self.info["ports"]["imaps"], ssl_context=ctx)
        self.assertIn("AUTH=OAUTHBEARER", imap.capabilities)
        self.assertIn("AUTH=XOAUTH2", imap.capabilities)
        typ, _ = imap.authenticate("OAUTHBEARER", lambda _: oauthbearer.encode())
        self.assertEqual(typ, "OK")
        self.assertEqual(imap.select("INBOX")[0], "OK")
        imap.logout()
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.info["ports"]["imaps"], ssl_context=ctx)
        self.assertEqual(imap.authenticate("XOAUTH2", lambda _: xoauth2.encode())[0], "OK")
        imap.logout()

        smtp = smtplib.SMTP("127.0.0.1", self.info["ports"]["submission"])
        smtp.starttls(context=ctx)
        smtp.ehlo("client.test")
        self.assertIn("OAUTHBEARER", smtp.esmtp_features["auth"])
        code, _ = smtp.docmd("AUTH", "XOAUTH2 " + base64.b64encode(xoauth2.encode()).decode())
        self.assertEqual(code, 235)
        smtp.sendmail(user, [user], f"From: {user}\r\nTo: {user}\r\nSubject: token\r\n\r\nsent with a token\r\n".encode())
        smtp.quit()
        smtp = smtplib.SMTP("127.0.0.1", self.info["ports"]["submission"])
        smtp.starttls(context=ctx)
        smtp.ehlo("client.test")
        code, _ = smtp.docmd("AUTH", "OAUTHBEARER " + base64.b64encode(oauthbearer.encode()).decode())
        self.assertEqual(code, 235)
        smtp.quit()

        def imap_refused(message, mech="OAUTHBEARER"):
            conn = imaplib.IMAP4_SSL("127.0.0.1", self.info["ports"]["imaps"], ssl_context=ctx)
            challenges = []
            def respond(challenge):
                challenges.append(challenge)
                return message.encode() if len(challenges) == 1 else b"\x01"
            with self.assertRaises(imaplib.IMAP4.error):
                conn.authenticate(mech, respond)
            conn.logout()
            return challenges

        # Someone else's address with my token.
        imap_refused(oauthbearer.replace(user, "ngocttb@tinhmau.test"))
        # A token for userinfo only (no "mail" scope, no "mail" audience).
        rp2 = self.rp("mailapp", secret)
        rp2.scope = "openid profile"
        other = self.code_flow(rp2)["access_token"]
        challenges = imap_refused(oauthbearer.replace(token, other))
        error = json.loads(challenges[-1] if challenges[-1] else b"{}")
        self.assertEqual(error.get("status"), "invalid_token")
        self.assertIn("/.well-known/openid-configuration", error.get("openid-configuration", ""))
        # Revoked: refused from then on, in SMTP too.
        requests.post(self.meta["revocation_endpoint"], auth=("mailapp", secret), verify=self.ca, data={"token": token})
        imap_refused(oauthbearer)
        smtp = smtplib.SMTP("127.0.0.1", self.info["ports"]["submission"])
        smtp.starttls(context=ctx)
        smtp.ehlo("client.test")
        code, challenge = smtp.docmd("AUTH", "XOAUTH2 " + base64.b64encode(xoauth2.encode()).decode())
        self.assertEqual(code, 334)
        self.assertEqual(json.loads(base64.b64decode(challenge))["status"], "401")
        code, _ = smtp.docmd("")
        self.assertEqual(code, 535)
        smtp.quit()

    def test_second_factor_enrolment_login_and_mail(self):
        """A client that requires a second factor: enrolment by QR/secret, then TOTP at every
        login, recovery codes once each; mail then refuses the account password and takes
        an app password."""
        import hmac, struct, hashlib
        def totp(secret_b32, offset=0):
            key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
            step = int(time.time()) // 30 + offset
            h = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
            o = h[19] & 15
            return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7fffffff) % 1000000)
        secret = self.add_client("hsm", "--redirect-uri", RP, "--first-party", "--require-mfa")
        rp = self.rp("hsm", secret)
        seen = {}
        def enrol(page):
            if "/mfa/enrol" in page:
                self.assertIn("data:image/svg+xml;base64,", page)
                seen["key"] = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
            return totp(seen["key"])
        verifier = "e" * 60
        url, _ = rp.create_authorization_url(self.meta["authorization_endpoint"], code_verifier=verifier)
        callback = self.login(self.browser(), url, otp=enrol)
        token = rp.fetch_token(self.meta["token_endpoint"], authorization_response=callback, code_verifier=verifier)
        claims = self.id_claims(token["id_token"], "hsm")
        self.assertEqual(claims["amr"], ["pwd", "otp"])
        self.assertEqual(claims["acr"], "urn:congvu:acr:mfa")
        self.assertEqual(len(self.recovery), 10)
        # A new browser: password, then the TOTP step. The code just used is refused (replay);
        # a recovery code works once.
        url, _ = rp.create_authorization_url(self.meta["authorization_endpoint"], code_verifier=verifier)
        b = self.browser()
        r = b.get(url, allow_redirects=False)
        r = b.get(urllib.parse.urljoin(self.issuer, r.headers["Location"]))
        fields = {**self.form_fields(r.text), "login": "annv", "password": PASSWORD}
        r = b.post(self.issuer + "/login", data=fields, allow_redirects=False)
        self.assertTrue(r.headers["Location"].startswith("/login/otp"))
        page = b.get(self.issuer + r.headers["Location"])
        fields = self.form_fields(page.text)
        # Before the code, the session is good for nothing.
        r = b.get(url, allow_redirects=False)
        self.assertTrue(r.headers["Location"].startswith("/login/otp"))
        # Nor can it record consent (issue 20): a valid consent form is sent to the second step.
        target = urllib.parse.urlparse(url)
        r = b.post(self.issuer + "/consent", data={"csrf": fields["csrf"], "decision": "allow",
                                                   "return_to": target.path + "?" + target.query}, allow_redirects=False)
        self.assertEqual(r.status_code, 303, r.text)
        self.assertTrue(r.headers["Location"].startswith("/login/otp"), r.headers["Location"])
        wrong = b.post(self.issuer + "/login/otp", data={**fields, "code": "000000" if totp(seen["key"]) != "000000" else "111111"},
                       allow_redirects=False)
        self.assertEqual(wrong.status_code, 401)
        ok = b.post(self.issuer + "/login/otp", data={**fields, "code": self.recovery[0]}, allow_redirects=False)
        self.assertEqual(ok.status_code, 303)
        callback = self.login(b, url)
        self.assertIn("code=", callback)
        b2 = self.browser()
        self.assertRaises(AssertionError, self.login, b2, url, otp=lambda page: self.recovery[0])
        # Mail: the account password no longer works; an app password does.
        ctx = ssl.create_default_context(cafile=self.ca)
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.info["ports"]["imaps"], ssl_context=ctx)
        with self.assertRaises(imaplib.IMAP4.error):
            imap.login("annv", PASSWORD)
        app = support.run_json("app-password", "add", "annv", "--name", "Thunderbird", data=self.data)["password"]
        self.assertRegex(app, r"^[a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4}$")
        self.assertEqual(imap.login("annv", app)[0], "OK")
        imap.logout()
        smtp = smtplib.SMTP("127.0.0.1", self.info["ports"]["submission"])
        smtp.starttls(context=ctx)
        with self.assertRaises(smtplib.SMTPAuthenticationError):
            smtp.login("annv", PASSWORD)
        smtp.login("annv", app)
        smtp.quit()

    def test_backchannel_logout(self):
        """Logout tokens reach the relying party when the person signs out, is transferred (the
        application's session ends, the SSO session stays) or suspended (everything ends)."""
        import http.server
        import queue
        import threading
        received = queue.Queue()

        class Rp(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                received.put((self.path, self.headers["Content-Type"], urllib.parse.parse_qs(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass
        server = http.server.HTTPServer(("127.0.0.1", 0), Rp)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        bcl = f"http://127.0.0.1:{server.server_port}/bcl"
        secret = self.add_client("docs", "--redirect-uri", RP, "--first-party", "--backchannel-logout-uri", bcl,
                                 "--post-logout-uri", RP + "/bye")
        other = self.add_client("quiet", "--redirect-uri", RP, "--first-party", "--backchannel-logout-uri", bcl,
                                "--logout-events", "suspend")

        def logout_token():
            path, ctype, form = received.get(timeout=10)
            self.assertEqual(path, "/bcl")
            self.assertEqual(ctype, "application/x-www-form-urlencoded")
            token = form["logout_token"][0]
            header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
            self.assertEqual(header["typ"], "logout+jwt")
            claims = jwt.decode(token, JsonWebKey.import_key_set(self.jwks))
            self.assertEqual(claims["iss"], self.issuer)
            self.assertIn("http://schemas.openid.net/event/backchannel-logout", claims["events"])
            self.assertNotIn("nonce", claims)
            return claims

        b = self.browser()
        docs = self.rp("docs", secret)
        first = self.id_claims(self.code_flow(docs, b)["id_token"], "docs")
        self.code_flow(self.rp("quiet", other), b)
        support.run("person", "transfer", "annv", "--to", "000.00.02.H99", "--decision", "7/QĐ-UBND", data=self.data)
        claims = logout_token()
        self.assertEqual(claims["aud"], "docs")  # "quiet" only wants suspensions
        self.assertEqual(claims["sid"], first["sid"])
        self.assertEqual(claims["sub"], first["sub"])
        time.sleep(1.5)
        self.assertTrue(received.empty())
        # The SSO session lives on: the next login is silent and carries the new unit.
        again = self.id_claims(self.code_flow(docs, b, prompt="none")["id_token"], "docs")
        self.assertEqual(again["unit_code"], "000.00.02.H99")
        self.assertEqual(again["sid"], first["sid"])
        # Signing out of Congvu tells "docs" (logout) but not "quiet".
        r = b.get(self.meta["end_session_endpoint"], params={"client_id": "docs"}, allow_redirects=False)
        self.assertEqual(r.status_code, 200)  # no id_token_hint: a confirmation page
        fields = self.form_fields(r.text)
        r = b.post(self.meta["end_session_endpoint"], data=fields, allow_redirects=False)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(logout_token()["aud"], "docs")
        time.sleep(1.5)
        self.assertTrue(received.empty())
        # Suspension: both applications that still have a session hear it.
        b2 = self.browser()
        self.code_flow(docs, b2)
        self.code_flow(self.rp("quiet", other), b2)
        support.run("person", "suspend", "annv", "--reason", "kỷ luật", data=self.data)
        auds = sorted([logout_token()["aud"], logout_token()["aud"]])
        self.assertEqual(auds, ["docs", "quiet"])
        url, _ = docs.create_authorization_url(self.meta["authorization_endpoint"], code_verifier="f" * 50, prompt="none")
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.login(b2, url)).query)
        self.assertEqual(q["error"], ["login_required"])

    def test_app_passwords_need_the_second_factor_where_it_is_required(self):
        # A province administrator must use a second factor; before enrolling, the password
        # alone must not mint an app password (which would open mail without the factor).
        support.run("admin", "init", "annv", data=self.data)
        b = self.browser()
        page = b.get(self.issuer + "/login?return_to=/account")
        b.post(self.issuer + "/login", data={**self.form_fields(page.text), "login": "annv", "password": PASSWORD},
               allow_redirects=False)
        page = b.get(self.issuer + "/account", allow_redirects=False)
        self.assertEqual(page.status_code, 200)  # the account page itself is open
        csrf = self.form_fields(page.text)["csrf"]
        r = b.post(self.issuer + "/account/app-passwords", data={"csrf": csrf, "name": "Điện thoại"},
                   allow_redirects=False)
        self.assertEqual(r.status_code, 403, r.text[:300])
        self.assertNotIn('<code class="secret">', r.text)
        self.assertIn("second factor before making app passwords", r.text)
        apps = support.run("person", "show", "annv", "--json", data=self.data)[1]
        self.assertNotIn('"app_passwords": [{', apps)

    def test_account_page_password_app_passwords_and_reset(self):
        ctx = ssl.create_default_context(cafile=self.ca)

        def imap_ok(user, password):
            conn = imaplib.IMAP4_SSL("127.0.0.1", self.info["ports"]["imaps"], ssl_context=ctx)
            try:
                conn.login(user, password)
                return True
            except imaplib.IMAP4.error:
                return False
            finally:
                conn.logout()

        def sign_in(password=PASSWORD):
            b = self.browser()
            page = b.get(self.issuer + "/login?return_to=/account")
            r = b.post(self.issuer + "/login", data={**self.form_fields(page.text), "login": "annv",
                                                     "password": password}, allow_redirects=False)
            self.assertEqual(r.status_code, 303, r.text)
            self.assertEqual(r.headers["Location"], "/account")
            return b

        b = sign_in()
        other = sign_in()
        page = b.get(self.issuer + "/account")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Nguyễn Văn An", page.text)
        csrf = self.form_fields(page.text)["csrf"]
        post = lambda path, **d: b.post(self.issuer + path, data={"csrf": csrf, **d}, allow_redirects=False)
        new = "Mat-khau-moi-2026!"
        self.assertEqual(post("/account/password", current="wrong", new=new, confirm=new).status_code, 401)
        self.assertEqual(post("/account/password", current=PASSWORD, new="short", confirm="short").status_code, 400)
        self.assertEqual(post("/account/password", current=PASSWORD, new=new, confirm=new + "x").status_code, 400)
        self.assertEqual(b.post(self.issuer + "/account/password", data={"current": PASSWORD, "new": new, "confirm": new},
                                allow_redirects=False).status_code, 403)  # no CSRF token
        r = post("/account/password", current=PASSWORD, new=new, confirm=new)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertTrue(imap_ok("annv", new))
        self.assertFalse(imap_ok("annv", PASSWORD))
        r = other.get(self.issuer + "/account", allow_redirects=False)
        self.assertEqual(r.status_code, 303, "the other session ended with the password change")
        # App passwords from the page: shown once, work for mail, revocable.
        r = post("/account/app-passwords", name="Điện thoại")
        app = re.search(r'<code class="secret">([a-z-]+)</code>', r.text).group(1)
        self.assertTrue(imap_ok("annv@tinhmau.test", app))
        app_id = re.search(r'name="id" value="([0-9a-f]+)"', r.text).group(1)
        r = post("/account/app-passwords/revoke", id=app_id)
        self.assertEqual(r.status_code, 200)
        self.assertFalse(imap_ok("annv", app))
        # Reset by an HR admin's one-time code.
        code = support.run_json("person", "reset-code", "annv", "--hours", "2", data=self.data)["code"]
        rb = self.browser()
        form = self.form_fields(rb.get(self.issuer + "/login/reset").text)
        third = "Lai-moi-nua-2026!"
        bad = rb.post(self.issuer + "/login/reset", data={**form, "login": "annv", "code": "aaaa-bbbb-cccc",
                                                          "new": third, "confirm": third})
        self.assertEqual(bad.status_code, 401)
        good = rb.post(self.issuer + "/login/reset", data={**form, "login": "annv", "code": code.upper(),
                                                           "new": third, "confirm": third})
        self.assertEqual(good.status_code, 200, good.text)
        self.assertTrue(imap_ok("annv", third))
        again = rb.post(self.issuer + "/login/reset", data={**form, "login": "annv", "code": code,
                                                            "new": new, "confirm": new})
        self.assertEqual(again.status_code, 401, "a code works once")
        self.assertEqual(b.get(self.issuer + "/account", allow_redirects=False).status_code, 303)


if __name__ == "__main__":
    support.main()
