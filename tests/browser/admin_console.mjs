// Headless Chromium on Congvu's admin console: an HR admin signs in through Congvu's own
// OpenID Connect login (password, TOTP enrolment), finds "nguyen van an" typed without
// diacritics, opens him, and transfers him to another unit through the transfer dialog.
// Driven by tests/integration/test_browser_admin.py, which starts the server and passes
// BROWSER_TEST (JSON): {issuer, home, login, password, to_unit, decision}. Prints one JSON line
// of findings; exits non-zero on the first failed expectation.
import { axe, cfg, expect, launch, out, totp } from './common.mjs';

const browser = await launch();
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true, locale: 'vi-VN' });
  const page = await ctx.newPage();
  await page.goto(cfg.issuer + '/admin');
  await page.waitForURL((u) => u.href.startsWith(cfg.issuer + '/login'));
  await page.fill('#login', cfg.login);
  await page.fill('#password', cfg.password);
  await page.press('#password', 'Enter');

  // Admins must use a second factor: this one enrols on the way.
  await page.waitForURL((u) => u.href.startsWith(cfg.issuer + '/mfa/enrol'));
  const key = (await page.textContent('code.secret')).trim();
  await page.fill('#code', totp(key));
  await page.press('#code', 'Enter');
  await page.waitForSelector('ul.codes');
  await page.click('a.button');
  await page.waitForURL((u) => u.pathname === '/admin');
  out.cookies = (await ctx.cookies()).map((c) => ({ name: c.name, httpOnly: c.httpOnly, secure: c.secure, sameSite: c.sameSite }));
  out.storage = await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage));
  out.axe_search = await axe(page);
  expect(out.axe_search.length === 0, 'axe: search page: ' + out.axe_search);

  // The search, without diacritics, by keyboard.
  await page.getByLabel('Họ tên, tài khoản, địa chỉ thư hoặc mã cán bộ').fill('nguyen van an');
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.searchParams.get('q') === 'nguyen van an');
  const results = page.locator('table a[href^="/admin/person/"]');
  out.results = await results.allTextContents();
  expect(out.results.length === 1 && out.results[0] === 'Nguyễn Văn An', 'search results: ' + JSON.stringify(out.results));
  out.axe_results = await axe(page);
  expect(out.axe_results.length === 0, 'axe: results: ' + out.axe_results);
  await results.first().click();
  await page.waitForURL((u) => u.pathname.startsWith('/admin/person/'));
  out.person_url = page.url();
  out.person_before = await page.textContent('dl.facts');
  out.axe_person = await axe(page);
  expect(out.axe_person.length === 0, 'axe: person page: ' + out.axe_person);

  // The transfer dialog: submitting it empty is stopped by the browser (required fields).
  await page.getByText('Điều động / luân chuyển', { exact: true }).click();
  const dialog = page.locator('details.dialog[open] form');
  await dialog.getByRole('button', { name: 'Điều động' }).click();
  out.blocked_empty = await page.evaluate(() => !document.querySelector('#move-unit').checkValidity());
  expect(out.blocked_empty && page.url() === out.person_url, 'an empty transfer form was submitted');
  await dialog.getByLabel('Đơn vị mới (mã đơn vị)').fill(cfg.to_unit);
  await dialog.getByLabel('Chức vụ mới').fill('Chuyên viên');
  await dialog.getByLabel('Số quyết định (bắt buộc)').fill(cfg.decision);
  await dialog.getByLabel('Lý do').fill('Theo nhu cầu công tác');
  await dialog.getByRole('button', { name: 'Điều động' }).click();
  await page.waitForURL((u) => u.searchParams.get('done') === 'transfer', { timeout: 15000 }).catch(async () => {
    out.stuck_at = page.url();
    out.stuck_page = (await page.textContent('main')).slice(0, 2000);
    expect(false, 'the transfer did not complete');
  });
  out.after_url = page.url();
  out.notice = await page.textContent('[role=status]');
  expect(out.notice.includes('Điều động'), 'no notice after the transfer: ' + out.notice);
  console.log(JSON.stringify(out));
} finally {
  await browser.close();
}
