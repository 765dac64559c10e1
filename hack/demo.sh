#!/usr/bin/env bash
# demo.sh (`make demo`) shows kubectl-irsa on a real cluster without an AWS account:
# a real etcd + kube-apiserver on loopback, the pod identity webhook emulator in its
# admission chain (following a container-credentials file, as on EKS), and the AWS
# emulator (IAM, STS, EKS with the cluster "demo" and its Pod Identity associations, CloudTrail)
# reached through the standard AWS_ENDPOINT_URL. It creates a few healthy and broken
# workloads, IRSA and EKS Pod Identity ones side by side, and the eks-pod-identity-agent
# DaemonSet; runs `kubectl irsa diagnose -A` and `kubectl irsa thumbprint` through the
# real kubectl, fixes the thumbprint, probes (the emulator logs the exchanges as
# CloudTrail does) and reads them back with `kubectl irsa events`, and tears everything down on exit. Nothing
# listens beyond 127.0.0.1 and nothing is left running.
set -euo pipefail

cd "$(dirname "$0")/.."

say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
# run prints the exact command, runs it, and reports a non-zero exit code
# (diagnose exits 2 when it finds errors: that is the point of the demo).
run() {
  printf '$ %s\n' "$*"
  local rc=0
  "$@" || rc=$?
  if [ "$rc" -ne 0 ]; then printf '(exit code %d)\n' "$rc"; fi
}

start=$(date +%s)
echo "kubectl-irsa demo. The first run on a machine builds kube-apiserver, kubectl and etcd"
echo "(on a fresh 2-core machine the first demo takes about 9 minutes); later runs take about 20 seconds."

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-irsa-demo.XXXXXX")
pids=()
cleanup() {
  local rc=$?
  # Stop the processes this script started, by pid, newest first; the cluster
  # process stops its etcd and kube-apiserver before it exits.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "Build (cached after the first run)"
TOOLS=$(hack/k8s-tools.sh)
mkdir -p "$WORK/bin"
go build -o "$WORK/bin/kubectl-irsa" ./cmd/kubectl-irsa
go build -o "$WORK/bin/awsemu" ./test/awsemu
# kubectl finds the plugin on PATH; the kubectl built at the server's version comes first.
export PATH="$WORK/bin:$TOOLS:$PATH"
export KUBECTL_IRSA_TOOLS_BIN="$TOOLS" KUBECACHEDIR="$WORK/kube-cache"

say "Start etcd, kube-apiserver and the pod identity webhook on 127.0.0.1"
"$WORK/bin/awsemu" cluster --dir "$WORK" >"$WORK/cluster.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do
  [ -f "$WORK/env" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$WORK/cluster.log"; exit 1; }
  sleep 0.1
done
[ -f "$WORK/env" ] || { cat "$WORK/cluster.log"; echo "cluster did not start"; exit 1; }
# shellcheck disable=SC1091
. "$WORK/env"
echo "API server and OIDC issuer: $ISSUER (private CA; its served chain hashes to $ISSUER_THUMBPRINT)"
printf '$ export KUBECONFIG=%s\n' "$KUBECONFIG"

say "Start the AWS emulator: account 111122223333 with EKS cluster demo, an OIDC provider, six roles and two Pod Identity associations"
A=111122223333
CLUSTER=demo
CLUSTER_ARN="arn:aws:eks:us-west-2:$A:cluster/$CLUSTER"
PROVIDER="arn:aws:iam::$A:oidc-provider/$ISSUER_HOST"
trust() { # trust NAMESPACE SERVICEACCOUNT: what eksctl writes for a service account
  printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"%s"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"%s:sub":"system:serviceaccount:%s:%s","%s:aud":"sts.amazonaws.com"}}}]}' \
    "$PROVIDER" "$ISSUER_HOST" "$1" "$2" "$ISSUER_HOST"
}
podid_trust() { # podid_trust ACTIONS: the EKS console's Pod Identity trust, given its actions
  printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":%s}]}' "$1"
}
association() { # association NAMESPACE SERVICEACCOUNT ROLE
  printf '{"clusterName":"%s","namespace":"%s","serviceAccount":"%s","roleArn":"arn:aws:iam::%s:role/%s"}' "$CLUSTER" "$1" "$2" "$A" "$3"
}
role() { # role NAME TRUST
  printf '{"arn":"arn:aws:iam::%s:role/%s","trustPolicy":%s,"attachedPolicies":["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]}' "$A" "$1" "$2"
}
# The provider was registered when the issuer had another certificate: its
# thumbprint is stale, which breaks every pod of a private-CA issuer. The
# transcoder role's trust was written by hand without sts:TagSession, which
# Pod Identity needs for the session tags it sets.
cat >"$WORK/aws-state.json" <<EOF
{
  "caller": "arn:aws:iam::$A:user/demo",
  "clusters": [{"name": "$CLUSTER", "arn": "$CLUSTER_ARN", "version": "1.31", "platformVersion": "eks.4",
                "issuer": "$ISSUER", "ipFamily": "ipv4"}],
  "providers": [{"arn": "$PROVIDER", "url": "$ISSUER_HOST", "clientIDs": ["sts.amazonaws.com"],
                 "thumbprints": ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]}],
  "roles": [
    $(role checkout "$(trust shop checkout)"),
    $(role reports "$(trust shop reports)"),
    $(role billing "$(trust payments billing)"),
    $(role exporter "$(trust batch exporter)"),
    $(role uploader "$(podid_trust '["sts:AssumeRole","sts:TagSession"]')"),
    $(role transcoder "$(podid_trust '"sts:AssumeRole"')")
  ],
  "associations": [
    $(association media uploader uploader),
    $(association media transcoder transcoder)
  ]
}
EOF
"$WORK/bin/awsemu" serve --state "$WORK/aws-state.json" --url-file "$WORK/aws-url" >"$WORK/aws.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -f "$WORK/aws-url" ] && break; sleep 0.1; done
[ -f "$WORK/aws-url" ] || { cat "$WORK/aws.log"; echo "AWS emulator did not start"; exit 1; }
# The plugin loads AWS configuration like the AWS CLI: the standard endpoint
# variable sends IAM, STS and EKS to the emulator; the keys are dummies.
export AWS_ENDPOINT_URL
AWS_ENDPOINT_URL=$(cat "$WORK/aws-url")
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY \
  AWS_REGION=us-west-2 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE
