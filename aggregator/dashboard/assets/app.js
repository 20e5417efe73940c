// Samenzicht dashboard: plain JavaScript, charts drawn as SVG; every number comes from the
// aggregator's JSON endpoints (/api/insight, /api/totals), which run the same query code as
// the gRPC service. Under the Cell Key Method (the default) every figure is perturbed and
// none is withheld; a legend says so. Withheld cells (the old suppression) arrive as
// {"value": null, "suppressed": true} and are shown as "<k" (or "x"), never as a number.
'use strict';

const I18N = {
  nl: {
    title: 'Signalen van mensenhandel', from: 'Van', to: 'Tot en met', granularity: 'Verloop per',
    month: 'maand', quarter: 'kwartaal', withEstimate: 'met schatting verborgen aantal', apply: 'Toon',
    legendSmall: '1 tot k-1 personen (niet getoond)', legendSecondary: 'onderdrukt om een kleine cel te beschermen',
    legendCellKey: 'Alle cijfers zijn licht verstoord om personen te beschermen (celsleutelmethode): elk cijfer is 0 of ten minste {k} en wijkt hooguit {s} af van het werkelijke aantal; dezelfde personen geven altijd hetzelfde cijfer.',
    byForm: 'Personen naar vorm van uitbuiting', byAge: 'Personen naar leeftijd', byDomain: 'Personen naar domein',
    agencies: 'Bij hoeveel instanties bekend', overlap: 'Overlap tussen domeinen',
    overlapNote: 'Diagonaal: personen gesignaleerd door het domein; elders: door beide domeinen.',
    trend: 'Verloop', estimateTitle: 'Verborgen aantal (schatting)', methods: 'Telregels en onthullingscontrole',
    persons: 'Personen (ontdubbeld)', signals: 'Signalen', ratio: 'Signalen per persoon', bounds: 'Personen tussen',
    unlinkable: 'Niet te koppelen signalen', knownTo: 'bekend bij {n} instantie(s)', personsLine: 'personen', signalsLine: 'signalen',
    noEstimate: 'Geen betrouwbare schatting.', estimate: 'Geschat aantal personen (gezien en ongezien)', interval: '95%-interval',
    notRequested: 'Vink "met schatting" aan om de schatting te berekenen.', loading: 'Laden…', total: 'totaal',
    sexual: 'seksueel', criminal: 'crimineel', sexual_and_criminal: 'seksueel en crimineel', labour: 'arbeid', other: 'anders', unknown: 'onbekend',
    '0_12': '12 of jonger', '13_17': '13-17', '18_26': '18-26', '27_plus': '27 of ouder',
    police: 'politie', municipality: 'gemeente', social_work: 'maatschappelijk werk', financial: 'schuldhulp', youth_care: 'jeugdzorg',
    education: 'onderwijs', mental_health: 'ggz', shelter: 'opvang', health_care: 'zorg',
  },
  en: {
    title: 'Signals of human trafficking', from: 'From', to: 'To', granularity: 'Trend per',
    month: 'month', quarter: 'quarter', withEstimate: 'with hidden-number estimate', apply: 'Show',
    legendSmall: '1 to k-1 persons (not shown)', legendSecondary: 'withheld to protect a small cell',
    legendCellKey: 'All figures are slightly perturbed to protect persons (Cell Key Method): each is 0 or at least {k} and off by at most {s} from the true count; the same persons always give the same figure.',
    byForm: 'Persons by form of exploitation', byAge: 'Persons by age band', byDomain: 'Persons by domain',
    agencies: 'Known to how many agencies', overlap: 'Overlap between domains',
    overlapNote: 'Diagonal: persons signalled by the domain; elsewhere: by both domains.',
    trend: 'Trend', estimateTitle: 'Hidden number (estimate)', methods: 'Counting rules and disclosure control',
    persons: 'Persons (deduplicated)', signals: 'Signals', ratio: 'Signals per person', bounds: 'Persons between',
    unlinkable: 'Unlinkable signals', knownTo: 'known to {n} agency(ies)', personsLine: 'persons', signalsLine: 'signals',
    noEstimate: 'No reliable estimate.', estimate: 'Estimated persons (seen and unseen)', interval: '95% interval',
    notRequested: 'Tick "with estimate" to compute the estimate.', loading: 'Loading…', total: 'total',
  },
};

let lang = 'nl';
let last = null;  // {insight, totals}

function t(key) {
  return (I18N[lang] && I18N[lang][key]) || (lang === 'en' ? key.replace(/_/g, ' ') : (I18N.en[key] || key.replace(/_/g, ' ')));
}

