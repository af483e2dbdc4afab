// Headless Chromium through Apache httpd + mod_auth_openidc to Congvu's login page and back.
// Driven by tests/integration/test_browser_oidc.py, which starts both servers and passes
// BROWSER_TEST (JSON): {protected, issuer, home, congvu, data, log}. Prints one JSON line of
// findings; exits non-zero on the first failed expectation.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { axe, cfg, expect, launch, out, totp } from './common.mjs';

const browser = await launch();
try {
  const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, bypassCSP: true, locale: 'vi-VN' });
  const page = await ctx.newPage();
  await page.goto(cfg.protected);
  await page.waitForURL((u) => u.href.startsWith(cfg.issuer + '/login'));
  out.login_url = page.url();

  // Accessibility and layout of the login page.
  out.axe_login = await axe(page);
  expect(out.axe_login.length === 0, 'axe found serious/critical issues on the login page: ' + out.axe_login);
  out.login_scroll_width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(out.login_scroll_width <= 360, 'the login page scrolls horizontally at 360 px');

  // Keyboard only: the login field has focus, Tab to the password, Enter submits.
  expect(await page.evaluate(() => document.activeElement && document.activeElement.id) === 'login', 'login field not focused');
  await page.keyboard.type('annv');
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement.id) === 'password', 'Tab does not reach the password');
  await page.keyboard.type(cfg.password);
  await page.keyboard.press('Enter');

  // The client requires a second factor: enrolment (QR + key), then the code, by keyboard.
  await page.waitForURL((u) => u.href.startsWith(cfg.issuer + '/mfa/enrol'));
  out.axe_enrol = await axe(page);
  expect(out.axe_enrol.length === 0, 'axe: enrolment page: ' + out.axe_enrol);
  expect(await page.evaluate(() => document.documentElement.scrollWidth) <= 360, 'enrolment page scrolls at 360 px');
  const key = (await page.textContent('code.secret')).trim();
  expect(await page.evaluate(() => document.activeElement.id) === 'code', 'code field not focused');
  await page.keyboard.type(totp(key));
  await page.keyboard.press('Enter');
  await page.waitForSelector('ul.codes');
  out.recovery_codes = (await page.$$('ul.codes li')).length;
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');

  // Back at the application: it shows the claims of the token.
  await page.waitForURL((u) => u.href.startsWith(cfg.protected));
  let text = await page.textContent('body');
  out.before = text;
  expect(text.includes('unit_code=000.00.01.H99'), 'the protected page does not show the unit');
  expect(text.includes('name=Nguyễn Văn An'), 'the protected page does not show the name');
  expect(text.includes('amr=pwd,otp') || text.includes('amr=pwd otp') || text.includes('otp'), 'no otp in amr');

  // A transfer: the application's session ends by back-channel logout, and the next visit
  // (a silent login on the SSO session) shows the new unit.
  execFileSync(cfg.congvu, ['person', 'transfer', 'annv', '--to', '000.00.02.H99', '--position', 'Chuyên viên',
                            '--decision', '15/QĐ-UBND', '--data', cfg.data]);
  const deadline = Date.now() + 10000;
  while (!readFileSync(cfg.log, 'utf8').includes('back-channel logout (transfer)') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));
  out.backchannel_logged = readFileSync(cfg.log, 'utf8').split('\n').filter((l) => l.includes('back-channel logout'));
  expect(out.backchannel_logged.some((l) => l.includes('sent to apache')), 'no back-channel logout reached Apache');
  await page.goto(cfg.protected);
  await page.waitForURL((u) => u.href.startsWith(cfg.protected));
  text = await page.textContent('body');
  out.after = text;
  expect(text.includes('unit_code=000.00.02.H99'), 'after the transfer the page does not show the new unit');
  console.log(JSON.stringify(out));
} finally {
  await browser.close();
}
