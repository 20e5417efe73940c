#!/usr/bin/env python3
"""Diagnosis of one linkage_quality run against the simulator's truth (synthetic data only).

A run kept with `linkage_quality ... --keep --work WORK` leaves WORK/nN_NOISE_sS/ with the
agencies' CSV files, truth.csv and, per profile, the pseudonymised reports (*.jsonl) and
record_id -> report_id maps (*.map.csv). Link them again with an explanation:

  cd WORK/n20000_geco_s1/samenzicht-default
  aggregator link --profile PROFILE --out persons.csv --explain explain.csv *.jsonl

then:

  diagnose.py estimate  RUN_DIR explain.csv persons.csv   # missed-link estimate vs truth, by kind of pair
  diagnose.py levels    RUN_DIR explain.csv persons.csv RULES   # comparison levels of pairs sharing exactly RULES
  diagnose.py invisible RUN_DIR explain.csv persons.csv   # split persons without a candidate pair: fields that agree
  diagnose.py kinds     RUN_DIR explain.csv persons.csv   # per comparison-level pattern: true and false candidates, linked
  diagnose.py presence  RUN_DIR explain.csv persons.csv --profile PROFILE   # split persons whose parts no rule can compare

A run of mse_end_to_end kept with `--keep --work WORK` has RUN_DIR = WORK/sS and the profile
folder WORK/sS/linked (pass --profile-dir).

RUN_DIR is WORK/nN_NOISE_sS; the profile folder is taken as RUN_DIR/samenzicht-default unless
--profile-dir names another. Prints counts only, apart from field names and rule names.
"""
import argparse
import collections
import csv
import glob
import itertools
import json
import os
import re
import sys


def load(run_dir, profile_dir, persons_csv):
    truth = {r['record_id']: r['true_person_id'] for r in csv.DictReader(open(os.path.join(run_dir, 'truth.csv')))}
    rep2rec = {}
    for f in glob.glob(os.path.join(profile_dir, '*.map.csv')):
        for r in csv.DictReader(open(f)):
            rep2rec[r['report_id']] = r['record_id']
    persons = {r['report_id']: r['person_id'] for r in csv.DictReader(open(persons_csv))}
    return truth, rep2rec, persons


def estimate(args, truth, rep2rec, persons):
    clusters_of = collections.defaultdict(set)
    for rep, p in persons.items():
        clusters_of[truth[rep2rec[rep]]].add(p)
    surplus = sum(len(s) - 1 for s in clusters_of.values())
    best = {}
    for r in csv.DictReader(open(args.explain)):
        a, b = r['report_id_a'], r['report_id_b']
        pa, pb = persons[a], persons[b]
        if pa == pb:
            continue
        key = (min(pa, pb), max(pa, pb))
        p = float(r['posterior'])
        if key not in best or p > best[key][0]:
            best[key] = (p, r['shared_rules'], truth[rep2rec[a]] == truth[rep2rec[b]])
    print(f"clusters too many (truth): {surplus}; pairs of clusters with a candidate pair: {len(best)}, "
          f"of which one person: {sum(v[2] for v in best.values())}; sum of their highest posteriors: "
          f"{sum(v[0] for v in best.values()):.1f} (the aggregator's estimate leaves out kinds it never links)")
    by_kind = collections.defaultdict(lambda: [0, 0.0, 0])
    for p, rules, same in best.values():
        k = by_kind[rules]
        k[0] += 1
        k[1] += p
        k[2] += same
    print(f"{'pairs':>6} {'sum post':>9} {'one person':>10}  shared rules")
    for rules, (n, s, t) in sorted(by_kind.items(), key=lambda kv: -kv[1][1])[:args.top]:
        print(f"{n:6d} {s:9.1f} {t:10d}  {rules}")


def levels(args, truth, rep2rec, persons):
    cols = ['national_id', 'phone', 'email', 'given_name', 'surname', 'date_of_birth', 'postcode', 'city', 'address']
    count = collections.defaultdict(lambda: [0, 0, 0.0, 0])
    for r in csv.DictReader(open(args.explain)):
        if r['shared_rules'] != args.rules:
            continue
        a, b = r['report_id_a'], r['report_id_b']
        key = (' '.join(f"{c}={r[c]}" for c in cols), r['linked'])
        k = count[key]
        k[0] += 1
        k[1] += truth[rep2rec[a]] == truth[rep2rec[b]]
        k[2] += float(r['posterior'])
        k[3] += persons[a] == persons[b]
    print(f"{'pairs':>6} {'one person':>10} {'mean post':>9} {'together':>8} linked  levels")
    for (lv, linked), (n, t, s, tog) in sorted(count.items(), key=lambda kv: -kv[1][0])[:args.top]:
        print(f"{n:6d} {t:10d} {s / n:9.3f} {tog:8d} {linked:6}  {lv}")


