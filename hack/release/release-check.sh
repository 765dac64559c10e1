#!/usr/bin/env bash
# release-check.sh checks what `make dist` built, by krew's rules and through
# the real kubectl (hack/release/krew-check does the work):
#   - plugins/krew.yaml rendered for dist's tag with the archives' sha256s,
#     validated (selectors, semver, sha256, bin, LICENSE in every archive);
#   - GoReleaser's dist/krew/irsa.yaml validated and compared with it;
#   - the checksums file checked against the archives;
#   - this machine's archive installed into a fresh krew root and
#     `kubectl irsa version` run through KUBECTL with only ROOT/bin prepended
#     to PATH, expecting the tag; then `kubectl __complete irsa ''` through the
#     kubectl_complete-irsa shim.
set -euo pipefail
cd "$(dirname "$0")/../.."

[[ -f dist/metadata.json ]] || { echo "release-check: no dist/: run make dist first" >&2; exit 1; }
if [[ -z "${KUBECTL:-}" ]]; then
  # The kubectl the end-to-end tests build and cache (hack/k8s-tools.sh;
  # about 6 minutes the first time), not whatever the machine has installed.
  KUBECTL="$(hack/k8s-tools.sh)/kubectl"
fi
[[ -x "${KUBECTL}" ]] || { echo "release-check: ${KUBECTL} is not an executable kubectl" >&2; exit 1; }

# The rules' own tests first: a validator that passes everything proves nothing.
go test -count=1 ./test/release/
go run ./hack/release/krew-check -dist dist -template plugins/krew.yaml -kubectl "${KUBECTL}" -complete-shim kubectl_complete-irsa
