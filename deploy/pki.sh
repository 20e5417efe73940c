#!/usr/bin/env bash
# Certificate authority for one deployment, with OpenSSL. Installed as samenzicht-pki.
#
#   samenzicht-pki init   DIR                      create the deployment CA in DIR (and an empty CRL)
#   samenzicht-pki issue  DIR NAME ROLE [SAN ...]  key + certificate for a new NAME with role ROLE
#   samenzicht-pki renew  DIR NAME                 revoke NAME's certificate, issue a new key +
#                                                  certificate (same name, role and SANs)
#   samenzicht-pki reissue DIR NAME                the same as renew
#   samenzicht-pki revoke DIR NAME                 revoke NAME's certificate; rewrites DIR/crl/
#   samenzicht-pki crl    DIR                      re-sign the CRL (it is valid 30 days: do this monthly)
#   samenzicht-pki p12    DIR NAME [FILE]          NAME's key, certificate and the CA in one PKCS#12
#                                                  file for a browser (default DIR/NAME.p12); the
#                                                  password is printed and kept in FILE.password
#   samenzicht-pki --help                          this text
#
# ROLE is one of: server, agency, analyst, privacy_officer, admin. It is written into the
# certificate subject as OU=ROLE; the aggregator reads the role and the name (CN) from the
# verified client certificate, never from a request. For a server, SANs name the hosts
# clients connect to (default: DNS:localhost, IP:127.0.0.1, IP:::1).
# Keys are EC P-256, written with mode 0600. Certificates are valid for 397 days.
# `issue` refuses a NAME that already has a certificate in DIR: use `renew`, which revokes
# the old one first. Old keys and certificates are kept in DIR/retired/.
# Exit codes: 0 done, 1 failed (the reason on stderr), 2 usage error.
set -euo pipefail

