#!/usr/bin/env bash
# k8s-tools.sh builds (first run only) and caches the real binaries the end-to-end
# tests run: kube-apiserver and kubectl at K8S_VERSION, and etcd at ETCD_VERSION.
#
# Usage: BIN=$(hack/k8s-tools.sh)
#
# Progress goes to stderr; the only thing printed on stdout is the bin directory.
# Everything is built from the Go module proxy through throwaway modules in a temp
# dir (never the project's go.mod), as docs/e2e.md describes:
# `go install k8s.io/kubernetes/cmd/...@vX` does not work because kubernetes' own
# go.mod replaces its staging modules with local paths.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"

# Staging modules (k8s.io/api, client-go, ...) are versioned v0.MINOR.PATCH for a
# kubernetes vMAJOR.MINOR.PATCH release.
k8s_minor_patch="${K8S_VERSION#v1.}"
STAGING_VERSION="v0.${k8s_minor_patch}"
K8S_MINOR="${k8s_minor_patch%%.*}"

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa/tools"
TOOLS_DIR="${CACHE_ROOT}/k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}"
BIN_DIR="${TOOLS_DIR}/bin"

log() { printf 'k8s-tools: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not on PATH"

mkdir -p "${BIN_DIR}"

# Serialise concurrent callers (two test binaries starting at once) so that they do
# not build the same thing twice into the same place.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TOOLS_DIR}/.lock"
  flock 9
fi

WORK=""
cleanup() { if [[ -n "${WORK}" ]]; then chmod -R u+w "${WORK}" 2>/dev/null || true; rm -rf "${WORK}"; fi; }
trap cleanup EXIT

workdir() {
  if [[ -z "${WORK}" ]]; then
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/kubectl-irsa-tools.XXXXXX")"
  fi
}

# tool_ok NAME EXPECT: the cached binary exists, runs, and reports the expected version.
tool_ok() {
  local bin="${BIN_DIR}/$1" expect="$2" out
  [[ -x "${bin}" ]] || return 1
  case "$1" in
    kubectl) out="$("${bin}" version --client 2>/dev/null)" || return 1 ;;
    *) out="$("${bin}" --version 2>/dev/null)" || return 1 ;;
  esac
  [[ "${out}" == *"${expect}"* ]]
}

# Install a freshly built binary atomically, so an interrupted build never leaves a
# half-written file that a later run would mistake for a cached one.
install_bin() {
  local src="$1" name="$2"
  cp "${src}" "${BIN_DIR}/.${name}.tmp"
  chmod 0755 "${BIN_DIR}/.${name}.tmp"
  mv -f "${BIN_DIR}/.${name}.tmp" "${BIN_DIR}/${name}"
}

build_k8s() {
  workdir
  local mod="${WORK}/k8s"
  mkdir -p "${mod}"
  log "building kube-apiserver and kubectl ${K8S_VERSION} (first run only, about 6 minutes on 2 cores)…"
  local modfile
  modfile="$(cd "${mod}" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" \
    | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -n "${modfile}" && -f "${modfile}" ]] || die "could not download k8s.io/kubernetes@${K8S_VERSION}"

  # Every staging module that kubernetes requires at v0.0.0 (they are replaced with
  # ./staging/... in its own go.mod) gets pinned to the matching release instead.
  local staging
  staging="$(awk '
    /^require[[:space:]]*\(/ { inreq = 1; next }
    inreq && /^\)/ { inreq = 0; next }
    inreq && $1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print $1 }
    /^require[[:space:]]+k8s\.io\// && $3 == "v0.0.0" { print $2 }
  ' "${modfile}" | sort -u)"
  [[ -n "${staging}" ]] || die "found no staging modules in ${modfile}"

  {
    echo "module kubectl-irsa.local/k8stools"
    echo
    echo "go $(go env GOVERSION | sed 's/^go//; s/[^0-9.].*//')"
    echo
    echo "require k8s.io/kubernetes ${K8S_VERSION}"
    echo
    while read -r m; do echo "replace ${m} => ${m} ${STAGING_VERSION}"; done <<<"${staging}"
  } >"${mod}/go.mod"
  log "pinned $(wc -l <<<"${staging}" | tr -d ' ') staging modules to ${STAGING_VERSION}"

  local ldflags="-X k8s.io/component-base/version.gitVersion=${K8S_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${K8S_MINOR} -X k8s.io/component-base/version.gitTreeState=clean"
  (
    cd "${mod}"
    # CGO_ENABLED=0 as Kubernetes releases build them, and as the plugin's own
    # builds do (Makefile STATIC): packages both need at the same version
    # then compile once on a cold machine.
    export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0
    # Without go get first, the build fails with "missing go.sum entry".
    go get "k8s.io/kubernetes/cmd/kube-apiserver@${K8S_VERSION}" "k8s.io/kubernetes/cmd/kubectl@${K8S_VERSION}" >&2
    if ! tool_ok kube-apiserver "${K8S_VERSION}"; then
      log "compiling kube-apiserver…"
      go build -trimpath -ldflags "${ldflags}" -o "${WORK}/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver >&2
      install_bin "${WORK}/kube-apiserver" kube-apiserver
    fi
    if ! tool_ok kubectl "${K8S_VERSION}"; then
      log "compiling kubectl…"
      go build -trimpath -ldflags "${ldflags}" -o "${WORK}/kubectl" k8s.io/kubernetes/cmd/kubectl >&2
      install_bin "${WORK}/kubectl" kubectl
    fi
  )
}