printf '$ export AWS_ENDPOINT_URL=%s AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=... AWS_REGION=us-west-2\n' "$AWS_ENDPOINT_URL"
# `aws eks update-kubeconfig` names the context after the cluster's ARN: that
# is how the plugin knows which EKS cluster's associations to list.
run kubectl config rename-context "$(kubectl config current-context)" "$CLUSTER_ARN"

say "The EKS control plane tells the webhook which service accounts have an association"
# On EKS it rewrites the webhook's container-credentials file whenever an
# association comes or goes; the webhook gives Pod Identity only to pods
# created while their service account is listed, so this comes before the pods.
printf '{"identities":[{"namespace":"media","serviceAccount":"uploader"},{"namespace":"media","serviceAccount":"transcoder"}]}\n' \
  >"$CONTAINER_CREDENTIALS_CONFIG.tmp"
mv "$CONTAINER_CREDENTIALS_CONFIG.tmp" "$CONTAINER_CREDENTIALS_CONFIG"
printf '$ cat container-credentials.json\n'
cat "$CONTAINER_CREDENTIALS_CONFIG"
# The webhook looks at the file every 200 ms and logs what it loaded.
for _ in $(seq 1 50); do
  grep -q ': 2 associations$' "$WORK/cluster.log" && break
  sleep 0.1
done
grep -q ': 2 associations$' "$WORK/cluster.log" || { cat "$WORK/cluster.log"; echo "the webhook did not load the associations"; exit 1; }

say "Workloads. IRSA: checkout (healthy), reports (annotated after its pod started), billing (its role trusts another namespace), nightly-export (static keys from a Secret). Pod Identity: uploader (healthy), transcoder (its role's trust lacks sts:TagSession), and the agent"
cat >"$WORK/workloads.yaml" <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: batch}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: checkout
  namespace: shop
  annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::$A:role/checkout"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: checkout, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: checkout}}
  template:
    metadata: {labels: {app: checkout}}
    spec:
      serviceAccountName: checkout
      containers:
      - {name: app, image: registry.k8s.io/pause:3.10}
      - {name: envoy, image: registry.k8s.io/pause:3.10}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: reports
  namespace: shop
  labels: {app: reports}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reports, namespace: shop}