# The comment block above, without the leading "# ".
help_text() { sed -n '2,/^[^#]/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
usage() { help_text >&2; exit 2; }

# The CA's small database for revocation (openssl ca), created on first use.
ca_db() {
  local d=$1
  mkdir -p "$d/crl"; chmod 755 "$d/crl"
  [ -f "$d/index.txt" ] || : > "$d/index.txt"
  [ -f "$d/crlnumber" ] || echo 1000 > "$d/crlnumber"
  cat > "$d/ca.cnf" <<CNF
[ ca ]
default_ca = deployment
[ deployment ]
database = $d/index.txt
crlnumber = $d/crlnumber
certificate = $d/ca.crt
private_key = $d/ca.key
default_md = sha256
default_crl_days = 30
CNF
}

# Writes DIR/crl/ca.crl.pem and the hashed name the TLS stack looks up (openssl rehash).
gen_crl() {
  local d=$1
  ca_db "$d"
  openssl ca -config "$d/ca.cnf" -gencrl -out "$d/crl/ca.crl.pem" 2>/dev/null
  chmod 644 "$d/crl/ca.crl.pem"
  openssl rehash "$d/crl" 2>/dev/null || c_rehash "$d/crl" >/dev/null
}
case "${1:-}" in -h|--help|help) help_text; exit 0 ;; esac
[ $# -ge 2 ] || usage
cmd=$1 dir=$2
umask 077

case "$cmd" in
  init)
    mkdir -p "$dir"
    if [ -f "$dir/ca.key" ]; then echo "pki: CA already exists in $dir" >&2; exit 0; fi
    openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 3650 \
      -subj "/O=Samenzicht/CN=Samenzicht deployment CA" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$dir/ca.crt"
    chmod 644 "$dir/ca.crt"
    gen_crl "$dir"
    echo "pki: created CA $dir/ca.crt and an empty revocation list $dir/crl/"
    ;;
  issue)
    [ $# -ge 4 ] || usage
    name=$3 role=$4; shift 4
    case "$role" in server|agency|analyst|privacy_officer|admin) ;; *)
      echo "pki: unknown role '$role' (server, agency, analyst, privacy_officer, admin)" >&2; exit 2;;
    esac
    case "$name" in *[!A-Za-z0-9._-]*|"") echo "pki: name may hold only A-Z a-z 0-9 . _ -" >&2; exit 2;; esac
    [ -f "$dir/ca.key" ] || { echo "pki: no CA in $dir; run: $(basename "$0") init $dir" >&2; exit 1; }
    key="$dir/$name.key" crt="$dir/$name.crt"
    if [ -e "$key" ] || [ -e "$crt" ]; then
      echo "pki: $name already has a key or certificate in $dir; nothing changed." >&2
      echo "     To replace it (and revoke the old certificate): $(basename "$0") renew $dir $name" >&2
      exit 1
    fi
    openssl ecparam -name prime256v1 -genkey -noout -out "$key" 2>/dev/null
    ext=$(mktemp)
    trap 'rm -f "$ext" "$dir/$name.csr"' EXIT
    if [ "$role" = server ]; then
      sans=${*:-DNS:localhost IP:127.0.0.1 IP:::1}
      printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
        "$(echo "$sans" | tr ' ' ',')" > "$ext"
    else
      printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' > "$ext"
    fi
    openssl req -new -key "$key" -subj "/O=Samenzicht/OU=$role/CN=$name" -out "$dir/$name.csr"
    openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
      -CAcreateserial -days 397 -sha256 -extfile "$ext" -out "$crt" 2>/dev/null
    chmod 600 "$key"; chmod 644 "$crt"
    echo "$role $*" > "$dir/$name.role"
    echo "pki: issued $crt (CN=$name, OU=$role)"
    ;;
  renew|reissue)
    [ $# -eq 3 ] || usage
    name=$3
    [ -f "$dir/$name.role" ] || { echo "pki: no certificate issued for $name in $dir" >&2; exit 1; }
    read -r role sans < "$dir/$name.role"
    if [ -f "$dir/$name.crt" ]; then
      serial=$(openssl x509 -in "$dir/$name.crt" -noout -serial | sed 's/^serial=//')
      # Revoke unless it is revoked already (index.txt marks revoked entries with R).
      if ! awk -F'\t' -v s="$serial" '$1 == "R" && $4 == s { found=1 } END { exit !found }' "$dir/index.txt" 2>/dev/null; then
        "$0" revoke "$dir" "$name" >/dev/null
      fi
      mkdir -p "$dir/retired"
      mv "$dir/$name.crt" "$dir/retired/$name.$serial.crt"
      [ -f "$dir/$name.key" ] && mv "$dir/$name.key" "$dir/retired/$name.$serial.key"
      echo "pki: revoked the old certificate of $name (serial $serial); kept in $dir/retired/"
    fi
    # shellcheck disable=SC2086
    "$0" issue "$dir" "$name" "$role" $sans
    echo "pki: distribute $dir/crl/ again (aggregator, agency hosts, analysts' workstations)"
    ;;
  revoke)
    [ $# -eq 3 ] || usage
    name=$3
    [ -f "$dir/$name.crt" ] || { echo "pki: no certificate $dir/$name.crt" >&2; exit 1; }
    ca_db "$dir"
    openssl ca -config "$dir/ca.cnf" -revoke "$dir/$name.crt" 2>/dev/null ||
      { echo "pki: could not revoke $dir/$name.crt (already revoked?)" >&2; exit 1; }
    gen_crl "$dir"
    echo "pki: revoked $dir/$name.crt; distribute $dir/crl/ to the aggregator's crl_directory"
    ;;
  p12)
    [ $# -ge 3 ] && [ $# -le 4 ] || usage
    name=$3 out=${4:-$dir/$3.p12}
    [ -f "$dir/$name.crt" ] && [ -f "$dir/$name.key" ] || { echo "pki: no key and certificate for $name in $dir" >&2; exit 1; }
    [ -e "$out" ] && { echo "pki: $out exists; nothing changed" >&2; exit 1; }
    pass=${SAMENZICHT_P12_PASSWORD:-$(openssl rand -base64 15 | tr '+/' '-_')}
    printf '%s\n' "$pass" > "$out.password"
    chmod 600 "$out.password"
    openssl pkcs12 -export -inkey "$dir/$name.key" -in "$dir/$name.crt" -certfile "$dir/ca.crt" \
      -name "$name" -out "$out" -passout "file:$out.password"
    chmod 600 "$out"
    echo "pki: wrote $out (key, certificate and the deployment CA of $name)"
    echo "pki: its password: $pass (also in $out.password)"
    echo "     Import it into the browser's personal certificates, and trust $dir/ca.crt as an authority for web sites."
    ;;
  crl)
    gen_crl "$dir"
    echo "pki: re-signed $dir/crl/ca.crl.pem (valid 30 days)"
    ;;
  *) usage ;;
esac
