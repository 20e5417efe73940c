// Browser test of the agency node's intake page: headless Debian Chromium driven by
// Playwright, with the KEYBOARD ONLY (Tab to reach a control, typing, arrow keys, Space and
// Enter; no clicks, no programmatic focus or fill).
//   node intake_page.test.mjs FIXTURE_BINARY WORK_DIR
// Starts the fixture (an agency node with the page and the account juf.anna) and checks:
//  - a wrong password is refused with 401 and a message; the right one signs in,
//  - the page says what leaves the organisation and what does not,
//  - a form without its required fields is refused with 400, naming each field,
//  - a complete signal gives a receipt with a local reference,
//  - the signal can be corrected and then withdrawn,
//  - the page switches to English,
//  - an operator (beheer.eva) adds an account and removes it again on the accounts page,
//  - the node's log holds none of the values typed about the person.
// Screenshots of every step are kept in WORK_DIR (*.png).
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import {chromium} from 'playwright-core';

const [fixture, work] = process.argv.slice(2);
if (!fixture || !work) {
  console.error('usage: node intake_page.test.mjs FIXTURE WORK_DIR');
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'balie password 2026';
const PERSON = {
  'f-national_id': '111222333',
  'f-given_names': 'Zoëlle Marijke',
  'f-surname': 'Vandermeulenbroek',
  'f-date_of_birth': '17-04-2011',
  'f-phone': '0612345678',
};

fs.rmSync(work, {recursive: true, force: true});
fs.mkdirSync(work, {recursive: true});
const proc = spawn(fixture, [path.join(work, 'fixture')], {stdio: ['pipe', 'inherit', 'inherit']});
let exited = false;
proc.on('exit', () => { exited = true; });

async function waitForReady() {
  const ready = path.join(work, 'fixture', 'ready.json');
  for (let i = 0; i < 600; ++i) {
    if (exited) throw new Error('fixture exited early');
    if (fs.existsSync(ready)) return JSON.parse(fs.readFileSync(ready, 'utf8'));
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error('fixture not ready after 60 s');
}

let browser;
let failures = 0;
let shot = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}\n     ${e.message.split('\n').join('\n     ')}`);
  }
}

// Presses Tab until the element with `id` has the focus: proves it is reachable by keyboard.
async function tabTo(page, id) {
  for (let i = 0; i < 250; ++i) {
    if (await page.evaluate(() => document.activeElement && document.activeElement.id) === id) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`#${id} not reachable with Tab`);
}
// Presses `key` and waits for the POST it triggers (a form submission); its status.
async function submitWith(page, key) {
  const [resp] = await Promise.all([
    page.waitForResponse(r => r.request().method() === 'POST'),
    page.keyboard.press(key),
  ]);
  await page.waitForLoadState('load');
  return resp.status();
}
async function snap(page, name) {
  const file = path.join(work, `${String(++shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({path: file, fullPage: true});
}
// Chooses the option with `value` in a closed <select> with the arrow keys.
async function choose(page, id, value) {
  await tabTo(page, id);
  for (let i = 0; i < 30; ++i) {
    if (await page.evaluate(i => document.getElementById(i).value, id) === value) return;
    await page.keyboard.press('ArrowDown');
  }
  throw new Error(`option ${value} of #${id} not reachable with the arrow keys`);
}

try {
  const ready = await waitForReady();
  const origin = `https://127.0.0.1:${ready.port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--no-first-run'],
  });
  // The page's certificate is issued by the test's own CA.
  const context = await browser.newContext({ignoreHTTPSErrors: true, viewport: {width: 1000, height: 900}});
  const page = await context.newPage();
  let reference = '';

  await check('wrong password: 401 and a message; then signed in', async () => {
    await page.goto(origin + '/');
    assert.match(page.url(), /\/login$/);
    // The name field has the focus on arrival.
    assert.equal(await page.evaluate(() => document.activeElement.id), 'name');
    await page.keyboard.type('juf.anna');
    await page.keyboard.press('Tab');
    await page.keyboard.type('not the password');
    assert.equal(await submitWith(page, 'Enter'), 401);
    assert.match(await page.textContent('#login-error'), /Naam of wachtwoord klopt niet/);
    await snap(page, 'wrong-password');
    await tabTo(page, 'password');
    await page.keyboard.type(PASSWORD);
    assert.equal(await submitWith(page, 'Enter'), 303);
    assert.match(await page.textContent('h1'), /Signaal melden/);
  });

  await check('the page says what leaves the organisation', async () => {
    const text = await page.textContent('.privacy');
    assert.match(text, /Wat verlaat uw organisatie\?/);
    assert.match(text, /Alleen versleutelde kenmerken \(tokens\) en de categorieën/);
    assert.match(text, /blijft binnen uw organisatie/);
    assert.match(await page.textContent('#person-hint'), /Het meest helpen: het BSN/);
    await snap(page, 'form');
  });

  await check('required fields missing: 400 naming each field', async () => {
    await tabTo(page, 'f-surname');
    await page.keyboard.type(PERSON['f-surname']);
    assert.equal(await submitWith(page, 'Enter'), 400);
    const summary = await page.textContent('#error-summary');
    assert.match(summary, /Maand van het signaal is verplicht/);
    assert.match(summary, /Vorm van uitbuiting is verplicht/);
    // What was typed is still there.
    assert.equal(await page.inputValue('#f-surname'), PERSON['f-surname']);
    await snap(page, 'missing-fields');
  });

  await check('a complete signal gives a receipt with a reference', async () => {
    for (const [id, value] of Object.entries(PERSON)) {
      if (id === 'f-surname') continue;
      await tabTo(page, id);
      await page.keyboard.type(value);
    }
    await tabTo(page, 'f-signal_month');
    await page.keyboard.type('2024-03');
    await choose(page, 'f-form', 'criminal');
    await choose(page, 'f-contact', 'direct');
    await choose(page, 'f-area', 'oost');
    await tabTo(page, 'c-forced_crime-drugs');
    await page.keyboard.press('Space');
    await tabTo(page, 'c-coercion-debt_bondage');
    await page.keyboard.press('Space');
    await tabTo(page, 'send');
    assert.equal(await submitWith(page, 'Enter'), 303);
    assert.match(await page.textContent('#notice'), /Ontvangen/);
    reference = (await page.textContent('#reference')).trim();
    assert.match(reference, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    assert.match(await page.textContent('#form-value'), /Criminele uitbuiting/);
    await snap(page, 'receipt');
  });

  await check('the signal is corrected (same reference, another form)', async () => {
    // The correction form starts with the signal's categories.
    assert.equal(await page.inputValue('#f-form'), 'criminal');
    assert.equal(await page.isChecked('#c-forced_crime-drugs'), true);
    await choose(page, 'f-form', 'sexual_and_criminal');
    await tabTo(page, 'send');
    assert.equal(await submitWith(page, 'Enter'), 303);
    assert.match(await page.textContent('#notice'), /De correctie is ontvangen/);
    assert.equal((await page.textContent('#reference')).trim(), reference);
    assert.match(await page.textContent('#form-value'), /Seksuele én criminele uitbuiting/);
    await snap(page, 'corrected');
  });

  await check('the signal is withdrawn', async () => {
    await tabTo(page, 'withdraw');
    assert.equal(await submitWith(page, 'Enter'), 303);
    assert.match(await page.textContent('#notice'), /ingetrokken/);
    assert.match(await page.textContent('#state'), /ingetrokken/);
    assert.equal(await page.$('#withdraw'), null, 'no second withdrawal');
    await snap(page, 'withdrawn');
    await tabTo(page, 'back');
    await Promise.all([page.waitForLoadState('load'), page.keyboard.press('Enter')]);
    await page.waitForSelector('table');
    const row = await page.textContent('table');
    assert.match(row, new RegExp(reference));
    assert.match(row, /ingetrokken/);
  });

  await check('English is available', async () => {
    await tabTo(page, 'lang');
    await Promise.all([page.waitForURL(origin + '/'), page.keyboard.press('Enter')]);
    assert.match(await page.textContent('h1'), /Register a signal/);
    assert.match(await page.textContent('.privacy'), /What leaves your organisation\?/);
    assert.match(await page.textContent('label[for="f-form"]'), /Form of exploitation/);
    await snap(page, 'english');
  });

  await check('an operator adds and removes an account (keyboard only)', async () => {
    const ctx = await browser.newContext({ignoreHTTPSErrors: true, viewport: {width: 1000, height: 900}});
    const op = await ctx.newPage();
    await op.goto(origin + '/');
    assert.equal(await op.evaluate(() => document.activeElement.id), 'name');
    await op.keyboard.type('beheer.eva');
    await op.keyboard.press('Tab');
    await op.keyboard.type(PASSWORD);
    assert.equal(await submitWith(op, 'Enter'), 303);
    await op.waitForURL(origin + '/');
    await tabTo(op, 'accounts-link');
    await Promise.all([op.waitForURL(origin + '/accounts'), op.keyboard.press('Enter')]);
    assert.match(await op.textContent('h1'), /Accounts van deze pagina/);
    assert.match(await op.textContent('#accounts'), /juf\.anna\s*Professional/);
    await tabTo(op, 'f-name');
    await op.keyboard.type('balie-3');
    await choose(op, 'f-role', 'operator');
    await op.keyboard.press('ArrowUp');
    assert.equal(await op.inputValue('#f-role'), 'professional');
    await tabTo(op, 'f-password');
    await op.keyboard.type(NEW_PASSWORD);
    await tabTo(op, 'f-password_repeat');
    await op.keyboard.type(NEW_PASSWORD);
    await tabTo(op, 'add-account');
    assert.equal(await submitWith(op, 'Enter'), 303);
    await op.waitForURL(origin + '/accounts?done=added');
    assert.match(await op.textContent('#notice'), /Het account is toegevoegd/);
    assert.match(await op.textContent('#accounts'), /balie-3\s*Professional/);
    await snap(op, 'accounts');
    await tabTo(op, 'remove-balie-3');
    assert.equal(await submitWith(op, 'Enter'), 303);
    await op.waitForURL(origin + '/accounts?done=removed');
    assert.match(await op.textContent('#notice'), /Het account is verwijderd/);
    assert.doesNotMatch(await op.textContent('#accounts'), /balie-3/);
    await ctx.close();
  });
} catch (e) {
  failures++;
  console.log('FAIL setup: ' + e.stack);
} finally {
  if (browser) await browser.close();
  proc.stdin.end();
  await new Promise(r => (exited ? r() : proc.on('exit', r)));
}

await check('the node log holds no value typed about the person', async () => {
  const log = fs.readFileSync(path.join(work, 'fixture', 'node.log'), 'utf8');
  assert.match(log, /signal [A-Z0-9]{4}-[A-Z0-9]{4} entered by juf\.anna/);
  assert.match(log, /account balie-3 \(professional\) added by beheer\.eva/);
  for (const v of [...Object.values(PERSON), PASSWORD, NEW_PASSWORD, 'not the password']) {
    assert.ok(!log.includes(v), `the log holds "${v}"`);
  }
});
console.log(`screenshots: ${work}/*.png`);
console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
