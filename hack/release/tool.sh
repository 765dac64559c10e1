#!/usr/bin/env bash
# tool.sh builds (first run only) and caches a pinned release or lint tool, and
# prints the path of its binary on stdout. Progress goes to stderr.
#
# Usage: GORELEASER=$(hack/release/tool.sh goreleaser)
#        GOLANGCI_LINT=$(hack/release/tool.sh golangci-lint)
#
# Tools come from the Go module proxy with `go install pkg@version`: it builds in
# module mode outside this repository, so the project's go.mod never gains a
# tool's dependencies. Each version gets its own directory under
# ${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa/tools, so bumping a pin never
# reuses a stale binary and a cached one is never rebuilt.
set -euo pipefail

# Pins. goreleaser v2.16.0 is the newest that builds with the Go and proxy this
# project has (docs/e2e.md, "Release tooling").
GORELEASER_VERSION="${GORELEASER_VERSION:-v2.16.0}"
GOLANGCI_LINT_VERSION="${GOLANGCI_LINT_VERSION:-v2.15.0}"

log() { printf 'tool: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $# -eq 1 ]] || die "usage: $0 goreleaser|golangci-lint"
command -v go >/dev/null 2>&1 || die "go is not on PATH"

case "$1" in
  goreleaser)
    name=goreleaser version="${GORELEASER_VERSION}"
    pkg="github.com/goreleaser/goreleaser/v2@${version}"
    verargs=(--version) cold="about 2 minutes"
    ;;
  golangci-lint)
    name=golangci-lint version="${GOLANGCI_LINT_VERSION}"
    pkg="github.com/golangci/golangci-lint/v2/cmd/golangci-lint@${version}"
    verargs=(version) cold="about 3 minutes"
    ;;
  *) die "unknown tool $1: use goreleaser or golangci-lint" ;;
esac

dir="${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa/tools/${name}-${version}"
bin="${dir}/${name}"

# ok: the cached binary runs and reports the pinned version (a binary built by
# `go install` reads its version from the module's build info).
ok() { [[ -x "${bin}" ]] && "${bin}" "${verargs[@]}" 2>&1 | grep -q -- "${version#v}"; }

mkdir -p "${dir}"
# Two make targets may ask at once (make -j): build once, not twice into one place.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${dir}/.lock"
  flock 9
fi

if ! ok; then
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/kubectl-irsa-${name}.XXXXXX")"
  trap 'rm -rf "${tmp}"' EXIT
  log "building ${name} ${version} from the module proxy (first run only, ${cold} on 2 cores)…"
  # GOWORK=off and GOFLAGS without -mod: a go.work or a -mod=vendor in the
  # caller's environment must not leak into the tool's build.
  (cd "${tmp}" && GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOBIN="${tmp}/bin" go install -trimpath "${pkg}" >&2)
  # Atomic install: an interrupted build never leaves a half-written binary
  # that a later run would take for a cached one.
  mv -f "${tmp}/bin/${name}" "${bin}.tmp"
  mv -f "${bin}.tmp" "${bin}"
  ok || die "${bin} does not report ${version}"
fi
log "${name} ${version}: ${bin}"
printf '%s\n' "${bin}"
