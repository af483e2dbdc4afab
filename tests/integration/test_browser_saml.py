"""SAML and OpenID Connect side by side in a real browser. One Apache httpd over https serves
/saml-app (Debian's mod_auth_mellon, a SAML SP registered from the metadata mellon made) and
/oidc-app (mod_auth_openidc). Headless Chromium (driven by tests/browser/saml_login.mjs):
  - opens the SAML app, signs in on Congvu's login page with the keyboard, sees the released
    attributes (mail, unit code and name, position, groups) and the authentication context;
  - opens the OIDC app: no second password prompt;
  - `congvu person transfer`: Congvu sends a SOAP LogoutRequest to mellon (its session ends) and
    the next visit comes back, silently, with the new unit;
  - single logout started at the SAML app: mellon's LogoutRequest ends the SSO session, the OIDC
    app gets its back-channel logout, mellon gets its LogoutResponse; both apps then ask for the
    password again.
TLS is verified everywhere: Chromium trusts Congvu's CA and the test CA of Apache's certificate
through its NSS database; Apache (mod_auth_openidc) trusts Congvu's CA."""
import json
import os
import secrets
import shutil
import subprocess
import urllib.request
import ssl

import support

HERE = os.path.dirname(os.path.abspath(__file__))
BROWSER = os.path.join(HERE, "..", "browser")
MODULES = "/usr/lib/apache2/modules"
PASSWORD = "CongVu-demo-2026"


