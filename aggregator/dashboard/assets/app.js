// Samenzicht dashboard: plain JavaScript, charts drawn as SVG; every number comes from the
// aggregator's JSON endpoints (/api/insight, /api/totals), which run the same query code as
// the gRPC service. Under the Cell Key Method (the default) every figure is perturbed and
// none is withheld; a legend says so. Withheld cells (the old suppression) arrive as
// {"value": null, "suppressed": true, "shown": "<k"} and are shown as the server renders
// them, never as a number. One language at a time (Dutch, or English on request), every
// word from /labels.json. After a refused or failed query the page shows the message and
// no figures.
'use strict';

// Every word on the page comes from the one label table the council report uses too
// (presentation/labels.tsv), served as /labels.json: {"nl": {...}, "en": {...}}.
let LABELS = {nl: {}, en: {}};
let lang = 'nl';
let last = null;  // {insight, totals}: the figures on the page, of the period in the form
let failure = null;  // the refusal or failure of the last query, said again in a new language

function t(key) {
  const l = LABELS[lang] || {};
  return Object.prototype.hasOwnProperty.call(l, key) ? l[key] : String(key).replace(/_/g, ' ');
}
function tv(key, values) {
  let out = t(key);
  for (const [name, v] of Object.entries(values)) out = out.split('{' + name + '}').join(String(v));
  return out;
}

function shown(c) { return c && !c.suppressed && c.value !== null; }
// A withheld count arrives with the server's one rendering of it ("shown").
function fmt(c) {
  if (!c) return '';
  return shown(c) ? String(c.value) : (c.shown || '');
}

