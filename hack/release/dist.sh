#!/usr/bin/env bash
# dist.sh builds the release artefacts into dist/ exactly as a tag release
# would, without tagging or committing anything in this checkout.
#
# Usage: hack/release/dist.sh            (RELEASE_TAG=v1.2.3 to pick the tag)
#
# GoReleaser needs a tagged commit and a configured remote (never contacted),
# so the build runs in a temporary clone: the working tree (tracked and
# untracked files, .gitignore honoured, uncommitted edits included, so what is
# checked is what is about to be committed) is committed there, tagged with
# RELEASE_TAG and released with publishing skipped. dist/ is then copied back.
set -euo pipefail

# A check tag that cannot be mistaken for a real release, and valid semver
# with the leading v that krew requires.
RELEASE_TAG="${RELEASE_TAG:-v0.0.0-releasecheck}"
REMOTE="https://github.com/kubectl-irsa/kubectl-irsa.git"

log() { printf 'dist: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

cd "$(dirname "$0")/../.."
repo="$(pwd)"
[[ "${RELEASE_TAG}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "RELEASE_TAG=${RELEASE_TAG} is not vMAJOR.MINOR.PATCH[-PRERELEASE]"
command -v git >/dev/null 2>&1 || die "git is not on PATH"

goreleaser="$(hack/release/tool.sh goreleaser)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/kubectl-irsa-dist.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT
clone="${tmp}/kubectl-irsa"

started=$(date +%s)
# A real clone keeps the history (changelog, commit ids); the working tree is
# laid over it so uncommitted work is what gets built.
git clone -q --no-local "${repo}" "${clone}" 2>/dev/null || git clone -q "${repo}" "${clone}"
git -C "${repo}" ls-files -z --deleted | (cd "${clone}" && xargs -0 -r rm -f --)
git -C "${repo}" ls-files -z -co --exclude-standard \
  | (cd "${repo}" && while IFS= read -r -d '' f; do [[ -e "${f}" || -L "${f}" ]] && printf '%s\0' "${f}"; done) \
  | tar -C "${repo}" --null -T - -cf - | tar -C "${clone}" -xf -

g() { git -C "${clone}" -c user.name="kubectl-irsa release check" -c user.email=release-check@localhost.invalid -c commit.gpgsign=false -c tag.gpgsign=false "$@"; }
g add -A
if ! g diff --cached --quiet; then
  g commit -q --no-verify -m "release check: working tree of $(git -C "${repo}" rev-parse --short HEAD 2>/dev/null || echo unknown)"
fi
g tag -d "${RELEASE_TAG}" >/dev/null 2>&1 || true
g tag "${RELEASE_TAG}"
g remote remove origin 2>/dev/null || true
g remote add origin "${REMOTE}"

log "goreleaser check…"
# goreleaser check exits non-zero on deprecated keys as well as errors.
(cd "${clone}" && "${goreleaser}" check) >"${tmp}/check.log" 2>&1 || { cat "${tmp}/check.log" >&2; die "goreleaser check failed"; }

log "goreleaser release ${RELEASE_TAG} (6 targets, publishing skipped)…"
# Not --snapshot: a snapshot renames the version, and the point is to build
# what the tag would. Nothing is published, announced or signed.
if ! (cd "${clone}" && GORELEASER_CURRENT_TAG="${RELEASE_TAG}" "${goreleaser}" release --clean --skip=publish,announce,sign,sbom,docker) >"${tmp}/release.log" 2>&1; then
  cat "${tmp}/release.log" >&2
  die "goreleaser release failed"
fi

rm -rf "${repo}/dist"
cp -a "${clone}/dist" "${repo}/dist"
cp "${tmp}/release.log" "${repo}/dist/goreleaser.log"
log "dist/ holds ${RELEASE_TAG} ($(( $(date +%s) - started ))s):"
for f in "${repo}"/dist/*.tar.gz "${repo}"/dist/*.zip "${repo}"/dist/*checksums.txt "${repo}"/dist/krew/*.yaml; do
  log "  ${f#"${repo}"/}"
done
