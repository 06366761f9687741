#!/usr/bin/env bash
# Install the pinned stripe-mock into <repo>/tools/bin/stripe-mock, and the
# OpenAPI spec compiled into it into <repo>/tools/stripe-mock/spec3.json.
#
# Idempotent: does nothing when the pinned version and its spec are already
# there. Builds with `go install`; the version string is stamped with -ldflags
# because a plain `go install` reports "master" from `stripe-mock -version`.
# The spec is the module's embedded/openapi/spec3.json, the one the binary
# serves: the conformance tests read it for what Stripe allows to be null.
# tools/stripe-mock/VERSION says which stripe-mock the spec came from.
#
# Environment:
#   STRIPE_MOCK_VERSION  version to install (default: the pinned v0.203.0)
#   GOPROXY, GOFLAGS     honoured as usual by go
#
# Exit status: 0 installed or already present; 1 go missing; 2 the module
# could not be fetched or built (module proxy unreachable?).
set -euo pipefail

VERSION="${STRIPE_MOCK_VERSION:-v0.203.0}"
MODULE="github.com/stripe/stripe-mock"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/tools/bin"
DEST="$BIN_DIR/stripe-mock"
SPEC_DIR="$ROOT/tools/stripe-mock"
SPEC="$SPEC_DIR/spec3.json"
STAMP="$SPEC_DIR/VERSION"
WANT="stripe-mock ${VERSION#v}"

say() { printf 'install-stripe-mock: %s\n' "$*"; }
die() { code="$1"; shift; printf 'install-stripe-mock: ERROR: %s\n' "$*" >&2; exit "$code"; }

have=""
if [[ -x "$DEST" ]]; then
    have="$("$DEST" -version 2>/dev/null || true)"
fi
spec_version="$(cat "$STAMP" 2>/dev/null || true)"
if [[ "$have" == "$WANT" && -f "$SPEC" && "$spec_version" == "$VERSION" ]]; then
    say "already installed: $DEST ($have) and $SPEC; nothing to do"
    exit 0
fi
if [[ -x "$DEST" && "$have" != "$WANT" ]]; then
    say "found $DEST reporting '${have:-nothing}'; installing '$WANT'"
fi
if [[ -f "$SPEC" && "$spec_version" != "$VERSION" ]]; then
    say "found $SPEC from stripe-mock '${spec_version:-unknown}'; copying the one from $VERSION"
fi

command -v go >/dev/null 2>&1 || die 1 "go not found on PATH. Install Go >= 1.22 (https://go.dev/dl/); \
without stripe-mock the cardpay conformance suite is a visible skip."

goproxy="$(go env GOPROXY)"
if [[ "$goproxy" == "off" ]]; then
    die 2 "GOPROXY=off: go cannot download $MODULE@$VERSION. Set GOPROXY (e.g. https://proxy.golang.org,direct)."
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ "$have" != "$WANT" ]]; then
    say "building $MODULE@$VERSION with $(go version | cut -d' ' -f3) (GOPROXY=$goproxy)"
    if ! GOBIN="$work" go install \
            -ldflags "-s -w -X main.version=${VERSION#v}" \
            "$MODULE@$VERSION" 2>"$work/go.log"; then
        cat "$work/go.log" >&2
        die 2 "go install $MODULE@$VERSION failed (see above). Is the module proxy ($goproxy) reachable?"
    fi
    mkdir -p "$BIN_DIR"
    # Copy then rename so a half-written binary is never seen under the final name.
    cp "$work/stripe-mock" "$DEST.tmp.$$"
    chmod 0755 "$DEST.tmp.$$"
    mv -f "$DEST.tmp.$$" "$DEST"
    have="$("$DEST" -version 2>/dev/null || true)"
    [[ "$have" == "$WANT" ]] || die 2 "installed $DEST but it reports '$have', expected '$WANT'"
    say "installed $DEST ($have)"
fi

# Already in the module cache after a build; fetched (not built) when only the spec is missing.
if ! go mod download "$MODULE@$VERSION" 2>"$work/go.log"; then
    cat "$work/go.log" >&2
    die 2 "go mod download $MODULE@$VERSION failed (see above). Is the module proxy ($goproxy) reachable?"
fi
source_spec="$(go env GOMODCACHE)/$MODULE@$VERSION/embedded/openapi/spec3.json"
[[ -f "$source_spec" ]] || die 2 "$source_spec is missing: $MODULE@$VERSION has no embedded spec there"
mkdir -p "$SPEC_DIR"
# The module cache is read-only; the copy should not be. The stamp goes last:
# an interrupted run copies the spec again.
cp "$source_spec" "$SPEC.tmp.$$"
chmod 0644 "$SPEC.tmp.$$"
mv -f "$SPEC.tmp.$$" "$SPEC"
printf '%s\n' "$VERSION" >"$STAMP.tmp.$$"
mv -f "$STAMP.tmp.$$" "$STAMP"
say "copied the spec it serves to $SPEC"
