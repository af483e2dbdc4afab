// Headless Chromium through Apache httpd (mod_auth_mellon and mod_auth_openidc) to Congvu's
// login page and back. Driven by tests/integration/test_browser_saml.py, which starts both
// servers and passes BROWSER_TEST (JSON): {saml, oidc, base, issuer, home, congvu, data, log,
// password}. Prints one JSON line of findings; exits non-zero on the first failed expectation.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cfg, expect, launch, out } from './common.mjs';

out.password_prompts = 0;
const browser = await launch();
// Counts the login pages the browser is shown (each one is a password prompt).
function watch(page) {
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame() && f.url().startsWith(cfg.issuer + '/login?')) out.password_prompts += 1;
  });
}
async function signIn(page) {
  await page.waitForURL((u) => u.href.startsWith(cfg.issuer + '/login'));
  await page.fill('#login', 'annv');
  await page.fill('#password', cfg.password);
  await page.press('#password', 'Enter');
}
async function waitLog(text, ms) {
  const deadline = Date.now() + ms;
  while (!readFileSync(cfg.log, 'utf8').includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  return readFileSync(cfg.log, 'utf8').includes(text);
}
try {
  const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN' });
  const page = await ctx.newPage();
  watch(page);

  // SAML app: SP-initiated login, the password once, attributes released.
  await page.goto(cfg.saml);
  await signIn(page);
  await page.waitForURL((u) => u.href.startsWith(cfg.saml));
  out.saml_before = await page.textContent('body');
  expect(out.saml_before.includes('MELLON_mail=annv@'), 'the SAML app does not show the mail attribute: ' + out.saml_before);

  // OIDC app on the same SSO session: no password prompt.
  await page.goto(cfg.oidc);
  await page.waitForURL((u) => u.href.startsWith(cfg.oidc));
  out.oidc = await page.textContent('body');
  expect(out.password_prompts === 1, 'a second password prompt for the OIDC app');

  // A transfer: Congvu tells mellon over SOAP; the next visit comes back with the new unit.
  execFileSync(cfg.congvu, ['person', 'transfer', 'annv', '--to', '000.00.02.H99', '--position', 'Chuyên viên',
                            '--decision', '16/QĐ-UBND', '--data', cfg.data]);
  expect(await waitLog('SAML SOAP logout sent to', 15000), 'no SOAP logout reached mellon: ' +
         readFileSync(cfg.log, 'utf8').split('\n').filter((l) => l.includes('SOAP')).join(' | '));
  await page.goto(cfg.saml);
  await page.waitForURL((u) => u.href.startsWith(cfg.saml));
  out.saml_after = await page.textContent('body');
  expect(out.password_prompts === 1, 'the transfer asked for the password again');
  out.prompts_before_logout = out.password_prompts;

  // Single logout from the SAML app: mellon -> Congvu (ends the session, back-channel to the
  // OIDC app) -> LogoutResponse -> mellon -> ReturnTo.
  await page.goto(cfg.saml + 'mellon/logout?ReturnTo=' + encodeURIComponent(cfg.base + '/'));
  await page.waitForURL((u) => u.href === cfg.base + '/');
  await page.goto(cfg.saml);
  await page.waitForURL((u) => u.href.startsWith(cfg.issuer + '/login'));
  out.logged_out_saml = true;
  await page.goto(cfg.oidc);
  await page.waitForURL((u) => u.href.startsWith(cfg.issuer + '/login'));
  out.logged_out_oidc = true;
  console.log(JSON.stringify(out));
} catch (e) {
  const pages = browser.contexts().flatMap((c) => c.pages());
  if (pages.length) out.last_page = (await pages[0].url()) + ' ' + (await pages[0].textContent('body'));
  console.log(JSON.stringify(out));
  throw e;
} finally {
  await browser.close();
}