class BrowserSamlTest(support.ServerTest):
    def setUp(self):
        super().setUp()
        os.chmod(self.tmp, 0o755)  # Apache's worker user reads its files here
        self.start_https()
        self.apache = None

    def tearDown(self):
        if self.apache:
            subprocess.run(["apache2", "-f", self.apache_conf, "-k", "stop"], capture_output=True, env=self.apache_env)
            self.apache.wait(timeout=15)
        self.stop(self.proc)
        super().tearDown()

    def openssl(self, *args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    def web_ca(self, root):
        """A CA of the test's own and a certificate for 127.0.0.1 for Apache."""
        ca_key, ca_crt = os.path.join(root, "webca.key"), os.path.join(root, "webca.crt")
        self.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt, "-days", "2",
                     "-subj", "/CN=Congvu test web CA", "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign")
        key, csr, crt = (os.path.join(root, n) for n in ("web.key", "web.csr", "web.crt"))
        self.openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
        ext = os.path.join(root, "web.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        self.openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial", "-out", crt,
                     "-days", "2", "-extfile", ext)
        for p in (key, crt):
            os.chmod(p, 0o644)
        return ca_crt, key, crt

    def start_apache(self, secret):
        root = os.path.join(self.tmp, "apache")
        for d in ("saml-app", "oidc-app"):
            os.makedirs(os.path.join(root, "htdocs", d))
        ca = os.path.join(root, "congvu-ca.pem")
        shutil.copy(self.info["ca"], ca)
        os.chmod(ca, 0o644)
        self.web_ca_crt, web_key, web_crt = self.web_ca(root)
        with open(os.path.join(root, "htdocs", "saml-app", "index.shtml"), "w") as f:
            f.write('<!doctype html><meta charset="utf-8"><title>Một cửa</title><pre>\n' +
                    "".join(f'{v}=<!--#echo encoding="none" var="{v}" -->\n'
                            for v in ("MELLON_NAME_ID", "MELLON_mail", "MELLON_departmentNumber", "MELLON_ou",
                                      "MELLON_title", "MELLON_displayName")) + "</pre>\n")
        with open(os.path.join(root, "htdocs", "oidc-app", "index.shtml"), "w") as f:
            f.write('<!doctype html><meta charset="utf-8"><title>Văn bản</title><pre>\n' +
                    "".join(f'{c}=<!--#echo encoding="none" var="OIDC_CLAIM_{c}" -->\n'
                            for c in ("sub", "unit_code")) + "</pre>\n")
        # mellon's own metadata tool makes the SP key, certificate and metadata; the SOAP logout
        # endpoint is added by hand (mellon serves SOAP logout at the same path).
        mellon = os.path.join(root, "mellon")
        os.makedirs(mellon)
        subprocess.run(["mellon_create_metadata", self.base + "/saml-app", self.base + "/saml-app/mellon"],
                       cwd=mellon, check=True, capture_output=True)
        stem = os.path.join(mellon, [n for n in os.listdir(mellon) if n.endswith(".xml")][0][:-4])
        with open(stem + ".xml") as f:
            md = f.read()
        md = md.replace("<SingleLogoutService", '<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" '
                        f'Location="{self.base}/saml-app/mellon/logout"/>\n    <SingleLogoutService', 1)
        with open(stem + ".xml", "w") as f:
            f.write(md)
        for n in os.listdir(mellon):
            os.chmod(os.path.join(mellon, n), 0o644)
        support.run("sp", "add", "--metadata", stem + ".xml", "--name", "Cổng dịch vụ công",
                    "--logout-events", "transfer,suspend,retire", data=self.data)
        idp_md = os.path.join(mellon, "idp.xml")
        ctx = ssl.create_default_context(cafile=self.info["ca"])
        with urllib.request.urlopen(self.issuer + "/saml/metadata", context=ctx) as r, open(idp_md, "wb") as f:
            f.write(r.read())
        os.chmod(idp_md, 0o644)
        conf = f"""
ServerRoot {root}
ServerName 127.0.0.1
Listen 127.0.0.1:{self.aport}
PidFile {root}/httpd.pid
ErrorLog {root}/error.log
LogLevel warn auth_openidc:info auth_mellon:info
DefaultRuntimeDir {root}
LoadModule mpm_event_module {MODULES}/mod_mpm_event.so
LoadModule authn_core_module {MODULES}/mod_authn_core.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule authz_user_module {MODULES}/mod_authz_user.so
LoadModule mime_module {MODULES}/mod_mime.so
LoadModule include_module {MODULES}/mod_include.so
LoadModule dir_module {MODULES}/mod_dir.so
LoadModule socache_shmcb_module {MODULES}/mod_socache_shmcb.so
LoadModule ssl_module {MODULES}/mod_ssl.so
LoadModule auth_openidc_module {MODULES}/mod_auth_openidc.so
LoadModule auth_mellon_module {MODULES}/mod_auth_mellon.so
User www-data
Group www-data
SSLEngine on
SSLCertificateFile {web_crt}
SSLCertificateKeyFile {web_key}
SSLSessionCache shmcb:{root}/ssl_scache(512000)
DocumentRoot {root}/htdocs
DirectoryIndex index.shtml
TypesConfig /etc/mime.types
AddType text/html .shtml
AddOutputFilter INCLUDES .shtml
<Directory {root}/htdocs>
  Options +Includes
  Require all granted
</Directory>
MellonCacheSize 100
<Location /saml-app>
  AuthType Mellon
  MellonEnable auth
  Require valid-user
  MellonEndpointPath /saml-app/mellon
  MellonSPPrivateKeyFile {stem}.key
  MellonSPCertFile {stem}.cert
  MellonSPMetadataFile {stem}.xml
  MellonIdPMetadataFile {idp_md}
  MellonSecureCookie On
  MellonCookieSameSite None
  MellonSignatureMethod rsa-sha256
  MellonMergeEnvVars On ;
  MellonSetEnvNoPrefix MELLON_mail urn:oid:0.9.2342.19200300.100.1.3
  MellonSetEnvNoPrefix MELLON_departmentNumber urn:oid:2.16.840.1.113730.3.1.2
  MellonSetEnvNoPrefix MELLON_ou urn:oid:2.5.4.11
  MellonSetEnvNoPrefix MELLON_title urn:oid:2.5.4.12
  MellonSetEnvNoPrefix MELLON_displayName urn:oid:2.16.840.1.113730.3.1.241
</Location>
OIDCProviderMetadataURL {self.issuer}/.well-known/openid-configuration
OIDCCABundlePath {ca}
OIDCSSLValidateServer On
OIDCClientID apache
OIDCClientSecret {secret}
OIDCRedirectURI {self.base}/oidc-app/redirect_uri
OIDCCryptoPassphrase {secrets.token_hex(16)}
OIDCScope "openid profile email unit"
OIDCPKCEMethod S256
OIDCSessionType server-cache
OIDCPassClaimsAs environment
<Location /oidc-app>
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
        support.wait_for_http(self.base + "/", self.apache, os.path.join(root, "error.log"),
                              context=ssl.create_default_context(cafile=self.web_ca_crt))

    def test_saml_and_oidc_share_one_login_transfer_and_single_logout(self):
        self.aport = support.free_port()
        self.base = f"https://127.0.0.1:{self.aport}"
        secret = support.run_json("client", "add", "apache", "--name", "Hệ thống quản lý văn bản",
                                  "--redirect-uri", self.base + "/oidc-app/redirect_uri",
                                  "--backchannel-logout-uri", self.base + "/oidc-app/redirect_uri?logout=backchannel",
                                  "--scope", "openid,profile,email,unit", "--first-party",
                                  data=self.data)["client_secret"]
        # Congvu calls Apache (SOAP and back-channel logout): restart it trusting the web CA.
        self.start_apache(secret)
        self.stop(self.proc)
        self.proc, self.info = self.start(config=os.path.join(self.tmp, "congvu.toml"),
                                          env={"SSL_CERT_FILE": self.combined_ca()})
        env = {**os.environ, "BROWSER_TEST": json.dumps({
            "saml": self.base + "/saml-app/", "oidc": self.base + "/oidc-app/", "base": self.base,
            "issuer": self.issuer, "home": support.nss_home(self.tmp, [self.info["ca"], self.web_ca_crt]), "congvu": support.BIN, "data": self.data,
            "log": self.log, "password": PASSWORD})}
        p = subprocess.run(["node", os.path.join(BROWSER, "saml_login.mjs")], env=env, capture_output=True, text=True,
                           timeout=300)
        if p.returncode != 0:
            with open(os.path.join(self.apache_root, "error.log")) as f:
                apache_log = f.read()[-4000:]
            self.fail(f"browser test failed:\n{p.stdout}\n{p.stderr}\n--- apache\n{apache_log}\n--- congvu\n{self.read_log()[-3000:]}")
        out = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertIn("MELLON_departmentNumber=000.00.01.H99", out["saml_before"])
        self.assertIn("MELLON_displayName=Nguyễn Văn An", out["saml_before"])
        self.assertIn("MELLON_ou=Văn phòng", out["saml_before"])
        self.assertIn("unit_code=000.00.01.H99", out["oidc"])
        self.assertEqual(out["prompts_before_logout"], 1)
        self.assertIn("MELLON_departmentNumber=000.00.02.H99", out["saml_after"])
        self.assertTrue(out["logged_out_saml"])
        self.assertTrue(out["logged_out_oidc"])

    def combined_ca(self):
        path = os.path.join(self.tmp, "trust.pem")
        with open(path, "w") as out:
            for p in ("/etc/ssl/certs/ca-certificates.crt", self.info["ca"], self.web_ca_crt):
                if os.path.exists(p):
                    with open(p) as f:
                        out.write(f.read() + "\n")
        return path


if __name__ == "__main__":
    support.main()
