"""The admin console in a real browser (headless Chromium, Debian's, driven by playwright-core):
an HR admin of Sở Nội vụ signs in through Congvu's own OpenID Connect login with a second
factor, finds "nguyen van an" typed without diacritics (only the one in her units), transfers
him to Sở Văn hóa, Thể thao và Du lịch through the transfer dialog; the pages pass axe-core with
no serious or critical finding; the browser holds only an HttpOnly cookie (no token in storage);
and the person's next OIDC token, from a real code flow, carries the new unit. Chromium
trusts Congvu's local CA through its own NSS database (certificates are verified)."""
import base64
import json
import os
import subprocess
import urllib.parse

import requests

import support
import web_login

HERE = os.path.dirname(os.path.abspath(__file__))
BROWSER = os.path.join(HERE, "..", "browser")
PASSWORD = "CongVu-demo-2026"
RP = "https://127.0.0.1:9/cb"  # never contacted: the test reads the redirect itself
VHTTDL = "000.00.03.H99"


class BrowserAdminTest(support.ServerTest):
    def setUp(self):
        super().setUp()
        self.start_https()

    def tearDown(self):
        self.stop(self.proc)
        super().tearDown()

    def claims_of_next_token(self, login):
        """A code flow for `login` with a registered application; the ID token's and userinfo's claims."""
        secret = support.run_json("client", "add", "hsm", "--redirect-uri", RP, "--scope", "openid,profile,unit",
                                  "--first-party", data=self.data)["client_secret"]
        ca = self.info["ca"]
        meta = requests.get(self.issuer + "/.well-known/openid-configuration", verify=ca).json()
        verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
        import hashlib
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        url = meta["authorization_endpoint"] + "?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": "hsm", "redirect_uri": RP, "scope": "openid profile unit",
            "state": "s1", "nonce": "n1", "code_challenge": challenge, "code_challenge_method": "S256"})
        callback, _ = web_login.follow(web_login.browser(ca), self.issuer, url, login, PASSWORD)
        code = urllib.parse.parse_qs(urllib.parse.urlparse(callback).query)["code"][0]
        token = requests.post(meta["token_endpoint"], auth=("hsm", secret), verify=ca, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": RP, "code_verifier": verifier}).json()
        from authlib.jose import JsonWebKey, jwt
        claims = jwt.decode(token["id_token"], JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], verify=ca).json()))
        claims.validate()
        info = requests.get(meta["userinfo_endpoint"], headers={"Authorization": "Bearer " + token["access_token"]},
                            verify=ca).json()
        return claims, info

    def test_hr_admin_finds_and_transfers_in_chromium(self):
        people = {p["staff_no"]: p for p in support.run_json("person", "find", "", "--limit", "100", data=self.data)}
        hr, an = people["DM0004"], people["DM0007"]
        # Sở Nội vụ and the target, Sở Văn hóa: a transfer needs both in the admin's scope.
        support.run("admin", "grant", hr["login"], "hr-admin", "--unit", "000.00.02.H99", data=self.data)
        support.run("admin", "grant", hr["login"], "hr-admin", "--unit", VHTTDL, data=self.data)
        env = {**os.environ, "BROWSER_TEST": json.dumps({
            "issuer": self.issuer, "home": support.nss_home(self.tmp, [self.info["ca"]]), "login": hr["login"],
            "password": PASSWORD, "to_unit": VHTTDL, "decision": "15/QĐ-UBND"})}
        p = subprocess.run(["node", os.path.join(BROWSER, "admin_console.mjs")], env=env, capture_output=True, text=True,
                           timeout=300)
        if p.returncode != 0:
            self.fail(f"browser test failed:\n{p.stdout}\n{p.stderr}\n--- congvu\n{self.read_log()[-3000:]}")
        out = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertEqual(out["results"], ["Nguyễn Văn An"])
        self.assertTrue(out["person_url"].endswith("/admin/person/" + an["id"]))
        self.assertIn("Văn phòng", out["person_before"])
        self.assertTrue(out["blocked_empty"])
        self.assertEqual((out["axe_search"], out["axe_results"], out["axe_person"]), ([], [], []))
        admin_cookie = [c for c in out["cookies"] if c["name"] == "__Host-congvu-admin"][0]
        self.assertTrue(admin_cookie["httpOnly"] and admin_cookie["secure"])
        self.assertNotIn("eyJ", out["storage"])  # no token in the page's storage
        # The store and the person's next token agree: same person, same address, the new unit.
        shown = support.run_json("person", "show", an["id"], data=self.data)
        self.assertEqual((shown["unit"], shown["address"]), (VHTTDL, an["address"]))
        claims, info = self.claims_of_next_token(an["login"])
        self.assertEqual(claims["sub"], an["id"])
        self.assertEqual(claims["unit_code"], VHTTDL)
        self.assertEqual(claims["position"], "Chuyên viên")
        self.assertEqual(info["unit_code"], VHTTDL)
        moves = [r for r in support.run_json("audit", "log", "--target", an["id"], data=self.data)
                 if r["action"] == "person.transfer"]
        self.assertEqual([(r["actor"], r["reason"]) for r in moves], [("admin:" + hr["login"], "15/QĐ-UBND")])


if __name__ == "__main__":
    support.main()
