// What the browser tests share: the config from BROWSER_TEST, a findings object printed as one
// JSON line, expect() that stops at the first failed expectation, Chromium (Debian's) trusting
// the test CA through HOME's NSS database, TOTP codes, and an axe-core audit.
import { chromium } from 'playwright-core';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export const cfg = JSON.parse(process.env.BROWSER_TEST);
export const out = {};

export function expect(cond, what) {
  if (!cond) {
    console.log(JSON.stringify(out));
    console.error('FAILED: ' + what);
    process.exit(1);
  }
}

export function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run'],
    env: { ...process.env, HOME: cfg.home },
  });
}

export function totp(base32) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000)));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[19] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// Serious and critical findings. The pages forbid scripts (CSP); evaluation through the
// DevTools protocol is not a page script, and the test's context bypasses CSP for the audit only.
export async function axe(page) {
  await page.evaluate(axeSource);
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id + ': ' + v.help + ' at ' + v.nodes.map((n) => n.target.join(' ')).join(', '));
}
