#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs to build, test and run.
# Works as root or, when not root, through sudo. Installs nothing that is already there.
#
#   deploy/install-deps.sh [--check]
#
# --check installs nothing: it lists the packages that are missing.
# Exit codes: 0 installed or already there, 1 with --check: a package is missing,
# 2 usage error, otherwise non-zero.
set -euo pipefail
check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  -h|--help) sed -n '2,/^[^#]/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "install-deps: unknown argument $1 (see --help)" >&2; exit 2 ;;
esac
[ $# -le 1 ] || { echo "install-deps: one argument at most (see --help)" >&2; exit 2; }

PACKAGES=(
  build-essential cmake pkg-config ccache git ca-certificates openssl
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libsodium-dev libsqlite3-dev sqlite3 libspdlog-dev libicu-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libglpk-dev libeigen3-dev libphonenumber-dev
  libcpp-httplib-dev libssl-dev chromium chromium-driver   # dashboard and its browser test
  clang libclang-rt-14-dev llvm clang-format
  iproute2 tshark systemd curl
)

# Node.js and npm for the dashboard's browser test (playwright-core); Debian's packages
# unless a Node.js is already installed (e.g. from NodeSource, which bundles npm).
command -v node >/dev/null || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
if [ $check -eq 1 ]; then
  echo "install-deps: missing ${missing[*]}"
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install as root: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