def invisible(args, truth, rep2rec, persons):
    records = {}
    for f in glob.glob(os.path.join(args.run_dir, '*.csv')):
        for r in csv.DictReader(open(f)):
            if r.get('record_id') in truth and 'given_names' in r:
                records[r['record_id']] = r
    joined = set()
    for r in csv.DictReader(open(args.explain)):
        pa, pb = persons[r['report_id_a']], persons[r['report_id_b']]
        if pa != pb:
            joined.add((min(pa, pb), max(pa, pb)))
    parts = collections.defaultdict(lambda: collections.defaultdict(list))
    for rep, p in persons.items():
        rid = rep2rec[rep]
        parts[truth[rid]][p].append(rid)
    fields = ['given_names', 'surname', 'date_of_birth', 'gender', 'national_id', 'phone', 'email', 'postcode', 'city']
    combos = collections.Counter()
    for person, clusters in parts.items():
        for x, y in itertools.combinations(sorted(clusters), 2):
            if (min(x, y), max(x, y)) in joined:
                continue
            best = ()
            for a in clusters[x]:
                for b in clusters[y]:
                    ra, rb = records[a], records[b]
                    agree = tuple(f for f in fields if ra[f].strip() and ra[f].strip().lower() == rb[f].strip().lower())
                    if len(agree) > len(best):
                        best = agree
            combos[best] += 1
    print(f"pairs of parts of one person without a candidate pair: {sum(combos.values())}")
    for agree, n in combos.most_common(args.top):
        print(f"{n:6d}  {' '.join(agree) if agree else '(no field agrees exactly)'}")


def kinds(args, truth, rep2rec, persons):
    """Per pattern of comparison levels (as --explain prints them): candidate pairs that are one
    person and two persons, and how many of each were linked. Patterns with false links or
    missed true pairs only, most candidates first."""
    cols = ['given_name', 'surname', 'date_of_birth', 'postcode', 'city', 'national_id', 'phone', 'email', 'address']
    count = collections.defaultdict(lambda: [0, 0, 0, 0])  # true, false, true linked, false linked
    for r in csv.DictReader(open(args.explain)):
        same = truth[rep2rec[r['report_id_a']]] == truth[rep2rec[r['report_id_b']]]
        k = count[tuple(r[c] for c in cols)]
        k[0 if same else 1] += 1
        if r['linked'] == 'yes':
            k[2 if same else 3] += 1
    print(f"{'true':>6} {'false':>6} {'true linked':>11} {'false linked':>12}  levels ({', '.join(cols)})")
    rows = [(lv, k) for lv, k in count.items() if k[3] or k[2] != k[0]]
    for lv, k in sorted(rows, key=lambda kv: -(kv[1][0] + kv[1][1]))[:args.top]:
        print(f"{k[0]:6d} {k[1]:6d} {k[2]:11d} {k[3]:12d}  {' '.join(lv)}")


# Comparison of each field, as CertifiedLevel in aggregator/linkage/probabilistic_linkage.cc
# (levels do not matter here: a rule uses a comparison or not).
FIELD_COMPARISON = {
    'FIELD_NATIONAL_ID': 'national_id', 'FIELD_PHONE': 'phone', 'FIELD_EMAIL': 'email',
    'FIELD_GIVEN_NAMES': 'given_name', 'FIELD_FIRST_GIVEN_NAME': 'given_name',
    'FIELD_GIVEN_NAME_PHONETIC': 'given_name', 'FIELD_GIVEN_NAME_DELETIONS': 'given_name',
    'FIELD_FIRST_INITIAL': 'given_name', 'FIELD_SURNAME': 'surname',
    'FIELD_SURNAME_WITH_PREFIX': 'surname', 'FIELD_SURNAME_PHONETIC': 'surname',
    'FIELD_SURNAME_DELETIONS': 'surname', 'FIELD_SURNAME_SORTED_LETTERS': 'surname',
    'FIELD_DATE_OF_BIRTH': 'date_of_birth', 'FIELD_DOB_DAY_MONTH_UNORDERED': 'date_of_birth',
    'FIELD_DOB_YEAR_MONTH': 'date_of_birth', 'FIELD_DOB_YEAR_DAY': 'date_of_birth',
    'FIELD_DOB_MONTH_DAY': 'date_of_birth', 'FIELD_BIRTH_YEAR': 'date_of_birth',
    'FIELD_POSTCODE': 'postcode', 'FIELD_POSTCODE_DELETIONS': 'postcode',
    'FIELD_POSTCODE_AREA': 'postcode', 'FIELD_CITY': 'city', 'FIELD_CITY_PHONETIC': 'city',
    'FIELD_NAME_PAIR_PHONETIC': ('given_name', 'surname'),
    'FIELD_NAME_DELETIONS': ('given_name', 'surname'),
}


