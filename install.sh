#!/bin/sh
# OpenScope installer: curl -fsSL <base>/install.sh | sh -s -- [client|relay|daemon|all]
# Detects the platform, downloads the chosen programs and SHA256SUMS from OPENSCOPE_BASE_URL,
# checks the Ed25519 signature of SHA256SUMS against the pinned release key below (openssl 3, when
# present) and every sha256, and refuses on any mismatch: a signature that is present and does not
# verify is refused, never warned about. POSIX sh; keep it shellcheck-clean.
#
# Environment:
#   OPENSCOPE_BASE_URL            where the release files are (default: the project's latest release)
#   OPENSCOPE_INSTALL_DIR         where to install (default: /usr/local/bin as root, else ~/.local/bin)
#   OPENSCOPE_REQUIRE_SIGNATURE=1 refuse unless the signature of SHA256SUMS is verified
#   OPENSCOPE_RELEASE_PUBKEY      a PEM file to verify with instead of the key below (mirrors, forks)
#   OPENSCOPE_UNAME_S, OPENSCOPE_UNAME_M, OPENSCOPE_LIBC (glibc|musl)   override detection (tests)
set -eu

DEFAULT_BASE_URL="https://github.com/openscope/openscope/releases/latest/download"

# The pinned release public key: release-key.pub of the repo, written in here by
# `bun run release` (a test keeps the two identical). Never read from the download.
RELEASE_PUBKEY='-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAErAC/FgIAKi3ewOA0RiFMRi7hP/HdewD0G4HV12Xufw=
-----END PUBLIC KEY-----'

say() { printf 'openscope-install: %s\n' "$*" >&2; }
die() {
  printf 'openscope-install: error: %s\n' "$1" >&2
  shift
  for hint in "$@"; do printf 'openscope-install: hint: %s\n' "$hint" >&2; done
  exit 1
}

usage() {
  cat >&2 <<'EOF'
usage: install.sh [client|relay|daemon|all]...
  client  openscope-reflect-client (connect to a share)
  relay   openscope-relay (the blind relay)
  daemon  openscope (the daemon and operator CLI)
  all     all three (the default)
EOF
}

# ---- what to install ------------------------------------------------------------------------
programs=""
add_program() {
  case " $programs " in *" $1 "*) ;; *) programs="${programs:+$programs }$1" ;; esac
}
if [ "$#" -eq 0 ]; then set -- all; fi
for arg in "$@"; do
  case "$arg" in
    client) add_program openscope-reflect-client ;;
    relay) add_program openscope-relay ;;
    daemon) add_program openscope ;;
    all) add_program openscope; add_program openscope-relay; add_program openscope-reflect-client ;;
    -h | --help) usage; exit 0 ;;
    *) usage; die "unknown program '$arg'" "choose client, relay, daemon or all" ;;
  esac
done

# ---- platform -------------------------------------------------------------------------------
uname_s=${OPENSCOPE_UNAME_S:-$(uname -s)}
uname_m=${OPENSCOPE_UNAME_M:-$(uname -m)}
exe=""
case "$uname_s" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  MINGW* | MSYS* | CYGWIN*) os=windows; exe=".exe" ;;
  *) os="" ;;
esac
case "$uname_m" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch="" ;;
esac
if [ -z "$os" ] || [ -z "$arch" ]; then
  die "unsupported platform: $uname_s $uname_m" \
    "prebuilt binaries exist for linux x64/arm64 (glibc and musl), darwin x64/arm64 and windows x64" \
    "on other platforms build from source: bun build --compile daemon.ts (see README.md)"
fi
if [ "$os" = windows ] && [ "$arch" != x64 ]; then
  die "unsupported platform: $uname_s $uname_m" "windows builds exist for x64 only"
fi
# An x64 shell under Rosetta on Apple silicon: prefer the native build.
if [ "$os" = darwin ] && [ "$arch" = x64 ] && [ -z "${OPENSCOPE_UNAME_M:-}" ] &&
  [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)" = 1 ]; then
  arch=arm64
fi
platform="$os-$arch"
if [ "$os" = linux ]; then
  libc=${OPENSCOPE_LIBC:-}
  if [ -z "$libc" ]; then
    libc=glibc
    if ls /lib/ld-musl-* >/dev/null 2>&1 || (ldd --version 2>&1 || true) | grep -qi musl; then libc=musl; fi
  fi
  case "$libc" in
    glibc) ;;
    musl) platform="$platform-musl" ;;
    *) die "OPENSCOPE_LIBC must be glibc or musl, not '$libc'" ;;
  esac
fi

