#!/usr/bin/env bash
# Certificate authority for one deployment, with OpenSSL.
#
#   deploy/pki.sh init   DIR                      create the deployment CA in DIR (and an empty CRL)
#   deploy/pki.sh issue  DIR NAME ROLE [SAN ...]  key + certificate for NAME with role ROLE
#   deploy/pki.sh renew  DIR NAME                 new key + certificate, same name, role and SANs
#   deploy/pki.sh revoke DIR NAME                 revoke NAME's certificate; rewrites DIR/crl/
#   deploy/pki.sh crl    DIR                      re-sign the CRL (it is valid 30 days: do this monthly)
#
# ROLE is one of: server, agency, analyst, privacy_officer, admin. It is written into the
# certificate subject as OU=ROLE; the aggregator reads the role and the name (CN) from the
# verified client certificate, never from a request. For a server, SANs name the hosts
# clients connect to (default: DNS:localhost, IP:127.0.0.1, IP:::1).
# Keys are EC P-256, written with mode 0600. Certificates are valid for 397 days.
set -euo pipefail

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

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
    [ -f "$dir/ca.key" ] || { echo "pki: no CA in $dir; run: $0 init $dir" >&2; exit 1; }
    key="$dir/$name.key" crt="$dir/$name.crt"
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
  renew)
    [ $# -eq 3 ] || usage
    name=$3
    [ -f "$dir/$name.role" ] || { echo "pki: no certificate issued for $name in $dir" >&2; exit 1; }
    read -r role sans < "$dir/$name.role"
    "$0" revoke "$dir" "$name" >/dev/null 2>&1 || true   # the old one may be revoked already
    # shellcheck disable=SC2086
    "$0" issue "$dir" "$name" "$role" $sans
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
  crl)
    gen_crl "$dir"
    echo "pki: re-signed $dir/crl/ca.crl.pem (valid 30 days)"
    ;;
  *) usage ;;
esac