def profile_rules(path):
    """Rule name -> the comparisons it uses, from a profile in text format."""
    rules = {}
    for block in re.findall(r'rules\s*\{(.*?)\n\}', open(path).read(), re.S):
        name = re.search(r'name:\s*"([^"]+)"', block).group(1)
        fields = re.findall(r'FIELD_[A-Z_]+', ' '.join(l for l in block.split('\n') if 'fields' in l))
        used = set()
        for f in fields:
            c = FIELD_COMPARISON.get(f)
            if f == 'FIELD_STREET_PHONETIC' and 'FIELD_HOUSE_NUMBER' in fields:
                c = 'address'
            if isinstance(c, tuple):
                used.update(c)
            elif c:
                used.add(c)
        if used:
            rules[name] = frozenset(used)
    return rules


def presence(args, truth, rep2rec, persons):
    """Split persons by whether the linkage could ever have compared their parts. A report
    "has" a comparison when it carries a token of a rule that uses it (as the aggregator's
    linkage sees it); two reports can be a candidate pair only when some rule uses nothing
    but comparisons both have. Pairs of parts of one person are counted as: joined by a
    candidate pair; comparable (some rule fits both) but no candidate; incomparable. Then,
    over all pairs of reports, the expected matches among incomparable pairs if they were one
    person as often as comparable ones are (the sum of the posteriors of the candidate pairs
    over the comparable pairs of reports), against the truth."""
    rules = profile_rules(args.profile)
    has = {}
    for f in glob.glob(os.path.join(args.profile_dir or os.path.join(args.run_dir, 'samenzicht-default'), '*.jsonl')):
        for line in open(f):
            r = json.loads(line)
            has[r['report_id']] = frozenset().union(*[rules.get(t['rule'], frozenset()) for t in r.get('tokens', [])])
    comparable_cache = {}

    def comparable(x, y):
        key = x & y
        if key not in comparable_cache:
            comparable_cache[key] = any(used <= key for used in rules.values())
        return comparable_cache[key]

    joined, posterior_sum = set(), 0.0
    for r in csv.DictReader(open(args.explain)):
        a, b = r['report_id_a'], r['report_id_b']
        posterior_sum += float(r['estimate_posterior'])
        joined.add((min(persons[a], persons[b]), max(persons[a], persons[b])))
    parts = collections.defaultdict(lambda: collections.defaultdict(list))
    for rep, p in persons.items():
        parts[truth[rep2rec[rep]]][p].append(rep)
    kinds = collections.Counter()
    for person, clusters in parts.items():
        for x, y in itertools.combinations(sorted(clusters), 2):
            if (min(x, y), max(x, y)) in joined:
                kinds['candidate'] += 1
            elif any(comparable(has[a], has[b]) for a in clusters[x] for b in clusters[y]):
                kinds['comparable'] += 1
            else:
                kinds['incomparable'] += 1
    surplus = sum(len(c) - 1 for c in parts.values())
    print(f"clusters too many (truth): {surplus}; pairs of parts of one person: "
          f"{sum(kinds.values())}, joined by a candidate pair {kinds['candidate']}, comparable "
          f"without one {kinds['comparable']}, incomparable (no rule fits both) {kinds['incomparable']}")
    groups = collections.Counter(has.values())
    keys = list(groups)
    pairs_comparable = pairs_incomparable = 0
    for i, x in enumerate(keys):
        for y in keys[i:]:
            n = groups[x] * groups[y] if x != y else groups[x] * (groups[x] - 1) // 2
            if comparable(x, y):
                pairs_comparable += n
            else:
                pairs_incomparable += n
    true_incomparable = 0
    reports_of = collections.defaultdict(list)
    for rep in persons:
        reports_of[truth[rep2rec[rep]]].append(rep)
    for reps in reports_of.values():
        true_incomparable += sum(not comparable(has[a], has[b]) for a, b in itertools.combinations(reps, 2))
    rate = posterior_sum / pairs_comparable if pairs_comparable else 0.0
    print(f"pairs of reports: {pairs_comparable} comparable (sum of candidate posteriors "
          f"{posterior_sum:.1f}, {rate:.6f} a pair), {pairs_incomparable} incomparable: at that rate "
          f"{rate * pairs_incomparable:.1f} of them one person; truth: {true_incomparable}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('command', choices=['estimate', 'levels', 'invisible', 'kinds', 'presence'])
    ap.add_argument('run_dir')
    ap.add_argument('explain')
    ap.add_argument('persons')
    ap.add_argument('rules', nargs='?', default='', help='levels: the shared rules, as in explain.csv')
    ap.add_argument('--profile-dir', help='default RUN_DIR/samenzicht-default')
    ap.add_argument('--top', type=int, default=25)
    ap.add_argument('--profile', help='presence: the linkage profile (text format) the run used')
    args = ap.parse_args()
    if args.command == 'levels' and not args.rules:
        ap.error('levels needs RULES (for example "surdel_pca")')
    if args.command == 'presence' and not args.profile:
        ap.error('presence needs --profile')
    data = load(args.run_dir, args.profile_dir or os.path.join(args.run_dir, 'samenzicht-default'), args.persons)
    {'estimate': estimate, 'levels': levels, 'invisible': invisible, 'kinds': kinds, 'presence': presence}[args.command](args, *data)


if __name__ == '__main__':
    sys.exit(main())
