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

function trend(container, points, k) {
  container.replaceChildren();
  const w = 720, h = 240, left = 44, bottom = 44, top = 14;
  const svg = el('svg', {viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: 'img'});
  const n = points.length;
  if (n === 0) { container.textContent = '—'; return; }
  const max = Math.max(1, ...points.flatMap(p => [shown(p.persons) ? p.persons.value : 0, shown(p.signals) ? p.signals.value : 0]));
  const step = n > 1 ? (w - left - 30) / (n - 1) : 0;
  const x = i => left + 10 + step * i;
  const y = v => top + (h - top - bottom) * (1 - v / max);
  svg.appendChild(el('line', {x1: left, y1: h - bottom, x2: w - 5, y2: h - bottom, class: 'axis'}));
  svg.appendChild(el('line', {x1: left, y1: top, x2: left, y2: h - bottom, class: 'axis'}));
  svg.appendChild(el('text', {x: 4, y: top + 8}, String(max)));
  svg.appendChild(el('text', {x: 4, y: h - bottom}, '0'));
  for (const [key, cls] of [['signals', 'line2'], ['persons', 'line']]) {
    let d = '', pen = false;
    points.forEach((p, i) => {
      if (shown(p[key])) { d += (pen ? 'L' : 'M') + x(i).toFixed(1) + ',' + y(p[key].value).toFixed(1) + ' '; pen = true; }
      else pen = false;
    });
    svg.appendChild(el('path', {d, class: cls}));
  }
  points.forEach((p, i) => {
    const c = p.persons;
    if (shown(c)) {
      svg.appendChild(el('circle', {cx: x(i), cy: y(c.value), r: 3, fill: '#1f5ea0'}));
      svg.appendChild(el('text', {x: x(i), y: y(c.value) - 7, 'text-anchor': 'middle', 'data-testid': 'trend:' + p.period}, fmt(c)));
    } else {
      svg.appendChild(el('text', {x: x(i), y: h - bottom - 5, 'text-anchor': 'middle', class: 'suplbl', 'data-testid': 'trend:' + p.period}, fmt(c)));
    }
    if (n <= 12 || i % Math.ceil(n / 12) === 0) {
      svg.appendChild(el('text', {x: x(i), y: h - bottom + 16, 'text-anchor': 'middle'}, p.period));
    }
  });
  svg.appendChild(el('text', {x: left + 10, y: h - 6}, '— ' + t('personsLine') + '   - - ' + t('signalsLine')));
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
    // The estimator's own reasons are in English: a Dutch page names only the kind.
    const why = e.reason === 'not requested' ? t('notRequested')
        : e.reason.startsWith('withheld') ? `${t('noEstimate')} ${tv('estimateWithheld', {k})}`
        : lang === 'en' ? `${t('noEstimate')} ${e.reason}` : t('noEstimate');
    container.appendChild(html('p', {'data-testid': 'estimate'}, why));
  }
  if (e.caveats && e.caveats.length) {
    const ul = html('ul', {class: 'note'});
    if (lang === 'en') e.caveats.forEach(c => ul.appendChild(html('li', {}, c)));
    else ul.appendChild(html('li', {}, t('estimateCaveat')));
    container.appendChild(ul);
  }
}

function render() {
  document.documentElement.lang = lang;
  document.querySelectorAll('[data-i18n]').forEach(e => { e.textContent = t(e.dataset.i18n); });
  document.getElementById('lang-nl').setAttribute('aria-pressed', String(lang === 'nl'));
  document.getElementById('lang-en').setAttribute('aria-pressed', String(lang === 'en'));
  const main = document.getElementById('content');
  main.hidden = !last;
  if (!last) {
    // No figures (a refused or failed query): nothing of an earlier period stays on the page.
    for (const id of ['kpis', 'chart-form', 'chart-age_band', 'chart-domain', 'chart-agencies',
                      'overlap', 'trend', 'estimate-box', 'rules']) {
      document.getElementById(id).replaceChildren();
    }
    return;
  }
  const ins = last.insight, k = ins.min_cell_size;
  // Under the Cell Key Method nothing is withheld: the "<k" / "x" legend goes, the
  // perturbation is explained instead.
  const cellKey = (ins.disclosure_rules || '').includes('Cell Key Method');
  const suppressionLegend = document.getElementById('legend-suppression');
  if (cellKey && suppressionLegend) suppressionLegend.remove();
  const primary = '<' + k, secondary = 'x';  // the symbols of FormatCount, for the legend
  if (!cellKey) {
    document.getElementById('legend-suppression').textContent =
        tv('suppressionRules', {k1: k - 1, primary, secondary});
  }
  const cellKeyLegend = document.getElementById('legend-cellkey');
  cellKeyLegend.hidden = !cellKey;
  // The Cell Key Method's parameters: only k is configurable; D = k, S = 3k, one in 10.
  const params = {k, k1: k - 1, d: k, s: 3 * k, one_in: 10};
  cellKeyLegend.textContent = cellKey ? tv('legendCellKey', params) : '';
  kpis(document.getElementById('kpis'), ins);
  for (const [dim, resp] of Object.entries(last.totals)) {
    bars(document.getElementById('chart-' + dim),
         resp.rows.map(r => ({label: t(r.keys[0]), testid: `${dim}:${r.keys[0]}`, count: r.persons})), k);
  }
  bars(document.getElementById('chart-agencies'),
       ins.agency_counts.map(a => ({label: tv('knownTo', {n: a.agencies}), testid: 'agencies:' + a.agencies, count: a.persons})), k);
  overlap(document.getElementById('overlap'), ins);
  trend(document.getElementById('trend'), ins.trend, k);
  estimateBox(document.getElementById('estimate-box'), ins.estimate, k);
  document.getElementById('rules').textContent = t('countingRules') + ' ' +
      (cellKey ? tv('cellKeyRules', params) : tv('suppressionRules', {k1: k - 1, primary, secondary}));
}

async function getJson(url) {
  const res = await fetch(url, {cache: 'no-store'});
  const body = await res.json().catch(() => ({error: res.statusText}));
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}

async function load() {
  const from = document.getElementById('from').value;
  const to = document.getElementById('to').value;
  const gran = document.getElementById('granularity').value;
  const est = document.getElementById('estimate').checked ? '1' : '0';
  const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  const err = document.getElementById('error');
  const main = document.getElementById('content');
  main.setAttribute('aria-busy', 'true');
  err.hidden = true;
  err.textContent = '';
  // The figures on the page belong to the period they were asked for: drop them before
  // asking for another, so a refusal or failure never leaves them under the new period.
  last = null;
  render();
  try {
    const insight = await getJson(`/api/insight?${q}&granularity=${gran}&estimate=${est}`);
    const totals = {};
    for (const dim of ['form', 'age_band', 'domain']) totals[dim] = await getJson(`/api/totals?by=${dim}&${q}`);
    last = {insight, totals};
    const url = new URL(location.href);
    url.searchParams.set('from', from); url.searchParams.set('to', to); url.searchParams.set('granularity', gran);
    history.replaceState(null, '', url);
    render();
  } catch (e) {
    last = null;
    render();
    err.textContent = tv('refused', {message: e.message});
    err.hidden = false;
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
    const err = document.getElementById('error');
    err.textContent = e.message;
    err.hidden = false;
  }
  render();
  load();
});
