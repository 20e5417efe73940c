// Browser test of the analyst dashboard: headless Debian Chromium driven by Playwright.
//   node dashboard.test.mjs FIXTURE_BINARY WORK_DIR
// Starts the fixture (in-process aggregator + dashboard, fed with signed test batches),
// loads the page with the analyst's client certificate, and checks that
//  - the numbers shown equal the Query service's answers (expected.json, from gRPC),
//  - figures are protected by the Cell Key Method: a small count (1 to k-1 in the exact,
//    unpublished table) is shown as 0 or k, no cell is withheld, no "<k" or "x" appears,
//    and the methods section says how the figures were protected,
//  - one language at a time, every word from the label table the report uses too
//    (/labels.json): Dutch by default, English on request, no raw codes such as age_band,
//  - after a refused or a failed query the page shows the message and none of the previous
//    period's figures,
//  - without a client certificate the TLS handshake is refused, and an agency
//    certificate gets 403,
// and saves a screenshot to WORK_DIR/dashboard.png.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import {chromium} from 'playwright-core';

const [fixture, work] = process.argv.slice(2);
if (!fixture || !work) {
  console.error('usage: node dashboard.test.mjs FIXTURE WORK_DIR');
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

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

function fmt(c, k) {
  if (c.secondary) return 'x';
  if (c.suppressed) return '<' + k;
  return String(c.value);
}

let browser;
let failures = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}\n     ${e.message.split('\n').join('\n     ')}`);
  }
}

try {
  const ready = await waitForReady();
  const expected = JSON.parse(fs.readFileSync(path.join(work, 'fixture', 'expected.json'), 'utf8'));
  const origin = `https://127.0.0.1:${ready.dashboard_port}`;
  const cert = who => ({origin, certPath: `${ready.pki}/${who}.crt`, keyPath: `${ready.pki}/${who}.key`});
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--no-first-run'],  // Playwright gives every launch a fresh temporary profile
  });
  const context = await browser.newContext({
    ignoreHTTPSErrors: true, clientCertificates: [cert('gemeente')], viewport: {width: 1200, height: 900},
  });
  const page = await context.newPage();
  const resp = await page.goto(`${origin}/?from=2024-01&to=2024-12&granularity=month`);
  assert.equal(resp.status(), 200);
  await page.waitForSelector('body[data-ready="1"]', {timeout: 60000});
  const k = expected.insight.min_cell_size;
  const text = async id => (await page.getByTestId(id).first().textContent()).trim();

  await check('no error shown', async () => {
    assert.equal(await page.locator('#error').isHidden(), true, await page.locator('#error').textContent());
  });
  await check('totals equal the query service', async () => {
    assert.equal(await text('kpi-persons'), fmt(expected.insight.total_persons, k));
    assert.equal(await text('kpi-signals'), fmt(expected.insight.total_signals, k));
    assert.equal(await text('kpi-ratio'), expected.insight.signals_per_person || 'x');
  });
  for (const dim of ['form', 'age_band', 'domain']) {
    await check(`bars by ${dim} equal the query service`, async () => {
      for (const row of expected[dim].rows) {
        assert.equal(await text(`${dim}:${row.keys[0]}`), fmt(row.persons, k), `${dim}=${row.keys[0]}`);
      }
    });
  }
  await check('agency counts and overlap equal the query service', async () => {
    for (const a of expected.insight.agency_counts) {
      assert.equal(await text('agencies:' + a.agencies), fmt(a.persons, k));
    }
    for (const c of expected.insight.overlap) {
      assert.equal(await text(`overlap:${c.row}:${c.column}`), fmt(c.persons, k));
    }
  });
  await check('trend equals the query service', async () => {
    for (const p of expected.insight.trend) assert.equal(await text('trend:' + p.period), fmt(p.persons, k));
  });
  await check('small counts are shown as 0 or k, nothing withheld', async () => {
    const small = expected.exact_form.rows.filter(r => r.persons.value > 0 && r.persons.value < k);
    assert.ok(small.length > 0, 'the fixture has a small form cell');
    for (const r of small) {
      const t = await text('form:' + r.keys[0]);
      assert.ok(t === '0' || t === String(k), `form=${r.keys[0]} shows ${t}`);
    }
    const body = await page.locator('body').textContent();
    assert.ok(!body.includes('<' + k), 'a withheld cell is shown');
    assert.match(await page.locator('#rules').textContent(), /celsleutelmethode/);
    assert.match(await page.locator('#legend-cellkey').textContent(), /celsleutelmethode/);
  });
  const labels = await page.evaluate(async () => (await fetch('/labels.json')).json());
  const bodyText = async () => (await page.locator('body').innerText());
  await check('Dutch by default: every word from the label table, no codes, no English', async () => {
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'nl');
    for (const dim of ['form', 'age_band', 'domain']) {
      for (const row of expected[dim].rows) {
        assert.equal(await text(`label:${dim}:${row.keys[0]}`), labels.nl[row.keys[0]], `${dim}=${row.keys[0]}`);
      }
    }
    assert.equal(labels.nl.sexual_and_criminal, 'seksueel en crimineel');
    assert.equal(labels.nl.financial, 'financiële en schuldhulp');  // one translation, report and page
    assert.equal(await text('label:form:sexual_and_criminal'), 'seksueel en crimineel');
    assert.ok((await page.locator('#rules').textContent()).startsWith(labels.nl.countingRules));
    const body = await bodyText();
    for (const code of ['age_band', 'sexual_and_criminal', 'youth_care', '27_plus']) {
      assert.ok(!body.includes(code), `raw code ${code} on the page`);
    }
    for (const english of ['Persons are linked', 'Cell Key Method', 'Persons by', 'known to', 'Trend per']) {
      assert.ok(!body.includes(english), `English "${english}" on the Dutch page`);
    }
  });
  await check('English on request: every word from the label table, no Dutch', async () => {
    await page.click('#lang-en');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    assert.equal((await page.locator('h1').textContent()).trim(), 'Signals of human trafficking');
    for (const row of expected.form.rows) {
      assert.equal(await text(`label:form:${row.keys[0]}`), labels.en[row.keys[0]], `form=${row.keys[0]}`);
    }
    assert.equal(await text('label:form:sexual_and_criminal'), 'sexual and criminal');
    assert.match(await page.locator('#rules').textContent(), /Cell Key Method/);
    const body = await bodyText();
    for (const dutch of ['celsleutelmethode', 'seksueel', 'Personen', 'Telregels', 'politie', 'sexual_and_criminal']) {
      assert.ok(!body.includes(dutch), `"${dutch}" on the English page`);
    }
    await page.screenshot({path: path.join(work, 'dashboard-en.png'), fullPage: true});
    await page.click('#lang-nl');
    assert.equal((await page.locator('h1').textContent()).trim(), 'Signalen van mensenhandel');
  });
  await page.screenshot({path: path.join(work, 'dashboard.png'), fullPage: true});
  console.log(`screenshot: ${path.join(work, 'dashboard.png')}`);

  // Asks for another period through the form; resolves once the page has settled.
  const ask = async (from, to) => {
    await page.evaluate(() => { document.body.dataset.ready = '0'; });
    await page.fill('#from', from);
    await page.fill('#to', to);
    await page.click('#apply');
    await page.waitForSelector('body[data-ready="1"]', {timeout: 60000});
  };
  const noFigures = async () => {
    assert.equal(await page.locator('#content').isHidden(), true, 'the figures are still shown');
    for (const id of ['kpi-persons', 'kpi-signals', 'form:sexual', 'trend:2024-01']) {
      assert.equal(await page.getByTestId(id).count(), 0, `${id} still on the page`);
    }
  };
  await check('a refused query shows the message and no figures of the previous period', async () => {
    const before = await text('kpi-persons');
    assert.ok(before.length > 0);
    await ask('2024-01', '2024-05');  // off the release grid: refused
    await noFigures();
    assert.equal(await page.locator('#error').isVisible(), true);
    const message = await page.locator('#error').textContent();
    assert.match(message, /2024-Q1|2024-H1/);  // names the grid periods to ask instead
    assert.match(message, /^De vraag is niet beantwoord: /);  // in the page's language
    await page.screenshot({path: path.join(work, 'dashboard-refused.png'), fullPage: true});
  });
  await check('a failed query (the totals do not arrive) shows the message and no figures', async () => {
    await ask('2024-01', '2024-12');  // answered again
    assert.equal(await page.locator('#error').isHidden(), true);
    assert.equal(await text('kpi-persons'), fmt(expected.insight.total_persons, k));
    await page.route('**/api/totals*', route => route.abort());
    await ask('2024-01', '2024-06');  // the overview arrives, the totals fail
    await page.unroute('**/api/totals*');
    assert.equal(await page.locator('#error').isVisible(), true);
    await noFigures();
    await ask('2024-01', '2024-12');
    assert.equal(await text('kpi-persons'), fmt(expected.insight.total_persons, k));
  });

  await check('no client certificate: refused', async () => {
    const bare = await browser.newContext({ignoreHTTPSErrors: true});
    const p = await bare.newPage();
    let refused = false;
    try {
      const r = await p.goto(origin + '/api/insight', {timeout: 15000});
      refused = r === null || r.status() >= 400;
    } catch (e) {
      refused = true;  // TLS handshake fails without a certificate
    }
    await bare.close();
    assert.ok(refused, 'a request without a certificate was answered');
  });
  await check('agency certificate: 403', async () => {
    const agency = await browser.newContext({ignoreHTTPSErrors: true, clientCertificates: [cert('police')]});
    const p = await agency.newPage();
    const r = await p.goto(origin + '/api/insight');
    assert.equal(r.status(), 403);
    assert.match(await r.text(), /analyst only/);
    await agency.close();
  });
} catch (e) {
  failures++;
  console.log('FAIL setup: ' + e.stack);
} finally {
  if (browser) await browser.close();
  proc.stdin.end();
  await new Promise(r => (exited ? r() : proc.on('exit', r)));
}
console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