build_etcd() {
  workdir
  local mod="${WORK}/etcd"
  mkdir -p "${mod}"
  log "building etcd ${ETCD_VERSION} (first run only, about 30 seconds)…"
  cat >"${mod}/go.mod" <<MOD
module kubectl-irsa.local/etcdtools

go $(go env GOVERSION | sed 's/^go//; s/[^0-9.].*//')

require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}
MOD
  if (
    cd "${mod}"
    # CGO_ENABLED=0 as Kubernetes releases build them, and as the plugin's own
    # builds do (Makefile STATIC): packages both need at the same version
    # then compile once on a cold machine.
    export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0
    # etcd's modules must agree on one version or the server links against a
    # mismatched client/api.
    go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" "go.etcd.io/etcd/api/v3@${ETCD_VERSION}" \
      "go.etcd.io/etcd/client/pkg/v3@${ETCD_VERSION}" "go.etcd.io/etcd/client/v3@${ETCD_VERSION}" \
      "go.etcd.io/etcd/pkg/v3@${ETCD_VERSION}" >&2
    go build -trimpath -o "${WORK}/etcd.bin" go.etcd.io/etcd/server/v3 >&2
  ); then
    install_bin "${WORK}/etcd.bin" etcd
    return 0
  fi

  # Fallback: Debian's etcd-server (3.4.x) is known to work with kube-apiserver 1.37.
  log "building etcd from the module proxy failed; falling back to Debian's etcd-server"
  if [[ ! -x /usr/bin/etcd ]]; then
    command -v apt-get >/dev/null 2>&1 || die "no apt-get to install etcd-server"
    local sudo=""
    [[ "$(id -u)" == 0 ]] || sudo="sudo"
    ${sudo} apt-get update >&2
    DEBIAN_FRONTEND=noninteractive ${sudo} apt-get install -y --no-install-recommends etcd-server >&2
  fi
  [[ -x /usr/bin/etcd ]] || die "etcd is not available"
  ln -sf /usr/bin/etcd "${BIN_DIR}/etcd"
}

if tool_ok kube-apiserver "${K8S_VERSION}" && tool_ok kubectl "${K8S_VERSION}"; then
  log "kube-apiserver and kubectl ${K8S_VERSION}: cached in ${BIN_DIR}"
else
  build_k8s
  tool_ok kube-apiserver "${K8S_VERSION}" || die "built kube-apiserver does not report ${K8S_VERSION}"
  tool_ok kubectl "${K8S_VERSION}" || die "built kubectl does not report ${K8S_VERSION}"
fi

# The Debian fallback reports 3.4.x, so accept any etcd that runs; the build path
# is what normally produces ETCD_VERSION.
if tool_ok etcd "etcd Version: "; then
  log "etcd: cached in ${BIN_DIR} ($("${BIN_DIR}/etcd" --version 2>/dev/null | head -n1))"
else
  build_etcd
  tool_ok etcd "etcd Version: " || die "etcd in ${BIN_DIR} does not run"
fi

printf '%s\n' "${BIN_DIR}"