spec:
  selector: {matchLabels: {app: reports}}
  template:
    metadata: {labels: {app: reports}}
    spec:
      serviceAccountName: reports
      containers:
      - {name: app, image: registry.k8s.io/pause:3.10}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: billing
  namespace: shop
  annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::$A:role/billing"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: billing, namespace: shop}
spec:
  selector: {matchLabels: {app: billing}}
  template:
    metadata: {labels: {app: billing}}
    spec:
      serviceAccountName: billing
      containers:
      - {name: app, image: registry.k8s.io/pause:3.10}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: exporter
  namespace: batch
  annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::$A:role/exporter"}
---
apiVersion: v1
kind: Secret
metadata: {name: legacy-aws-keys, namespace: batch}
stringData:
  AWS_ACCESS_KEY_ID: AKIAIOSFODNN7EXAMPLE
  AWS_SECRET_ACCESS_KEY: demo-not-a-real-secret
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly-export, namespace: batch}
spec:
  schedule: "0 2 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          serviceAccountName: exporter
          restartPolicy: Never
          containers:
          - name: export
            image: registry.k8s.io/pause:3.10
            envFrom: [{secretRef: {name: legacy-aws-keys}}]
---
apiVersion: v1
kind: Namespace
metadata: {name: media}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: uploader, namespace: media}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: uploader, namespace: media}
spec:
  selector: {matchLabels: {app: uploader}}
  template:
    metadata: {labels: {app: uploader}}
    spec:
      serviceAccountName: uploader
      containers:
      - {name: app, image: registry.k8s.io/pause:3.10}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: transcoder, namespace: media}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: transcoder, namespace: media}
spec:
  selector: {matchLabels: {app: transcoder}}
  template:
    metadata: {labels: {app: transcoder}}
    spec:
      serviceAccountName: transcoder
      containers:
      - {name: app, image: registry.k8s.io/pause:3.10}
---
# As the EKS add-on installs it, bound to IPv4 only as an IPv4 cluster wants.
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: eks-pod-identity-agent, namespace: kube-system}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: eks-pod-identity-agent}}
  template:
    metadata: {labels: {app.kubernetes.io/name: eks-pod-identity-agent}}
    spec:
      hostNetwork: true
      containers:
      - name: eks-pod-identity-agent
        image: 602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/eks-pod-identity-agent:v0.1.29
        command: [/go-runner, /eks-pod-identity-agent, server]
        args: [--port, "80", --cluster-name, $CLUSTER, --probe-port, "2703", --bind-hosts=169.254.170.23]
EOF
run kubectl apply -f "$WORK/workloads.yaml"
# Nor is there a DaemonSet controller: report the agent ready on the one node it would run on.
run kubectl patch daemonset eks-pod-identity-agent -n kube-system --subresource=status --type=merge \
  -p '{"status":{"desiredNumberScheduled":1,"currentNumberScheduled":1,"updatedNumberScheduled":1,"numberReady":1,"numberAvailable":1,"numberMisscheduled":0,"observedGeneration":1}}'
# This cluster has no kube-controller-manager; awsemu creates the ReplicaSets,
# Jobs and pods (through the API server, so the webhook mutates them).
for _ in $(seq 1 100); do
  [ "$(kubectl get pods -A --no-headers 2>/dev/null | wc -l)" -ge 7 ] && break
  sleep 0.2
done
sleep 1.1 # managedFields have one-second resolution: annotate in a later second than the pods
run kubectl annotate serviceaccount reports -n shop "eks.amazonaws.com/role-arn=arn:aws:iam::$A:role/reports"
run kubectl get pods -A

say "Diagnose every service account that uses IRSA or EKS Pod Identity"
run kubectl irsa diagnose -A

say "The issuer's CA is private, so STS checks the provider's thumbprint"
run kubectl irsa thumbprint
run kubectl irsa thumbprint --update --yes

say "After the thumbprint fix; -o wide adds the evidence and the fix to paste"
run kubectl irsa diagnose -A
run kubectl irsa diagnose deploy/reports -n shop -o wide

say "What did AWS answer? --probe exchanges real tokens (the emulator logs them as CloudTrail does); events reads them back"
run kubectl irsa diagnose -A --probe
run kubectl irsa events -A

say "Done in $(($(date +%s) - start)) s; stopping everything"
