#!/usr/bin/env bash
# Install the pinned Toxiproxy server into <repo>/tools/bin/toxiproxy-server.
#
# Idempotent: does nothing when the pinned version is already there. Builds
# with `go install` (upstream's module builds a binary called `server`; we
# rename it to the name the harness looks for). The version string is stamped
# with -ldflags because a plain `go install` reports "git" from /version, and
# the run journal records what /version says.
#
# Environment:
#   TOXIPROXY_VERSION   version to install (default: the pinned v2.5.0)
#   GOPROXY, GOFLAGS    honoured as usual by go
#
# Exit status: 0 installed or already present; 1 go missing; 2 the module
# could not be fetched or built (module proxy unreachable?).
set -euo pipefail

VERSION="${TOXIPROXY_VERSION:-v2.5.0}"
MODULE="github.com/Shopify/toxiproxy/v2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/tools/bin"
DEST="$BIN_DIR/toxiproxy-server"
WANT="toxiproxy-server version ${VERSION#v}"

say() { printf 'install-toxiproxy: %s\n' "$*"; }
die() { code="$1"; shift; printf 'install-toxiproxy: ERROR: %s\n' "$*" >&2; exit "$code"; }

if [[ -x "$DEST" ]]; then
    have="$("$DEST" -version 2>/dev/null || true)"
    if [[ "$have" == "$WANT" ]]; then
        say "already installed: $DEST ($have); nothing to do"
        exit 0
    fi
    say "found $DEST reporting '${have:-nothing}'; installing '$WANT'"
fi

command -v go >/dev/null 2>&1 || die 1 "go not found on PATH. Install Go >= 1.17 (https://go.dev/dl/), \
or point TOXIPROXY_SERVER at an existing toxiproxy-server binary, or use PAYCHAOS_FAULT_BACKEND=embedded."

goproxy="$(go env GOPROXY)"
if [[ "$goproxy" == "off" ]]; then
    die 2 "GOPROXY=off: go cannot download $MODULE@$VERSION. Set GOPROXY (e.g. https://proxy.golang.org,direct) \
or install toxiproxy-server yourself and set TOXIPROXY_SERVER."
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

say "building $MODULE/cmd/server@$VERSION with $(go version | cut -d' ' -f3) (GOPROXY=$goproxy)"
if ! GOBIN="$work" go install \
        -ldflags "-s -w -X $MODULE.Version=${VERSION#v}" \
        "$MODULE/cmd/server@$VERSION" 2>"$work/go.log"; then
    cat "$work/go.log" >&2
    die 2 "go install $MODULE/cmd/server@$VERSION failed (see above). Is the module proxy ($goproxy) reachable?"
fi

mkdir -p "$BIN_DIR"
# Copy then rename so a half-written binary is never seen under the final name.
cp "$work/server" "$DEST.tmp.$$"
chmod 0755 "$DEST.tmp.$$"
mv -f "$DEST.tmp.$$" "$DEST"

have="$("$DEST" -version 2>/dev/null || true)"
[[ "$have" == "$WANT" ]] || die 2 "installed $DEST but it reports '$have', expected '$WANT'"
say "installed $DEST ($have)"
