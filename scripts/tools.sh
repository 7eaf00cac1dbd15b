#!/usr/bin/env bash
# Installs what building, running and testing Capstan need, and nothing that is already there.
# Sourced by ./dev; every function is idempotent and checks versions before doing work.
# The pinned versions and the lock fixes come from ../shared/design/toolchain.md: the newest
# releases of cargo-leptos and wasm-bindgen-cli do not build on rustc 1.95 with this registry.

CARGO_LEPTOS_VERSION=0.3.11
WASM_BINDGEN_VERSION=0.2.130 # must equal the `=` pin of wasm-bindgen in Cargo.toml
BINARYEN_NPM_VERSION=132.0.0
TOOLS_DIR="${CAPSTAN_TOOLS_DIR:-$HOME/.cache/capstan-tools}"

# Each step says when it started (minutes:seconds since the command began), so a slow step shows.
log() { printf '\033[1;34m==>\033[0m [%d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

have_version() { # have_version <cmd> <expected substring> [args]
  local cmd=$1 want=$2; shift 2
  command -v "$cmd" >/dev/null 2>&1 && "$cmd" "${@:---version}" 2>/dev/null | grep -qF "$want"
}

# cargo install from a copy of the crate source with one dependency held back (toolchain.md).
install_crate_with_lock_fix() { # <crate> <version> <dep> <dep-version>
  local crate=$1 version=$2 dep=$3 depver=$4
  log "installing $crate $version (first time only; 15-20 minutes on 2 cores)"
  cargo info "$crate@$version" >/dev/null 2>&1 || die "cannot fetch $crate $version from the crate registry"
  local src
  src=$(ls -d "$HOME"/.cargo/registry/src/*/"$crate-$version" 2>/dev/null | head -n1)
  [ -n "$src" ] || die "source of $crate $version not found in ~/.cargo/registry"
  local work="$TOOLS_DIR/src/$crate-$version"
  rm -rf "$work" && mkdir -p "$TOOLS_DIR/src" && cp -r "$src" "$work"
  (cd "$work" && cargo update -p "$dep" --precise "$depver" >/dev/null 2>&1 || true)
  cargo install --path "$work" --locked --force --target-dir "$TOOLS_DIR/target" \
    || die "cargo install $crate failed"
  rm -rf "$TOOLS_DIR/target"
}

ensure_rust_tools() {
  rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown \
    || { log "adding the wasm32 target"; rustup target add wasm32-unknown-unknown; }
  have_version cargo-leptos "$CARGO_LEPTOS_VERSION" \
    || install_crate_with_lock_fix cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-util-schemas 0.14.1
  have_version wasm-bindgen "$WASM_BINDGEN_VERSION" \
    || install_crate_with_lock_fix wasm-bindgen-cli "$WASM_BINDGEN_VERSION" webpki-roots 1.0.10
}

# npm's binaryen: Debian's wasm-opt 108 builds a wasm that never hydrates (toolchain.md).
ensure_wasm_opt() {
  local dir="$TOOLS_DIR/npm"
  if [ ! -x "$dir/node_modules/.bin/wasm-opt" ]; then
    log "installing npm binaryen $BINARYEN_NPM_VERSION (wasm-opt for release builds)"
    mkdir -p "$dir"
    (cd "$dir" && npm install --no-audit --no-fund --silent "binaryen@$BINARYEN_NPM_VERSION") \
      || die "npm install binaryen failed"
  fi
  export PATH="$dir/node_modules/.bin:$PATH"
}

apt_install() { # apt_install <pkg>... : only when root with apt, only what is missing
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    die "missing Debian packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})"
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; } \
    || die "apt-get install ${missing[*]} failed"
}

ensure_test_packages() {
  apt_install docker.io docker-registry busybox-static chromium openssl curl postgresql
}

ensure_end2end_packages() {
  if [ ! -d end2end/node_modules/@playwright/test ]; then
    log "installing end2end npm packages (Playwright, without its browser download)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent) \
      || die "npm ci in end2end failed"
  fi
}

# The shared build directory keeps every build of every test binary: each checkout path (a CI
# clone, a worktree) gets its own, and the server's are over a GB each. Before a test run, keep
# only the newest build of each large file (test binaries and the workspace's own libraries; no
# dependency is that large, so builds of one crate with other features stay), never one younger
# than 10 minutes (another build may be using it), and drop the incremental caches (`./dev test`
# builds without them).
prune_target() {
  local deps="$CARGO_TARGET_DIR/debug/deps" f key
  rm -rf "$CARGO_TARGET_DIR/debug/incremental"
  [ -d "$deps" ] || return 0
  declare -A seen=()
  while read -r f; do
    [[ $f =~ ^(.*)-[0-9a-f]{16}(.*)$ ]] || continue
    key="${BASH_REMATCH[1]}${BASH_REMATCH[2]}"
    if [ -n "${seen[$key]:-}" ]; then
      find "$deps/$f" -maxdepth 0 -mmin +10 -size +100M -delete 2>/dev/null || true
    fi
    seen[$key]=1
  done < <(ls -t "$deps")
}

# schemathesis (PyPI) in its own virtualenv, for the API fuzzing step of `./dev test`.
SCHEMATHESIS_VERSION=4.32.5
ensure_schemathesis() {
  local venv="$TOOLS_DIR/schemathesis"
  SCHEMATHESIS="$venv/bin/schemathesis"
  if ! have_version "$SCHEMATHESIS" "$SCHEMATHESIS_VERSION"; then
    log "installing schemathesis $SCHEMATHESIS_VERSION (PyPI, first time only)"
    python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION" || die "pip install schemathesis failed"
  fi
  export SCHEMATHESIS
}