# ---- tools ----------------------------------------------------------------------------------
if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL --proto '=https,http' -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  die "neither curl nor wget found" "install one of them and run this again"
fi
if command -v sha256sum >/dev/null 2>&1; then
  sha256_of() { sha256sum "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256_of() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
else
  die "neither sha256sum nor shasum found: cannot verify downloads" "install coreutils (sha256sum) or perl (shasum)"
fi

base=${OPENSCOPE_BASE_URL:-$DEFAULT_BASE_URL}
base=${base%/}
tmp=$(mktemp -d 2>/dev/null || mktemp -d -t openscope)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

say "platform $platform; installing $programs from $base"
fetch "$base/SHA256SUMS" "$tmp/SHA256SUMS" || die "could not download $base/SHA256SUMS" "check OPENSCOPE_BASE_URL and your network"

# ---- signature of SHA256SUMS (Ed25519, verified with openssl 3 where available) ------------
verified=no
bad_signature=no
why=""
if ! fetch "$base/SHA256SUMS.sig" "$tmp/SHA256SUMS.sig" 2>/dev/null; then
  why="no SHA256SUMS.sig in this release"
elif ! command -v openssl >/dev/null 2>&1; then
  why="openssl not found (OpenSSL 3 verifies Ed25519)"
else
  if [ -n "${OPENSCOPE_RELEASE_PUBKEY:-}" ]; then
    cp "$OPENSCOPE_RELEASE_PUBKEY" "$tmp/release-key.pub" || die "cannot read OPENSCOPE_RELEASE_PUBKEY ($OPENSCOPE_RELEASE_PUBKEY)"
  else
    printf '%s\n' "$RELEASE_PUBKEY" >"$tmp/release-key.pub"
  fi
  if openssl pkeyutl -verify -pubin -inkey "$tmp/release-key.pub" -rawin \
    -in "$tmp/SHA256SUMS" -sigfile "$tmp/SHA256SUMS.sig" >"$tmp/openssl.out" 2>&1; then
    verified=yes
  elif grep -qi 'signature verification failure' "$tmp/openssl.out"; then
    bad_signature=yes
    why="SHA256SUMS.sig is present but SHA256SUMS is not signed by the OpenScope release key"
  else
    why="this openssl cannot verify Ed25519 (OpenSSL 3 needed)"
  fi
fi
if [ "$verified" = yes ]; then
  say "signature verified: SHA256SUMS is signed by the OpenScope release key"
elif [ "$bad_signature" = yes ]; then
  die "signature check failed: $why; refusing to install" \
    "nothing was installed; a release signed by another key is not an OpenScope release" \
    "for a build of your own, set OPENSCOPE_RELEASE_PUBKEY to the PEM file of the key that signed it"
elif [ "${OPENSCOPE_REQUIRE_SIGNATURE:-0}" = 1 ]; then
  die "signature not verified: $why" "OPENSCOPE_REQUIRE_SIGNATURE=1 refuses an unverified release"
else
  say "warning: signature not verified: $why; relying on the sha256 checksums over ${base%%://*}"
fi

# ---- download and check every program before installing any ---------------------------------
for prog in $programs; do
  name="$prog-$platform$exe"
  expected=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1; exit }' "$tmp/SHA256SUMS")
  if [ -z "$expected" ]; then
    die "no $prog build for $platform in this release" "see $base/SHA256SUMS for the platforms it has"
  fi
  fetch "$base/$name" "$tmp/$name" || die "could not download $base/$name"
  actual=$(sha256_of "$tmp/$name")
  if [ "$actual" != "$expected" ]; then
    die "checksum mismatch for $name: expected $expected, got $actual; refusing to install" \
      "the download is corrupt or was tampered with; nothing was installed"
  fi
done

# ---- install --------------------------------------------------------------------------------
if [ -n "${OPENSCOPE_INSTALL_DIR:-}" ]; then
  dir=$OPENSCOPE_INSTALL_DIR
elif [ "$(id -u)" = 0 ]; then
  dir=/usr/local/bin
else
  dir="${HOME:?HOME is not set}/.local/bin"
fi
mkdir -p "$dir" || die "cannot create $dir" "set OPENSCOPE_INSTALL_DIR to a folder you can write"
for prog in $programs; do
  name="$prog-$platform$exe"
  cp "$tmp/$name" "$dir/.$prog$exe.new" || die "cannot write to $dir" "set OPENSCOPE_INSTALL_DIR to a folder you can write"
  chmod 755 "$dir/.$prog$exe.new"
  mv -f "$dir/.$prog$exe.new" "$dir/$prog$exe"
  say "installed $dir/$prog$exe"
done

case ":${PATH:-}:" in
  *":$dir:"*) ;;
  *) say "note: $dir is not on your PATH; add it, e.g. export PATH=\"$dir:\$PATH\"" ;;
esac

say "next:"
for prog in $programs; do
  case "$prog" in
    openscope) say "  openscope init          # create the daemon identity, then: openscope daemon --relay wss://…" ;;
    openscope-relay) say "  openscope-relay --listen 0.0.0.0:8443 --tokens-file tokens.txt   # see docs/deploy-relay.md" ;;
    openscope-reflect-client) say "  openscope-reflect-client --passport <handle>   # the handle you were given" ;;
  esac
done
