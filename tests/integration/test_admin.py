"""The admin console (/admin) against a real server over verified HTTPS, signed in through
Congvu's own OpenID Connect provider with a second factor: people search without diacritics,
scoping to the admin's units, the person page, transfer/appointment/retirement with server-side
validation (each refusal leaving the audit chain unchanged), scheduled changes and their
cancellation, the unit tree's counts, the audit view and `audit verify`; and the session:
opaque cookie only, CSRF, state bound to the browser, single-use codes, sign-out, the IdP's
sign-out ending the console's session, a revoked role ending access."""
import html
import re
import urllib.parse

import requests

import support
import web_login

PASSWORD = "CongVu-demo-2026"
NOI_VU = "000.00.02.H99"      # Sở Nội vụ: the HR admin's subtree
VAN_PHONG_NV = "000.02.02.H99"  # its Văn phòng, where the second Nguyễn Văn An works
VHTTDL = "000.00.03.H99"


class AdminConsoleTest(support.ServerTest):
    def setUp(self):
        super().setUp()
        self.start_https()
        self.ca = self.info["ca"]
        self.people = {p["staff_no"]: p for p in
                       support.run_json("person", "find", "", "--status", "any", "--limit", "100", data=self.data)}
        self.hr = self.people["DM0004"]  # Phạm Thu Hà, Giám đốc Sở Nội vụ
        support.run("admin", "grant", self.hr["login"], "hr-admin", "--unit", NOI_VU, "--decision", "1/QĐ-SNV",
                    data=self.data)

    def tearDown(self):
        self.stop(self.proc)
        super().tearDown()

    def audit_len(self):
        return support.run_json("audit", "verify", data=self.data)["records"]

    def sign_in(self, login=None):
        b = web_login.browser(self.ca)
        self.otp = getattr(self, "otp", None) or web_login.Enrolment()
        r = web_login.admin_session(b, self.issuer, login or self.hr["login"], PASSWORD, self.otp)
        return b, r

    def csrf(self, page):
        return web_login.form_fields(page)["csrf"]

    def search(self, b, q, **kw):
        r = b.get(self.issuer + "/admin", params={"q": q, **kw}, allow_redirects=False)
        self.assertEqual(r.status_code, 200, r.text)
        return re.findall(r'<a href="/admin/person/([0-9a-f-]+)">([^<]+)</a>', r.text), r

    def post_change(self, b, person, **fields):
        page = b.get(f"{self.issuer}/admin/person/{person['id']}").text
        data = {"csrf": self.csrf(page), "from": person["unit"], **fields}
        return b.post(f"{self.issuer}/admin/person/{person['id']}", data=data, allow_redirects=False)

    def test_sign_in_search_transfer_and_audit(self):
        b, r = self.sign_in()
        self.assertEqual(r.status_code, 200, r.text)
        self.assertIn("Tìm cán bộ", r.text)
        self.assertIn("hr-admin " + NOI_VU, r.text)
        # The browser holds one opaque, host-only, HttpOnly cookie for the console; no token.
        cookie = [c for c in b.cookies if c.name == "__Host-congvu-admin"][0]
        self.assertTrue(cookie.secure)
        self.assertTrue(cookie.has_nonstandard_attr("HttpOnly"))
        self.assertTrue(cookie.value.startswith("S."))
        self.assertNotIn("eyJ", r.text)
        self.assertEqual(r.headers["Cache-Control"], "no-store")
        self.assertIn("default-src 'none'", r.headers["Content-Security-Policy"])
        self.assertEqual(self.otp.recovery and len(self.otp.recovery), 10)  # the admin enrolled TOTP on the way

        # Diacritic-insensitive search, scoped: of the two Nguyễn Văn An only the one in Sở Nội vụ.
        an = self.people["DM0007"]
        for q in ("nguyen van an", "NGUYỄN VĂN AN", "an nguyen", "nguyen v an"):
            hits, _ = self.search(b, q)
            self.assertEqual([h[0] for h in hits], [an["id"]], q)
        self.assertEqual(self.search(b, an["address"])[0][0][0], an["id"])
        hits, _ = self.search(b, "nguyen")
        self.assertNotIn(self.people["DM0001"]["id"], [h[0] for h in hits])  # the other An: another department
        r = b.get(self.issuer + "/admin", params={"unit": VHTTDL})
        self.assertEqual(r.status_code, 403)
        self.assertIn("ngoài phạm vi", r.text)
        self.assertNotIn("/admin/person/", r.text)
        r = b.get(f"{self.issuer}/admin/person/{self.people['DM0001']['id']}")
        self.assertEqual(r.status_code, 403)

        # The person page.
        r = b.get(f"{self.issuer}/admin/person/{an['id']}")
        self.assertEqual(r.status_code, 200)
        self.assertIn("Quá trình công tác", r.text)
        self.assertIn("Văn thư", r.text)
        self.assertIn("DM0007", r.text)  # personal data: the admin manages him
        self.assertIn('<datalist id="units">', r.text)

        # Refusals change nothing.
        before = self.audit_len()
        bad = [({"action": "transfer", "to_unit": VHTTDL}, 400, "Cần ghi số quyết định"),
               ({"action": "transfer", "to_unit": "999.99.99.H99", "decision": "9/QĐ"}, 404, "999.99.99.H99"),
               ({"action": "transfer", "to_unit": VHTTDL, "decision": "9/QĐ", "date": "2026-02-30"}, 400, "ngày có thật"),
               ({"action": "transfer", "to_unit": "000.01.02.H99", "decision": "9/QĐ", "from": NOI_VU}, 409, "xung đột"),
               ({"action": "appointment", "decision": "9/QĐ"}, 400, "chức vụ"),
               ({"action": "retire", "decision": "9/QĐ", "successor": "nobody-here"}, 404, "nobody-here")]
        for fields, status, text in bad:
            r = self.post_change(b, an, **fields)
            self.assertEqual(r.status_code, status, (fields, r.text[-3000:]))
            self.assertIn('role="alert"', r.text)
            self.assertIn(text, r.text)
            self.assertIn("<details class=\"dialog\" open>", r.text)  # the form comes back open, filled in
        r = self.post_change(b, an, action="hire")
        self.assertEqual(r.status_code, 400)
        self.assertIn("Thao tác không hợp lệ", r.text)
        r = b.post(f"{self.issuer}/admin/person/{an['id']}",
                   data={"csrf": "forged", "action": "transfer", "to_unit": VHTTDL, "decision": "9/QĐ"})
        self.assertEqual(r.status_code, 403)
        r = b.post(f"{self.issuer}/admin/person/{an['id']}", headers={"Origin": "https://evil.example"},
                   data={"csrf": self.csrf(b.get(f"{self.issuer}/admin/person/{an['id']}").text), "action": "transfer",
                         "to_unit": VHTTDL, "decision": "9/QĐ"})
        self.assertEqual(r.status_code, 403)
        self.assertEqual(self.audit_len(), before)
        self.assertEqual(support.run_json("person", "show", an["id"], data=self.data)["unit"], VAN_PHONG_NV)

        # The transfer out of the admin's units, once the admin also holds Sở Văn hóa (the target);
        # that grant then ends, and the person is out of the admin's scope.
        support.run("admin", "grant", self.hr["login"], "hr-admin", "--unit", VHTTDL, "--decision", "2/QĐ", data=self.data)
        r = self.post_change(b, an, action="transfer", to_unit=VHTTDL, position="Chuyên viên", decision="15/QĐ-UBND",
                             reason="Theo nhu cầu công tác")
        self.assertEqual(r.status_code, 303, r.text)
        support.run("admin", "revoke", self.hr["login"], "hr-admin", "--unit", VHTTDL, data=self.data)
        self.assertEqual(b.get(f"{self.issuer}/admin/person/{an['id']}").status_code, 403)
        after = support.run_json("person", "show", an["id"], data=self.data)
        self.assertEqual((after["unit"], after["position"], after["address"], after["id"]),
                         (VHTTDL, "Chuyên viên", an["address"], an["id"]))
        log = support.run_json("audit", "log", "--target", an["id"], data=self.data)
        self.assertEqual(log[-1]["actor"], "admin:" + self.hr["login"])
        self.assertEqual(log[-1]["reason"], "15/QĐ-UBND")
        self.assertEqual(log[-1]["detail"]["note"], "Theo nhu cầu công tác")
        hits, _ = self.search(b, "nguyen van an")
        self.assertEqual(hits, [])

        # A scheduled appointment inside the subtree, shown as pending, then cancelled.
        duc = self.people["DM0006"]
        r = self.post_change(b, duc, action="appointment", position="Phó Trưởng phòng", decision="16/QĐ-SNV",
                             date="2099-01-02")
        self.assertEqual(r.status_code, 303, r.text)
        page = b.get(self.issuer + r.headers["Location"]).text
        self.assertIn("đã lên lịch", page)
        self.assertIn("2099-01-02", page)
        pending = b.get(self.issuer + "/admin/pending").text
        number = re.search(r'name="cancel" value="(\d+)"', pending).group(1)
        self.assertIn("Phó Trưởng phòng", pending)
        r = b.post(self.issuer + "/admin/pending", data={"csrf": self.csrf(pending), "cancel": number,
                                                        "return_to": "/admin/pending"}, allow_redirects=False)
        self.assertEqual(r.status_code, 303)
        self.assertNotIn('name="cancel"', b.get(self.issuer + r.headers["Location"]).text)
        self.assertEqual(support.run_json("events", "pending", data=self.data)["scheduled"], [])
        self.assertEqual(support.run_json("person", "show", duc["id"], data=self.data)["position"], "Chuyên viên chính")

        # The unit tree: the admin's subtree with its counts (6 people, one of them transferred out).
        tree = b.get(self.issuer + "/admin/units").text
        self.assertIn("Sở Nội vụ", tree)
        self.assertNotIn("Sở Văn hóa", tree)
        self.assertRegex(tree, r"Sở Nội vụ</a> <span class=\"code\">000\.00\.02\.H99</span> <span class=\"count\">1 người · 5 cả")
        self.assertRegex(tree, r"Văn phòng</a> <span class=\"code\">000\.02\.02\.H99</span> <span class=\"count\">1 người")

        # The audit view and verification.
        audit = b.get(self.issuer + "/admin/audit").text
        self.assertIn("15/QĐ-UBND", audit)
        self.assertIn("admin.login", audit)
        r = b.post(self.issuer + "/admin/audit", data={"csrf": self.csrf(audit)})
        self.assertIn("Chuỗi nhật ký toàn vẹn", r.text)

        # Signing out ends the console's session; the IdP then asks about the single sign-on.
        home = b.get(self.issuer + "/admin").text
        r = b.post(self.issuer + "/admin/logout", data={"csrf": self.csrf(home)}, allow_redirects=False)
        self.assertEqual(r.status_code, 303)
        self.assertTrue(r.headers["Location"].startswith("/oidc/logout"))
        r = b.get(self.issuer + "/admin", allow_redirects=False)
        self.assertTrue(r.headers["Location"].startswith("/admin/login"))

    def test_session_and_login_security(self):
        # No role: the login succeeds at the IdP, the console refuses.
        b, r = self.sign_in(self.people["DM0003"]["login"])
        self.assertEqual(r.status_code, 403)
        self.assertIn("không có quyền quản trị", r.text)
        self.assertFalse([c for c in b.cookies if c.name == "__Host-congvu-admin" and c.value.startswith("S.")])

        # The state is bound to the browser that started the login; a code is good once.
        self.otp = web_login.Enrolment()
        b = web_login.browser(self.ca)
        r = b.get(self.issuer + "/admin/login", allow_redirects=False)
        authorize = urllib.parse.urljoin(self.issuer, r.headers["Location"])
        callback, _ = web_login.follow(b, self.issuer, authorize, self.hr["login"], PASSWORD, self.otp)
        self.assertTrue(callback.startswith(self.issuer + "/admin/callback?"), callback)
        other = web_login.browser(self.ca)
        self.assertEqual(other.get(callback, allow_redirects=False).status_code, 400)  # no login cookie
        r = b.get(callback, allow_redirects=False)
        self.assertEqual(r.status_code, 303, r.text)
        session_cookie = b.cookies.get("__Host-congvu-admin")
        replay = web_login.browser(self.ca)
        replay.cookies.set("__Host-congvu-admin", "L." + "x" * 43)
        self.assertEqual(replay.get(callback, allow_redirects=False).status_code, 400)
        home = b.get(self.issuer + "/admin")
        self.assertEqual(home.status_code, 200)

        # A forged or unknown cookie gets the login, never the console.
        forged = web_login.browser(self.ca)
        forged.cookies.set("__Host-congvu-admin", "S." + session_cookie[2:-4] + "AAAA")
        self.assertTrue(forged.get(self.issuer + "/admin", allow_redirects=False).headers["Location"]
                        .startswith("/admin/login"))
        # POST without a session: refused, not redirected.
        self.assertEqual(forged.post(self.issuer + "/admin/logout", data={"csrf": "x"}).status_code, 403)

        # Revoking the role ends access at the next request.
        support.run("admin", "revoke", self.hr["login"], "hr-admin", "--unit", NOI_VU, data=self.data)
        self.assertEqual(b.get(self.issuer + "/admin").status_code, 403)
        support.run("admin", "grant", self.hr["login"], "hr-admin", "--unit", NOI_VU, data=self.data)
        self.assertEqual(b.get(self.issuer + "/admin").status_code, 200)

        # Signing out at the IdP (RP-initiated logout) ends the console's session too.
        page = b.get(self.issuer + "/oidc/logout").text
        r = b.post(self.issuer + "/oidc/logout", data={**web_login.form_fields(page)}, allow_redirects=False)
        self.assertIn(r.status_code, (200, 303))
        self.assertTrue(b.get(self.issuer + "/admin", allow_redirects=False).headers["Location"]
                        .startswith("/admin/login"))
        # The session cookie alone, in another browser, is no good either once the SSO ended.
        thief = web_login.browser(self.ca)
        thief.cookies.set("__Host-congvu-admin", session_cookie)
        self.assertEqual(thief.get(self.issuer + "/admin", allow_redirects=False).status_code, 303)

    def test_retire_with_successor(self):
        b, r = self.sign_in()
        self.assertEqual(r.status_code, 200, r.text)
        tuan, ha2 = self.people["DM0008"], self.people["DM0005"]
        r = self.post_change(b, tuan, action="retire", decision="20/QĐ-SNV", successor=ha2["login"])
        self.assertEqual(r.status_code, 303, r.text)
        page = b.get(self.issuer + r.headers["Location"]).text
        self.assertIn("Đã nghỉ hưu", page)
        self.assertIn(html.escape(ha2["address"]), page)
        self.assertIn("Giữ hộp thư đến", page)
        shown = support.run_json("person", "show", tuan["id"], data=self.data)
        self.assertEqual(shown["status"], "retired")
        # Retired people are found only when asked for.
        self.assertEqual(self.search(b, "vo minh tuan")[0], [])
        self.assertEqual([h[0] for h in self.search(b, "vo minh tuan", status="all")[0]], [tuan["id"]])


if __name__ == "__main__":
    support.main()