function shown(c) { return c && !c.suppressed && c.value !== null; }
function fmt(c, k) {
  if (!c) return '';
  if (c.secondary) return 'x';
  if (c.suppressed) return '<' + k;
  return String(c.value);
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
    svg.appendChild(el('text', {x: labelW - 6, y: y + 15, 'text-anchor': 'end'}, r.label));
    if (shown(r.count)) {
      const bw = Math.round(r.count.value * barW / max);
      svg.appendChild(el('rect', {x: labelW, y: y + 3, width: bw, height: 16, class: 'bar'}));
      svg.appendChild(el('text', {x: labelW + bw + 6, y: y + 15, 'data-testid': r.testid}, fmt(r.count, k)));
    } else {
      svg.appendChild(el('rect', {x: labelW, y: y + 3, width: 26, height: 16, class: 'supbar'}));
      svg.appendChild(el('text', {x: labelW + 32, y: y + 15, class: 'suplbl', 'data-testid': r.testid}, fmt(r.count, k)));
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
      svg.appendChild(el('text', {x: x(i), y: y(c.value) - 7, 'text-anchor': 'middle', 'data-testid': 'trend:' + p.period}, fmt(c, k)));
    } else {
      svg.appendChild(el('text', {x: x(i), y: h - bottom - 5, 'text-anchor': 'middle', class: 'suplbl', 'data-testid': 'trend:' + p.period}, fmt(c, k)));
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
      const td = html('td', {class: shown(c) ? 'num' : 'num sup', 'data-testid': `overlap:${row}:${col}`}, fmt(c, k));
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
    if (value.startsWith('<') || value === 'x') v.classList.add('sup');
    d.appendChild(v);
    d.appendChild(html('span', {class: 'l'}, label));
    container.appendChild(d);
  };
  add('kpi-persons', t('persons'), fmt(ins.total_persons, k));
  add('kpi-signals', t('signals'), fmt(ins.total_signals, k));
  add('kpi-ratio', t('ratio'), ins.signals_per_person || 'x');
  add('kpi-bounds', t('bounds'), fmt(ins.persons_lower_bound, k) + ' – ' + fmt(ins.total_persons, k));
  add('kpi-unlinkable', t('unlinkable'), fmt(ins.unlinkable_signals, k));
  if (ins.linkage_error && ins.linkage_error.available) {
    // One sentence from the aggregator in Dutch / English: show the half of the reader's language.
    const parts = ins.linkage_error.sentence.split(' / ');
    const p = html('p', {class: 'note', 'data-testid': 'linkage-error'});
    p.textContent = lang === 'en' && parts.length > 1 ? parts[1] : parts[0];
    container.appendChild(p);
  }
}

function estimateBox(container, e) {
  container.replaceChildren();
  if (e.available) {
    const p = html('p', {'data-testid': 'estimate'});
    p.textContent = `${t('estimate')}: ${e.estimate} (${t('interval')} ${e.lower} – ${e.upper === null ? '∞' : e.upper}, ${e.interval_method}; model ${e.model})`;
    container.appendChild(p);
  } else {
    container.appendChild(html('p', {'data-testid': 'estimate'}, e.reason === 'not requested' ? t('notRequested') : `${t('noEstimate')} ${e.reason}`));
  }
  if (e.caveats && e.caveats.length) {
    const ul = html('ul', {class: 'note'});
    e.caveats.forEach(c => ul.appendChild(html('li', {}, c)));
    container.appendChild(ul);
  }
}

function render() {
  document.documentElement.lang = lang;
  document.querySelectorAll('[data-i18n]').forEach(e => { e.textContent = t(e.dataset.i18n); });
  document.getElementById('lang-nl').setAttribute('aria-pressed', String(lang === 'nl'));
  document.getElementById('lang-en').setAttribute('aria-pressed', String(lang === 'en'));
  if (!last) return;
  const ins = last.insight, k = ins.min_cell_size;
  // Under the Cell Key Method nothing is withheld: the "<k" / "x" legend goes, the
  // perturbation is explained instead.
  const cellKey = (ins.disclosure_rules || '').includes('Cell Key Method');
  const suppressionLegend = document.getElementById('legend-suppression');
  if (cellKey && suppressionLegend) suppressionLegend.remove();
  if (!cellKey) document.getElementById('legend-k').textContent = '<' + k;
  const cellKeyLegend = document.getElementById('legend-cellkey');
  cellKeyLegend.hidden = !cellKey;
  cellKeyLegend.textContent = cellKey ? t('legendCellKey').replace('{k}', k).replace('{s}', 3 * k) : '';
  kpis(document.getElementById('kpis'), ins);
  for (const [dim, resp] of Object.entries(last.totals)) {
    bars(document.getElementById('chart-' + dim),
         resp.rows.map(r => ({label: t(r.keys[0]), testid: `${dim}:${r.keys[0]}`, count: r.persons})), k);
  }
  bars(document.getElementById('chart-agencies'),
       ins.agency_counts.map(a => ({label: t('knownTo').replace('{n}', a.agencies), testid: 'agencies:' + a.agencies, count: a.persons})), k);
  overlap(document.getElementById('overlap'), ins);
  trend(document.getElementById('trend'), ins.trend, k);
  estimateBox(document.getElementById('estimate-box'), ins.estimate);
  document.getElementById('rules').textContent = ins.counting_rules + ' ' + ins.disclosure_rules;
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
    err.textContent = e.message;
    err.hidden = false;
  } finally {
    main.setAttribute('aria-busy', 'false');
    document.body.dataset.ready = '1';
  }
}

document.addEventListener('DOMContentLoaded', () => {
  const params = new URLSearchParams(location.search);
  if (params.get('from')) document.getElementById('from').value = params.get('from');
  if (params.get('to')) document.getElementById('to').value = params.get('to');
  if (params.get('granularity')) document.getElementById('granularity').value = params.get('granularity');
  if (params.get('estimate') === '1') document.getElementById('estimate').checked = true;
  if (params.get('lang') === 'en') lang = 'en';
  document.getElementById('lang-nl').addEventListener('click', () => { lang = 'nl'; render(); });
  document.getElementById('lang-en').addEventListener('click', () => { lang = 'en'; render(); });
  document.getElementById('period').addEventListener('submit', ev => { ev.preventDefault(); load(); });
  render();
  load();
});
