"""Signing in on Congvu's login page without a browser (requests): the login form, the TOTP
step or the enrolment of an authenticator (with its recovery codes), consent; and TOTP codes.
Shared by the IdP and admin console tests and the admin benchmark."""
import base64
import hashlib
import hmac
import html
import re
import struct
import time
import urllib.parse

import requests


def browser(ca):
    b = requests.Session()
    b.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override `verify`
    b.verify = ca
    return b


def totp(secret_b32, offset=0, at=None):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    step = int(time.time() if at is None else at) // 30 + offset
    h = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = h[19] & 15
    return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7fffffff) % 1000000)


def form_fields(page):
    return {m.group(1): html.unescape(m.group(2))
            for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)}


class Enrolment:
    """Answers the second-factor pages: remembers the secret shown at enrolment and types the
    current code (or the next one, when the current step was used already)."""

    def __init__(self, secret=None):
        self.secret = secret
        self.recovery = []
        self.used = set()

    def __call__(self, page):
        m = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page)
        if m:
            self.secret = m.group(1)
        for offset in (0, 1):
            code = totp(self.secret, offset)
            if code not in self.used:
                self.used.add(code)
                if offset:
                    time.sleep(max(0.0, 30 - time.time() % 30) + 0.1)
                return code
        raise AssertionError("no fresh TOTP code")


def follow(b, issuer, url, login, password, otp=None, consent=True):
    """Follows `url` through the login page (the TOTP step or enrolment, consent) until a
    redirect leaves the IdP's pages; returns (that URL, the last response). `otp(page)` gives the
    code to type on a TOTP or enrolment page (an Enrolment keeps the recovery codes)."""
    r = b.get(url, allow_redirects=False)
    for _ in range(12):
        if r.status_code in (302, 303):
            loc = urllib.parse.urljoin(r.url, r.headers["Location"])
            path = urllib.parse.urlparse(loc).path
            if not loc.startswith(issuer) or not (path.startswith("/login") or path.startswith("/mfa")
                                                  or path.startswith("/oidc/authorize")):
                return loc, r
            r = b.get(loc, allow_redirects=False)
            continue
        if r.status_code != 200:
            raise AssertionError(f"unexpected {r.status_code} at {r.url}: {r.text[:2000]}")
        fields = form_fields(r.text)
        if 'action="/login"' in r.text:
            fields.update(login=login, password=password)
            r = b.post(issuer + "/login", data=fields, allow_redirects=False)
        elif 'action="/login/otp"' in r.text or 'action="/mfa/enrol"' in r.text:
            if otp is None:
                raise AssertionError("unexpected second factor page")
            action = "/login/otp" if 'action="/login/otp"' in r.text else "/mfa/enrol"
            fields["code"] = otp(r.text)
            r = b.post(issuer + action, data=fields, allow_redirects=False)
            if r.status_code == 200 and "codes" in r.text:  # recovery codes after enrolment
                if isinstance(otp, Enrolment):
                    otp.recovery = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", r.text)
                nxt = re.search(r'class="button" href="([^"]+)"', r.text).group(1)
                r = b.get(issuer + html.unescape(nxt), allow_redirects=False)
        elif 'action="/consent"' in r.text:
            fields["decision"] = "allow" if consent else "deny"
            r = b.post(issuer + "/consent", data=fields, allow_redirects=False)
        else:
            raise AssertionError("unexpected page: " + r.text[:2000])
    raise AssertionError("too many steps")


def admin_session(b, issuer, login, password, otp, start="/admin"):
    """Opens ISSUER + start in the admin console, signing in on the way when asked; returns the
    first answer that is not a redirect."""
    url = issuer + start
    for _ in range(12):
        if urllib.parse.urlparse(url).path.startswith(("/login", "/mfa", "/oidc/authorize")):
            url, _ = follow(b, issuer, url, login, password, otp)
            continue
        r = b.get(url, allow_redirects=False)
        if r.status_code not in (302, 303):
            return r
        url = urllib.parse.urljoin(r.url, r.headers["Location"])
    raise AssertionError("too many redirects")
