#!/usr/bin/env bash
# deploy/pki.sh as an administrator uses it: `issue` never overwrites an existing name,
# `renew` revokes the old certificate (checked with openssl verify against the CRL) and
# issues a new key, `p12` writes a bundle that opens with the printed password and holds
# the key, the certificate and the CA, and `--help` is the help text on stdout with exit 0.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
pki="$repo/deploy/pki.sh"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }
ca="$work/ca"

out=$("$pki" --help) || fail "--help exited $?"
grep -q "samenzicht-pki renew" <<< "$out" || fail "--help does not describe renew"
grep -q "set -euo" <<< "$out" && fail "--help prints a line of the script"
[ -z "$("$pki" --help 2>&1 >/dev/null)" ] || fail "--help writes to stderr"
set +e; "$pki" frobnicate "$ca" >/dev/null 2>&1; rc=$?; set -e
[ $rc -eq 2 ] || fail "an unknown command exits $rc, not 2"
echo "ok: --help on stdout with exit 0; a usage error exits 2"

"$pki" init "$ca" >/dev/null
"$pki" issue "$ca" police agency >/dev/null
before=$(sha256sum "$ca/police.key" "$ca/police.crt")
set +e; msg=$("$pki" issue "$ca" police agency 2>&1); rc=$?; set -e
[ $rc -eq 1 ] || fail "issuing an existing name exits $rc, not 1"
[ "$(sha256sum "$ca/police.key" "$ca/police.crt")" = "$before" ] || fail "issue overwrote police's key or certificate"
grep -q "renew" <<< "$msg" || fail "the refusal does not point at renew: $msg"
echo "ok: issue refuses an existing name and changes nothing"

cp "$ca/police.crt" "$work/old.crt"
"$pki" renew "$ca" police >/dev/null
[ "$(sha256sum "$ca/police.key" | cut -d' ' -f1)" != "$(echo "$before" | head -n1 | cut -d' ' -f1)" ] || fail "renew kept the old key"
openssl verify -CAfile "$ca/ca.crt" -CRLfile "$ca/crl/ca.crl.pem" -crl_check "$ca/police.crt" >/dev/null ||
  fail "the renewed certificate does not verify"
if openssl verify -CAfile "$ca/ca.crt" -CRLfile "$ca/crl/ca.crl.pem" -crl_check "$work/old.crt" >/dev/null 2>&1; then
  fail "the old certificate is still valid after renew"
fi
openssl x509 -in "$ca/police.crt" -noout -subject | grep -q "OU *= *agency" || fail "renew lost the role"
"$pki" reissue "$ca" police >/dev/null   # a second renewal revokes the first renewal's certificate
[ "$(ls "$ca/retired/" | grep -c '\.crt$')" -eq 2 ] || fail "retired/ does not hold both old certificates"
echo "ok: renew revokes the old certificate (refused against the CRL) and keeps the role"

"$pki" issue "$ca" analyst-1 analyst >/dev/null
out=$("$pki" p12 "$ca" analyst-1) || fail "p12 failed"
pass=$(cat "$ca/analyst-1.p12.password")
grep -qF -e "$pass" <<< "$out" || fail "p12 does not print the password"
[ "$(stat -c %a "$ca/analyst-1.p12")" = 600 ] || fail "the PKCS#12 file is not mode 0600"
certs=$(openssl pkcs12 -in "$ca/analyst-1.p12" -passin "pass:$pass" -nokeys 2>/dev/null | grep -c "BEGIN CERTIFICATE")
[ "$certs" -eq 2 ] || fail "the PKCS#12 file holds $certs certificates, not 2 (the analyst's and the CA)"
openssl pkcs12 -in "$ca/analyst-1.p12" -passin "pass:$pass" -nocerts -nodes 2>/dev/null | grep -q "BEGIN PRIVATE KEY" ||
  fail "the PKCS#12 file holds no key"
if openssl pkcs12 -in "$ca/analyst-1.p12" -passin "pass:wrong" -nokeys >/dev/null 2>&1; then
  fail "the PKCS#12 file opens with a wrong password"
fi
echo "ok: p12 writes a bundle (key, certificate, CA) that opens only with the printed password"
echo "1 passed, 0 failed"
