"""A real relying party in a real browser: Apache httpd with Debian's mod_auth_openidc protects a
page; headless Chromium (Debian's, driven by playwright-core) signs in on Congvu's login page with
the keyboard alone, enrols TOTP, comes back with the claims; the login page and the TOTP
enrolment pass axe-core with no serious or critical finding and do not scroll sideways at
360 px; after `congvu person transfer`, Apache's session ends by back-channel logout and the
next visit shows the new unit. Chromium trusts Congvu's local CA through its own NSS database
(certificates are verified, nothing is ignored)."""
import json
import os
import secrets
import shutil
import subprocess

import support

HERE = os.path.dirname(os.path.abspath(__file__))
BROWSER = os.path.join(HERE, "..", "browser")
MODULES = "/usr/lib/apache2/modules"
PASSWORD = "CongVu-demo-2026"


class BrowserOidcTest(support.ServerTest):
    def setUp(self):
        super().setUp()
        os.chmod(self.tmp, 0o755)  # Apache's worker user reads its files here
        self.start_https()

    def tearDown(self):
        if getattr(self, "apache", None):
            subprocess.run(["apache2", "-f", self.apache_conf, "-k", "stop"], capture_output=True,
                           env=self.apache_env)
            self.apache.wait(timeout=15)
        self.stop(self.proc)
        super().tearDown()

    def start_apache(self, secret):
        root = os.path.join(self.tmp, "apache")
        os.makedirs(os.path.join(root, "htdocs", "protected"))
        ca = os.path.join(root, "ca.pem")
        shutil.copy(self.info["ca"], ca)
        os.chmod(ca, 0o644)
        with open(os.path.join(root, "htdocs", "protected", "index.shtml"), "w") as f:
            f.write('<!doctype html><meta charset="utf-8"><title>Ứng dụng</title><pre>\n' +
                    "".join(f'{c}=<!--#echo encoding="none" var="OIDC_CLAIM_{c}" -->\n'
                            for c in ("sub", "name", "preferred_username", "unit_code", "unit_name", "position",
                                      "amr")) + "</pre>\n")
        base = f"http://127.0.0.1:{self.aport}"
        conf = f"""
ServerRoot {root}
ServerName 127.0.0.1
Listen 127.0.0.1:{self.aport}
PidFile {root}/httpd.pid
ErrorLog {root}/error.log
LogLevel warn auth_openidc:info
DefaultRuntimeDir {root}
LoadModule mpm_event_module {MODULES}/mod_mpm_event.so
LoadModule authn_core_module {MODULES}/mod_authn_core.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule authz_user_module {MODULES}/mod_authz_user.so
LoadModule mime_module {MODULES}/mod_mime.so
LoadModule include_module {MODULES}/mod_include.so
LoadModule dir_module {MODULES}/mod_dir.so
LoadModule auth_openidc_module {MODULES}/mod_auth_openidc.so
User www-data
Group www-data
DocumentRoot {root}/htdocs
DirectoryIndex index.shtml
TypesConfig /etc/mime.types
AddType text/html .shtml
AddOutputFilter INCLUDES .shtml
<Directory {root}/htdocs>
  Options +Includes
  Require all granted
</Directory>
OIDCProviderMetadataURL {self.issuer}/.well-known/openid-configuration
OIDCCABundlePath {ca}
OIDCSSLValidateServer On
OIDCClientID apache
OIDCClientSecret {secret}
OIDCRedirectURI {base}/protected/redirect_uri
OIDCCryptoPassphrase {secrets.token_hex(16)}
OIDCScope "openid profile email unit"
OIDCPKCEMethod S256
OIDCSessionType server-cache
OIDCPassClaimsAs environment
<Location /protected>
  AuthType openid-connect
  Require valid-user
</Location>
"""
        self.apache_conf = os.path.join(root, "httpd.conf")
        with open(self.apache_conf, "w") as f:
            f.write(conf)
        self.apache_env = {**os.environ, "APACHE_RUN_DIR": root, "APACHE_LOCK_DIR": root, "APACHE_LOG_DIR": root}
        self.apache = subprocess.Popen(["apache2", "-f", self.apache_conf, "-DFOREGROUND"], env=self.apache_env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.apache_root = root
        support.wait_for_http(base + "/", self.apache, os.path.join(root, "error.log"))
        return base

    def test_login_totp_claims_and_transfer(self):
        self.aport = support.free_port()
        base = f"http://127.0.0.1:{self.aport}"
        secret = support.run_json("client", "add", "apache", "--name", "Hệ thống quản lý văn bản",
                                  "--redirect-uri", base + "/protected/redirect_uri",
                                  "--backchannel-logout-uri", base + "/protected/redirect_uri?logout=backchannel",
                                  "--scope", "openid,profile,email,unit", "--first-party", "--require-mfa",
                                  data=self.data)["client_secret"]
        self.start_apache(secret)
        env = {**os.environ, "BROWSER_TEST": json.dumps({
            "protected": base + "/protected/", "issuer": self.issuer, "home": support.nss_home(self.tmp, [self.info["ca"]]),
            "congvu": support.BIN, "data": self.data, "log": self.log, "password": PASSWORD})}
        p = subprocess.run(["node", os.path.join(BROWSER, "oidc_login.mjs")], env=env, capture_output=True, text=True,
                           timeout=300)
        if p.returncode != 0:
            with open(os.path.join(self.apache_root, "error.log")) as f:
                apache_log = f.read()[-3000:]
            self.fail(f"browser test failed:\n{p.stdout}\n{p.stderr}\n--- apache\n{apache_log}\n--- congvu\n{self.read_log()[-3000:]}")
        out = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertEqual(out["axe_login"], [])
        self.assertLessEqual(out["login_scroll_width"], 360)
        self.assertEqual(out["recovery_codes"], 10)
        self.assertIn("unit_code=000.00.01.H99", out["before"])
        self.assertIn("unit_code=000.00.02.H99", out["after"])
        self.assertIn("position=Chuyên viên", out["after"])


if __name__ == "__main__":
    support.main()