const SVG = 'http://www.w3.org/2000/svg';
function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [a, v] of Object.entries(attrs || {})) e.setAttribute(a, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function html(name, attrs, text) {
  const e = document.createElement(name);
  for (const [a, v] of Object.entries(attrs || {})) e.setAttribute(a, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function hatch(svg) {
  const defs = el('defs');
  const p = el('pattern', {id: 'hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)'});
  p.appendChild(el('rect', {width: 3, height: 6, fill: '#e2b0b0'}));
  defs.appendChild(p);
  svg.appendChild(defs);
}

// rows: [{label, testid, count}]
function bars(container, rows, k) {
  container.replaceChildren();
  const rowH = 24, labelW = 220, barW = 380;
  const w = labelW + barW + 60, h = rows.length * rowH + 8;
  const svg = el('svg', {viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: 'img'});
  hatch(svg);
  const max = Math.max(1, ...rows.map(r => shown(r.count) ? r.count.value : 0));
  rows.forEach((r, i) => {
    const y = 4 + i * rowH;
    svg.appendChild(el('text', {x: labelW - 6, y: y + 15, 'text-anchor': 'end', 'data-testid': 'label:' + r.testid}, r.label));
    if (shown(r.count)) {
      const bw = Math.round(r.count.value * barW / max);
      svg.appendChild(el('rect', {x: labelW, y: y + 3, width: bw, height: 16, class: 'bar'}));
      svg.appendChild(el('text', {x: labelW + bw + 6, y: y + 15, 'data-testid': r.testid}, fmt(r.count)));
    } else {
      svg.appendChild(el('rect', {x: labelW, y: y + 3, width: 26, height: 16, class: 'supbar'}));
      svg.appendChild(el('text', {x: labelW + 32, y: y + 15, class: 'suplbl', 'data-testid': r.testid}, fmt(r.count)));
    }
  });
  container.appendChild(svg);
}

// The trend as two connected lines (persons solid, signals dashed) with the period under
// every point (every n/12-th when there are many) and a few values on the y axis; every
// label lies inside the drawing.
function trend(container, points, k) {
  container.replaceChildren();
  const w = 720, h = 250, left = 48, right = 40, bottom = 48, top = 16;
  const svg = el('svg', {viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: 'img'});
  const n = points.length;
  if (n === 0) { container.textContent = '—'; return; }
  const max = Math.max(1, ...points.flatMap(p => [shown(p.persons) ? p.persons.value : 0, shown(p.signals) ? p.signals.value : 0]));
  const step = n > 1 ? (w - left - right - 16) / (n - 1) : 0;
  const x = i => left + 16 + step * i;
  const y = v => top + (h - top - bottom) * (1 - v / max);
  svg.appendChild(el('line', {x1: left, y1: h - bottom, x2: w - right + 16, y2: h - bottom, class: 'axis'}));
  svg.appendChild(el('line', {x1: left, y1: top, x2: left, y2: h - bottom, class: 'axis'}));
  const ticks = [...new Set([0, Math.round(max / 2), max])];
  for (const v of ticks) {
    svg.appendChild(el('line', {x1: left - 4, y1: y(v), x2: left, y2: y(v), class: 'axis'}));
    svg.appendChild(el('text', {x: left - 7, y: y(v) + 4, 'text-anchor': 'end', class: 'tick ytick'}, String(v)));
  }
  for (const [key, cls] of [['signals', 'line2'], ['persons', 'line']]) {
    let d = '', pen = false;
    points.forEach((p, i) => {
      if (shown(p[key])) { d += (pen ? 'L' : 'M') + x(i).toFixed(1) + ',' + y(p[key].value).toFixed(1) + ' '; pen = true; }
      else pen = false;
    });
    svg.appendChild(el('path', {d: d.trim(), class: cls, 'data-testid': 'trend-line:' + key}));
  }
  const every = n <= 12 ? 1 : Math.ceil(n / 12);
  points.forEach((p, i) => {
    const c = p.persons;
    if (shown(c)) {
      svg.appendChild(el('circle', {cx: x(i), cy: y(c.value), r: 3, fill: '#1f5ea0'}));
      svg.appendChild(el('text', {x: x(i), y: Math.max(top + 10, y(c.value) - 7), 'text-anchor': 'middle', 'data-testid': 'trend:' + p.period}, fmt(c)));
    } else {
      svg.appendChild(el('text', {x: x(i), y: h - bottom - 5, 'text-anchor': 'middle', class: 'suplbl', 'data-testid': 'trend:' + p.period}, fmt(c)));
    }
    if (i % every === 0) {
      svg.appendChild(el('text', {x: x(i), y: h - bottom + 16, 'text-anchor': 'middle', class: 'tick xtick'}, p.period));
    }
  });
  svg.appendChild(el('text', {x: left + 16, y: h - 8}, '— ' + t('personsLine') + '   - - ' + t('signalsLine')));
  container.appendChild(svg);
}

function overlap(container, ins) {
  container.replaceChildren();
  const k = ins.min_cell_size, doms = ins.overlap_domains, n = doms.length;
  const max = Math.max(1, ...ins.overlap.map(c => shown(c.persons) ? c.persons.value : 0));
  const table = html('table');
  const head = html('tr');
  head.appendChild(html('th'));
  doms.forEach(d => head.appendChild(html('th', {}, t(d))));
  table.appendChild(head);
  doms.forEach((row, i) => {
    const tr = html('tr');
    tr.appendChild(html('th', {}, t(row)));
    doms.forEach((col, j) => {
      const c = ins.overlap[i * n + j].persons;
      const td = html('td', {class: shown(c) ? 'num' : 'num sup', 'data-testid': `overlap:${row}:${col}`}, fmt(c));
      if (shown(c)) {
        const a = 0.1 + 0.8 * c.value / max;
        td.style.background = `rgba(31,94,160,${a.toFixed(2)})`;
        td.style.color = a > 0.5 ? '#fff' : '#000';
      }
      tr.appendChild(td);
    });
    table.appendChild(tr);
  });
  container.appendChild(table);
}

function kpis(container, ins) {
  const k = ins.min_cell_size;
  container.replaceChildren();
  const add = (id, label, value) => {
    const d = html('div', {class: 'kpi'});
    const v = html('span', {class: 'v', 'data-testid': id}, value);
    if (value.startsWith('<') || value === 'x') v.classList.add('sup');  // FormatCount's symbols
    d.appendChild(v);
    d.appendChild(html('span', {class: 'l'}, label));
    container.appendChild(d);
  };
  add('kpi-persons', t('persons'), fmt(ins.total_persons));
  add('kpi-signals', t('signals'), fmt(ins.total_signals));
  add('kpi-ratio', t('ratio'), ins.signals_per_person || 'x');
  add('kpi-bounds', t('bounds'), fmt(ins.persons_lower_bound) + ' – ' + fmt(ins.total_persons));
  add('kpi-unlinkable', t('unlinkable'), fmt(ins.unlinkable_signals));
  if (ins.linkage_error && ins.linkage_error.available) {
    const p = html('p', {class: 'note', 'data-testid': 'linkage-error'});
    p.textContent = tv('linkageError', {twice: ins.linkage_error.persons_maybe_counted_twice,
                                        wrong: ins.linkage_error.links_maybe_wrong});
    container.appendChild(p);
  }
}

function estimateBox(container, e, k) {
  container.replaceChildren();
  if (e.available) {
    const p = html('p', {'data-testid': 'estimate'});
    p.textContent = `${t('estimate')}: ${e.estimate} (${t('interval')} ${e.lower} – ${e.upper === null ? '∞' : e.upper}, ${e.interval_method}; model ${e.model})`;
    container.appendChild(p);
  } else {
    // The estimator's own reasons are in English: a Dutch page names the kind (reason_label,
    // insight_format.h), or only that there is none when the kind is not known.
    const why = e.reason === 'not requested' ? t('notRequested')
        : e.reason.startsWith('withheld') ? `${t('noEstimate')} ${tv('estimateWithheld', {k})}`
        : lang === 'en' ? `${t('noEstimate')} ${e.reason}`
        : e.reason_label ? `${t('noEstimate')} ${t(e.reason_label)}` : t('noEstimate');
    container.appendChild(html('p', {'data-testid': 'estimate'}, why));
  }
  if (e.caveats && e.caveats.length) {
    const ul = html('ul', {class: 'note'});
    if (lang === 'en') e.caveats.forEach(c => ul.appendChild(html('li', {}, c)));
    else {
      ul.appendChild(html('li', {}, t('estimateCaveat')));
      (e.warning_labels || []).forEach(w => ul.appendChild(html('li', {}, t(w))));
    }
    container.appendChild(ul);
  }
}

// CSV: RFC 4180 fields, CRLF lines, UTF-8 with a byte order mark (so spreadsheet programs
// read "financiële" right); the words in the page's language, the figures as shown.
function csvField(v) {
  const s = String(v);
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}
function csvText(rows) {
  return rows.map(r => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}
// A button "CSV" under a table: saves `rows()` (header first) as a file named after the
// table's heading and the period the figures cover, as the server answered it (also when no
// period was asked: then the form's fields are empty), e.g. "...-2024-01_2024-12.csv".
function csvButton(container, name, titleKey, rows) {
  const b = html('button', {type: 'button', class: 'csv', 'data-testid': 'csv:' + name}, t('downloadCsv'));
  b.addEventListener('click', () => {
    const ins = last && last.insight;
    if (!ins) return;
    const ym = m => m ? `${Math.floor(m / 100)}-${String(m % 100).padStart(2, '0')}` : '';
    const period = `${ym(ins.from_month)}_${ym(ins.to_month)}`;
    const slug = t(titleKey).toLowerCase().replace(/[^a-z0-9à-ÿ]+/g, '-').replace(/^-|-$/g, '');
    const url = URL.createObjectURL(new Blob(['\ufeff' + csvText(rows())], {type: 'text/csv;charset=utf-8'}));
    const a = html('a', {href: url, download: `samenzicht-${slug}-${period}.csv`});
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  });
  container.appendChild(b);
}

function render() {
  document.documentElement.lang = lang;
  document.querySelectorAll('[data-i18n]').forEach(e => { e.textContent = t(e.dataset.i18n); });
  document.getElementById('lang-nl').setAttribute('aria-pressed', String(lang === 'nl'));
  document.getElementById('lang-en').setAttribute('aria-pressed', String(lang === 'en'));
  const main = document.getElementById('content');
  const err = document.getElementById('error');
  if (failure) err.textContent = tv('refused', {message: refusalText(failure)});
  err.hidden = !failure;
  main.hidden = !last;
  if (!last) {
    // No figures (a refused or failed query): nothing of an earlier period stays on the page.
    for (const id of ['period-shown', 'kpis', 'chart-form', 'chart-age_band', 'chart-domain', 'chart-agencies',
                      'overlap', 'trend', 'estimate-box', 'rules']) {
      document.getElementById(id).replaceChildren();
    }
    return;
  }
  const ins = last.insight, k = ins.min_cell_size;
  // Under the Cell Key Method nothing is withheld: the "<k" / "x" legend goes, the
  // perturbation is explained instead, with the parameters the server applied
  // ("cell_key" of /api/insight, read from its rules), not assumed ones.
  const ck = ins.cell_key;
  const cellKey = !!ck;
  const suppressionLegend = document.getElementById('legend-suppression');
  if (cellKey && suppressionLegend) suppressionLegend.remove();
  const primary = '<' + k, secondary = 'x';  // the symbols of FormatCount, for the legend
  if (!cellKey) {
    document.getElementById('legend-suppression').textContent =
        tv('suppressionRules', {k1: k - 1, primary, secondary});
  }
  const cellKeyLegend = document.getElementById('legend-cellkey');
  cellKeyLegend.hidden = !cellKey;
  const params = cellKey ? {k: ck.k, k1: ck.k - 1, d: ck.max_noise, s: ck.tail_noise, one_in: ck.tail_one_in,
                           z: ck.k + ck.tail_noise - 1} : {};
  cellKeyLegend.textContent = cellKey ? tv('legendCellKey', params) : '';
  // The period the figures cover, as the server answered it (without a period asked: the
  // latest year, said so in words), not the form's fields.
  const asked = last.asked || {};
  document.getElementById('period-shown').textContent = t('period') + ': ' + (ins.period || '') +
      (!asked.from && !asked.to && ins.period ? ' (' + t('periodLatest') + ')' : '');
  kpis(document.getElementById('kpis'), ins);
  csvButton(document.getElementById('kpis'), 'summary', 'summary', () => [
    [t('summary'), t('value')],
    [t('persons'), fmt(ins.total_persons)],
    [t('signals'), fmt(ins.total_signals)],
    [t('ratio'), ins.signals_per_person || ''],
    [t('bounds'), fmt(ins.persons_lower_bound) + ' – ' + fmt(ins.total_persons)],
    [t('unlinkable'), fmt(ins.unlinkable_signals)],
  ]);
  const titles = {form: 'byForm', age_band: 'byAge', domain: 'byDomain'};
  for (const [dim, resp] of Object.entries(last.totals)) {
    const box = document.getElementById('chart-' + dim);
    bars(box, resp.rows.map(r => ({label: t(r.keys[0]), testid: `${dim}:${r.keys[0]}`, count: r.persons})), k);
    csvButton(box, dim, titles[dim], () => [
      [t('dim.' + dim), t('personsColumn'), t('signalsColumn')],
      ...resp.rows.map(r => [t(r.keys[0]), fmt(r.persons), fmt(r.signals)]),
    ]);
  }
  const agencyRows = ins.agency_counts.map(a => ({label: tv('knownTo', {n: a.agencies}), testid: 'agencies:' + a.agencies, count: a.persons}));
  bars(document.getElementById('chart-agencies'), agencyRows, k);
  csvButton(document.getElementById('chart-agencies'), 'agencies', 'agencies', () => [
    [t('agencies'), t('personsColumn')], ...agencyRows.map(r => [r.label, fmt(r.count)]),
  ]);
  overlap(document.getElementById('overlap'), ins);
  csvButton(document.getElementById('overlap'), 'overlap', 'overlap', () => {
    const doms = ins.overlap_domains, n = doms.length;
    return [['', ...doms.map(d => t(d))],
            ...doms.map((d, i) => [t(d), ...doms.map((_, j) => fmt(ins.overlap[i * n + j].persons))])];
  });
  trend(document.getElementById('trend'), ins.trend, k);
  csvButton(document.getElementById('trend'), 'trend', 'trend', () => [
    [t('periodColumn'), t('personsColumn'), t('signalsColumn')],
    ...ins.trend.map(p => [p.period, fmt(p.persons), fmt(p.signals)]),
  ]);
  estimateBox(document.getElementById('estimate-box'), ins.estimate, k);
  document.getElementById('rules').textContent = t('countingRules') + ' ' +
      (cellKey ? tv('cellKeyRules', params) : tv('suppressionRules', {k1: k - 1, primary, secondary}));
}

// A failed request: `refusal` (a label key with its values, from the server) or the HTTP
// status; a request that never got an answer has neither.
class Refused extends Error {
  constructor(body, status) {
    super(body && body.error || '');
    this.refusal = body && body.refusal;
    this.status = status;
  }
}
async function getJson(url) {
  let res;
  try {
    res = await fetch(url, {cache: 'no-store'});
  } catch (e) {
    throw new Refused(null, 0);  // the browser's own words are not in the page's language
  }
  const body = await res.json().catch(() => null);
  if (!res.ok || body === null) throw new Refused(body, res.status || 0);
  return body;
}
// The refusal in the page's language: the server's refusal from the label table, the grid
// periods to ask instead joined with "or"; else a plain statement of what failed.
function refusalText(e) {
  const r = e && e.refusal;
  if (r && Object.prototype.hasOwnProperty.call(LABELS[lang] || {}, r.key)) {
    const values = Object.assign({}, r.values || {});
    if (r.options && r.options.length) values.options = r.options.join(' ' + t('or') + ' ');
    return tv(r.key, values);
  }
  if (e instanceof Refused && e.status) return tv('refusedServer', {status: e.status});
  return t('refusedNetwork');
}

async function load() {
  const from = document.getElementById('from').value;
  const to = document.getElementById('to').value;
  const gran = document.getElementById('granularity').value;
  const est = document.getElementById('estimate').checked ? '1' : '0';
  const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  const main = document.getElementById('content');
  main.setAttribute('aria-busy', 'true');
  failure = null;
  // The figures on the page belong to the period they were asked for: drop them before
  // asking for another, so a refusal or failure never leaves them under the new period.
  last = null;
  render();
  try {
    const insight = await getJson(`/api/insight?${q}&granularity=${gran}&estimate=${est}`);
    const totals = {};
    for (const dim of ['form', 'age_band', 'domain']) totals[dim] = await getJson(`/api/totals?by=${dim}&${q}`);
    last = {insight, totals, asked: {from, to}};
    const url = new URL(location.href);
    url.searchParams.set('from', from); url.searchParams.set('to', to); url.searchParams.set('granularity', gran);
    history.replaceState(null, '', url);
    render();
  } catch (e) {
    last = null;
    failure = e;
    render();
  } finally {
    main.setAttribute('aria-busy', 'false');
    document.body.dataset.ready = '1';
  }
}

document.addEventListener('DOMContentLoaded', async () => {
  const params = new URLSearchParams(location.search);
  if (params.get('from')) document.getElementById('from').value = params.get('from');
  if (params.get('to')) document.getElementById('to').value = params.get('to');
  if (params.get('granularity')) document.getElementById('granularity').value = params.get('granularity');
  if (params.get('estimate') === '1') document.getElementById('estimate').checked = true;
  if (params.get('lang') === 'en') lang = 'en';
  document.getElementById('lang-nl').addEventListener('click', () => { lang = 'nl'; render(); });
  document.getElementById('lang-en').addEventListener('click', () => { lang = 'en'; render(); });
  document.getElementById('period').addEventListener('submit', ev => { ev.preventDefault(); load(); });
  try {
    LABELS = await getJson('/labels.json');
  } catch (e) {
    failure = e;
  }
  render();
  if (!failure) load();
  else document.body.dataset.ready = '1';
});
