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
//  - after a refused or a failed query the page shows the message, in the page's language
//    (the grid periods to ask instead named), and none of the previous period's figures,
//  - every table can be saved as CSV, with the figures the page shows,
//  - the trend chart draws connected lines, its axis labels inside the drawing,
//  - the Cell Key Method's legend states the parameters the server sent,
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
  await check('the legend states the parameters the server applied', async () => {
    const ck = expected.insight.cell_key;
    assert.ok(ck, 'the overview JSON carries the Cell Key Method parameters');
    const fill = (s, v) => Object.entries(v).reduce((o, [n, x]) => o.split('{' + n + '}').join(String(x)), s);
    const params = {k: ck.k, k1: ck.k - 1, d: ck.max_noise, s: ck.tail_noise, one_in: ck.tail_one_in,
                    z: ck.k + ck.tail_noise - 1};
    assert.equal((await page.locator('#legend-cellkey').textContent()).trim(), fill(labels.nl.legendCellKey, params));
    assert.ok((await page.locator('#rules').textContent()).endsWith(fill(labels.nl.cellKeyRules, params)));
  });
  await check('the trend chart draws connected lines with every axis label inside the drawing', async () => {
    const n = expected.insight.trend.length;
    assert.ok(n >= 12, `${n} trend points`);
    for (const key of ['persons', 'signals']) {
      const d = await page.getByTestId('trend-line:' + key).getAttribute('d');
      assert.equal((d.match(/M/g) || []).length, 1, `${key}: one connected line, not pieces: ${d}`);
      assert.equal((d.match(/L/g) || []).length, n - 1, `${key}: ${n} points joined`);
    }
    const geometry = await page.evaluate(() => {
      const svg = document.querySelector('#trend svg');
      const box = svg.getBoundingClientRect();
      const texts = [...svg.querySelectorAll('text')].map(t => {
        const r = t.getBoundingClientRect();
        return {text: t.textContent, cls: t.getAttribute('class') || '', left: r.left, right: r.right, top: r.top, bottom: r.bottom};
      });
      return {box: {left: box.left, right: box.right, top: box.top, bottom: box.bottom}, texts};
    });
    for (const t of geometry.texts) {
      assert.ok(t.left >= geometry.box.left - 0.5 && t.right <= geometry.box.right + 0.5 &&
                t.top >= geometry.box.top - 0.5 && t.bottom <= geometry.box.bottom + 0.5,
                `label "${t.text}" is cut off: ${JSON.stringify(t)} outside ${JSON.stringify(geometry.box)}`);
    }
    const xticks = geometry.texts.filter(t => t.cls.includes('xtick'));
    assert.deepEqual(xticks.map(t => t.text), expected.insight.trend.map(p => p.period));
    for (let i = 1; i < xticks.length; ++i) {
      assert.ok(xticks[i].left > xticks[i - 1].right, `"${xticks[i - 1].text}" and "${xticks[i].text}" overlap`);
    }
    assert.ok(geometry.texts.filter(t => t.cls.includes('ytick')).length >= 2, 'the y axis has values');
  });
  await check('the council report\'s trend chart: a connected line, every axis label inside the drawing', async () => {
    const report = await context.newPage();
    await report.goto('file://' + path.join(work, 'fixture', 'report.html'));
    const n = expected.insight.trend.length;
    const g = await report.evaluate(title => {
      const svg = [...document.querySelectorAll('svg')].find(e => e.querySelector('title')?.textContent === title);
      const box = svg.getBoundingClientRect();
      return {
        d: svg.querySelector('path.line').getAttribute('d'),
        box: {left: box.left, right: box.right, top: box.top, bottom: box.bottom},
        texts: [...svg.querySelectorAll('text')].map(t => {
          const r = t.getBoundingClientRect();
          return {text: t.textContent, cls: t.getAttribute('class') || '', left: r.left, right: r.right, top: r.top, bottom: r.bottom};
        }),
      };
    }, labels.nl.trend);
    await report.close();
    assert.equal((g.d.match(/M/g) || []).length, 1, `one connected line: ${g.d}`);
    assert.equal((g.d.match(/L/g) || []).length, n - 1, `${n} points joined: ${g.d}`);
    for (const t of g.texts) {
      assert.ok(t.left >= g.box.left - 0.5 && t.right <= g.box.right + 0.5 && t.top >= g.box.top - 0.5 &&
                t.bottom <= g.box.bottom + 0.5, `label "${t.text}" is cut off: ${JSON.stringify(t)} outside ${JSON.stringify(g.box)}`);
    }
    const xticks = g.texts.filter(t => t.cls.includes('xtick'));
    assert.deepEqual(xticks.map(t => t.text), expected.insight.trend.map(p => p.period));
    for (let i = 1; i < xticks.length; ++i) assert.ok(xticks[i].left > xticks[i - 1].right, `${xticks[i].text} overlaps`);
    assert.ok(g.texts.filter(t => t.cls.includes('ytick')).length >= 2, 'the y axis has values');
  });
  // Every table of the page, saved as CSV: the header in the page's language, the rows the
  // figures the page shows.
  const saveCsv = async name => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv:' + name).click()]);
    const file = path.join(work, 'csv-' + name + '.csv');
    await download.saveAs(file);
    let body = fs.readFileSync(file, 'utf8');
    assert.ok(body.startsWith('\ufeff'), `${name}: no byte order mark`);
    assert.match(download.suggestedFilename(), /-\d{4}-\d{2}_\d{4}-\d{2}\.csv$/,
                 'the file is named after the period the figures cover');
    body = body.slice(1);
    assert.ok(body.endsWith('\r\n'));
    const parse = line => {
      const out = []; let cur = '', q = false;
      for (let i = 0; i < line.length; ++i) {
        const c = line[i];
        if (q) { if (c === '"' && line[i + 1] === '"') { cur += '"'; ++i; } else if (c === '"') q = false; else cur += c; }
        else if (c === '"') q = true; else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
      }
      out.push(cur);
      return out;
    };
    return body.slice(0, -2).split('\r\n').map(parse);
  };
  await check('every table can be saved as CSV with the figures shown', async () => {
    const summary = await saveCsv('summary');
    assert.deepEqual(summary[0], [labels.nl.summary, labels.nl.value]);
    assert.deepEqual(summary[1], [labels.nl.persons, await text('kpi-persons')]);
    assert.deepEqual(summary[2], [labels.nl.signals, await text('kpi-signals')]);
    for (const dim of ['form', 'age_band', 'domain']) {
      const rows = await saveCsv(dim);
      assert.deepEqual(rows[0], [labels.nl['dim.' + dim], labels.nl.personsColumn, labels.nl.signalsColumn]);
      assert.equal(rows.length, expected[dim].rows.length + 1, dim);
      expected[dim].rows.forEach((r, i) => {
        assert.deepEqual(rows[i + 1], [labels.nl[r.keys[0]], fmt(r.persons, k), fmt(r.signals, k)], `${dim}=${r.keys[0]}`);
      });
    }
    const agencies = await saveCsv('agencies');
    assert.equal(agencies.length, expected.insight.agency_counts.length + 1);
    expected.insight.agency_counts.forEach((a, i) => assert.equal(agencies[i + 1][1], fmt(a.persons, k)));
    const overlap = await saveCsv('overlap');
    const doms = expected.insight.overlap_domains;
    assert.deepEqual(overlap[0], ['', ...doms.map(d => labels.nl[d])]);
    doms.forEach((row, i) => doms.forEach((col, j) => {
      assert.equal(overlap[i + 1][j + 1], fmt(expected.insight.overlap[i * doms.length + j].persons, k), `${row}/${col}`);
    }));
    const trendRows = await saveCsv('trend');
    assert.deepEqual(trendRows[0], [labels.nl.periodColumn, labels.nl.personsColumn, labels.nl.signalsColumn]);
    assert.deepEqual(trendRows.slice(1), expected.insight.trend.map(p => [p.period, fmt(p.persons, k), fmt(p.signals, k)]));
    const all = [summary, agencies, overlap, trendRows].flat(2).join(' ');
    for (const code of ['age_band', 'youth_care', 'sexual_and_criminal']) assert.ok(!all.includes(code), code);
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
    // all of it: the query layer's refusal said in Dutch, the grid periods joined with "of"
    assert.match(message, /vraag in plaats daarvan 2024-01\.\.2024-01 \(2024-01\) of 2024-01\.\.2024-06 \(2024-H1\)\.$/);
    for (const english of ['release grid', ' ask ', 'instead', ' or ', 'not ', 'period ']) {
      assert.ok(!message.includes(english), `English "${english}" in the Dutch refusal: ${message}`);
    }
    await page.click('#lang-en');  // the same refusal, said again in English
    const en = await page.locator('#error').textContent();
    assert.match(en, /^The question was not answered: the period 2024-01\.\.2024-05 is not on the release grid .* ask .* instead\.$/);
    assert.ok(!en.includes('vraag') && !en.includes(' of '), en);
    await page.click('#lang-nl');
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
    // the browser's own words ("Failed to fetch") are not the page's language
    assert.equal(await page.locator('#error').textContent(),
                 `De vraag is niet beantwoord: ${labels.nl.refusedNetwork}`);
    await noFigures();
    await ask('2024-01', '2024-12');
    assert.equal(await text('kpi-persons'), fmt(expected.insight.total_persons, k));
  });
  await check('the period the figures cover is shown; without one, the latest year, said so', async () => {
    const shown = async () => (await page.locator('#period-shown').textContent()).trim();
    assert.equal(await shown(), `${labels.nl.period}: 2024-01..2024-12 (2024)`);
    await ask('', '');  // no period: the latest year with published signals (the fixture's: 2024)
    assert.equal(await page.locator('#error').isHidden(), true, await page.locator('#error').textContent());
    assert.equal(await shown(), `${labels.nl.period}: 2024-01..2024-12 (2024) (${labels.nl.periodLatest})`);
    assert.equal(await text('kpi-persons'), fmt(expected.insight.total_persons, k));  // the year's figures
    {  // a table saved as CSV is named after the period answered, not the empty form fields
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv:summary').click()]);
      assert.match(download.suggestedFilename(), /-2024-01_2024-12\.csv$/, download.suggestedFilename());
    }
    await page.click('#lang-en');
    assert.equal(await shown(), `${labels.en.period}: 2024-01..2024-12 (2024) (${labels.en.periodLatest})`);
    await page.click('#lang-nl');
    await ask('2024-01', '2024-06');
    assert.equal(await shown(), `${labels.nl.period}: 2024-01..2024-06 (2024-H1)`);
    await ask('2024-01', '2024-12');
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
