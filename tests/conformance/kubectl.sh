#!/bin/sh
# tests/conformance/kubectl.sh — the simulator's Kubernetes API servers as
# the real kubectl sees them: discovery, Table printing, lists, server-side
# apply of a multi-document manifest, the deployment controller making
# pods Ready, deletion, watches, and the run-time faults.  Plain curl
# checks what kubectl does not show: 401 without credentials, limit and
# continue paging, and the 410 Expired ERROR event of a watch from a
# resource version older than the retained event window.  Then custom
# resources (Flux's Kustomization CRD, an object, its status subresource,
# the CRD's printer columns, kubectl wait on its Ready condition), and the
# admission policies, which a 1.29 cluster does not serve and a second
# simulator, whose blue runs 1.30.5, does (stored, not enforced).
. tests/lib/tap.sh

CLUSTER=aks-prod-blue
NTESTS=50

if ! command -v kubectl >/dev/null 2>&1; then
    i=0
    while [ "$i" -lt "$NTESTS" ]; do
        i=$((i + 1))
        t_skip "kubectl conformance check $i" "kubectl is not on PATH"
    done
    t_done
    exit $?
fi

if ! sim_up --speed 50; then
    t_ok 1 "simulator starts"
    t_done
    exit 1
fi
# on an early exit, still stop the simulator (sim_down reports as a test)
trap 'sim_down' EXIT INT TERM
KUBECONFIG=$SIM_DIR/kubeconfig
export KUBECONFIG
# kubectl caches discovery per server address; keep it out of $HOME
KCACHE=$SIM_DIR/kube-cache
kc() { kubectl --cache-dir "$KCACHE" --request-timeout=20s "$@"; }
TOKEN=$(sed -n 's/^ *token: //p' "$KUBECONFIG" | head -n 1)
API=$SIM_URL/clusters/$CLUSTER
api_curl() { sim_curl --max-time 10 -H "Authorization: Bearer $TOKEN" "$@"; }
ctl() {
    body=${2:-'{}'}
    sim_curl --max-time 10 -X POST -H 'Content-Type: application/json' -d "$body" \
        "$SIM_URL/_sim/clusters/$CLUSTER/$1" >/dev/null
}
# json FILE EXPR: evaluates a Python expression over the JSON in FILE (d)
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# wait_for SECONDS CMD...: retries CMD every 0.2 s until it succeeds
wait_for() {
    n=$(( $1 * 5 )); shift
    while [ "$n" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
        n=$((n - 1))
    done
    return 1
}

# ---- kubeconfig and discovery ------------------------------------------------
t_is "$(kc config current-context)" "$CLUSTER" "kubeconfig: current context is the blue cluster"
out=$(kc version -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])')
t_is "$out" "v1.29.7" "kubectl version: server gitVersion v1.29.7"
out=$(kc api-resources --no-headers 2>/dev/null | awk '$1=="deployments" {print $2, $3, $4, $5}')
t_is "$out" "deploy apps/v1 true Deployment" "kubectl api-resources: deployments with short name, group, scope"

# ---- nodes and pods -------------------------------------------------------------
kc get nodes >"$SIM_DIR/nodes.txt" 2>&1
t_is "$(awk 'NR>1 && $2=="Ready" && $5=="v1.29.7"' "$SIM_DIR/nodes.txt" | wc -l | tr -d ' ')" 6 \
    "kubectl get nodes: 6 Ready nodes at v1.29.7"
t_is "$(head -n 1 "$SIM_DIR/nodes.txt" | tr -s ' ')" "NAME STATUS ROLES AGE VERSION" \
    "kubectl get nodes: the server's Table columns"
kc get pods -A --no-headers >"$SIM_DIR/pods.txt" 2>&1
t_is "$(wc -l <"$SIM_DIR/pods.txt" | tr -d ' ')" 150 "kubectl get pods -A: 150 pods"
t_is "$(awk '$3=="1/1" && $4=="Running"' "$SIM_DIR/pods.txt" | wc -l | tr -d ' ')" 150 \
    "kubectl get pods -A: all Running and 1/1 Ready"
out=$(kc get pods -n shop -o wide 2>&1 | head -n 1 | tr -s ' ')
t_is "$out" "NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES" \
    "kubectl get pods -o wide: wide columns"
kc get deploy -n shop -o json >"$SIM_DIR/deploy.json" 2>&1
out=$(json "$SIM_DIR/deploy.json" '[i["status"]["readyReplicas"] for i in d["items"] if i["metadata"]["name"]=="storefront"][0]' 2>&1)
t_is "$out" 10 "kubectl get deploy -o json: storefront has 10 ready replicas"
out=$(kc get pods -n shop -l app=cart --no-headers 2>&1 | wc -l | tr -d ' ')
t_is "$out" 5 "label selector app=cart: 5 pods"
out=$(kc get pods -n shop -l 'app in (cart,catalog),app!=catalog' --no-headers 2>&1 | wc -l | tr -d ' ')
t_is "$out" 5 "set-based label selector: in and !="
node=$(awk 'NR==2 {print $1}' "$SIM_DIR/nodes.txt")
n1=$(kc get pods -A --field-selector "spec.nodeName=$node" --no-headers 2>&1 | wc -l | tr -d ' ')
n2=$(kc get pods -A -o wide --no-headers 2>&1 | awk -v n="$node" '$8==n' | wc -l | tr -d ' ')
t_ok $([ "$n1" -gt 0 ] && [ "$n1" = "$n2" ] && echo 0 || echo 1) \
    "field selector spec.nodeName: the pods on $node ($n1)"
out=$(kc auth can-i delete deployments -n shop 2>&1)
t_is "$out" "yes" "kubectl auth can-i (SelfSubjectAccessReview)"

# ---- server-side apply, wait, watch, delete ---------------------------------------
cat >"$SIM_DIR/app.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: conformance
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: conformance
data:
  greeting: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: conformance
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: registry.k8s.io/nginx:1.27
        ports:
        - containerPort: 80
EOF
out=$(kc apply --server-side -f "$SIM_DIR/app.yaml" 2>&1)
t_is "$(echo "$out" | tr '\n' ' ')" \
    "namespace/conformance serverside-applied configmap/web-config serverside-applied deployment.apps/web serverside-applied " \
    "kubectl apply --server-side: a namespace, a configmap and a deployment"
kc wait --for=condition=Available deploy/web -n conformance --timeout=60s >/dev/null 2>&1
t_ok $? "kubectl wait --for=condition=Available deploy/web"
out=$(kc get pods -n conformance -l app=web --no-headers 2>&1 | awk '$2=="1/1" && $3=="Running"' | wc -l | tr -d ' ')
t_is "$out" 3 "the deployment's 3 pods are Running and Ready"
out=$(kc get deploy web -n conformance -o jsonpath='{.metadata.managedFields[0].manager}/{.metadata.managedFields[0].operation}' 2>&1)
t_is "$out" "kubectl/Apply" "managedFields record the apply (manager kubectl, operation Apply)"
out=$(kc apply --server-side --field-manager=other -f "$SIM_DIR/app.yaml" 2>&1 | grep -c conflict)
# the same values from another manager are not a conflict
t_is "$out" 0 "server-side apply of identical values by another manager: no conflict"
sed 's/replicas: 3/replicas: 2/' "$SIM_DIR/app.yaml" >"$SIM_DIR/app2.yaml"
kc apply --server-side --field-manager=other -f "$SIM_DIR/app2.yaml" >"$SIM_DIR/conflict.txt" 2>&1
t_ok $(grep -q 'conflict with "kubectl"' "$SIM_DIR/conflict.txt" && echo 0 || echo 1) \
    "server-side apply of a changed field owned by another manager: 409 conflict"

kc get pods -n conformance -w >"$SIM_DIR/watch.txt" 2>&1 &
wpid=$!
wait_for 10 grep -q '^web-' "$SIM_DIR/watch.txt"
kc scale deploy/web -n conformance --replicas=4 >/dev/null 2>&1
wait_for 20 sh -c "grep -c '^web-' '$SIM_DIR/watch.txt' | awk '\$1 >= 5 {ok=1} END {exit !ok}'"
t_ok $? "kubectl get pods -w: sees the pod a scale-up makes"
victim=$(awk 'NR==2 {print $1}' "$SIM_DIR/watch.txt")
kc delete pod "$victim" -n conformance --wait=false >/dev/null 2>&1
wait_for 20 grep -q "^$victim .*Terminating" "$SIM_DIR/watch.txt"
t_ok $? "kubectl get pods -w: sees a deleted pod Terminating"
kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null

kc delete deploy web -n conformance --timeout=30s >/dev/null 2>&1
t_ok $? "kubectl delete deployment"
wait_for 20 sh -c "! kubectl --cache-dir '$KCACHE' get pods -n conformance --no-headers 2>/dev/null | grep -q ."
t_ok $? "deleting the deployment deletes its pods"
kc delete ns conformance --timeout=30s >/dev/null 2>&1
t_ok $? "kubectl delete namespace (waits until it is gone)"

# ---- plain HTTP: auth, paging, too-old watch ----------------------------------------
code=$(sim_curl --max-time 10 -o /dev/null -w '%{http_code}' "$API/api/v1/pods")
t_is "$code" 401 "no credentials: 401"
api_curl "$API/api/v1/namespaces/shop/pods?limit=2" >"$SIM_DIR/page1.json"
cont=$(json "$SIM_DIR/page1.json" 'd["metadata"].get("continue","")')
t_ok $([ -n "$cont" ] && [ "$(json "$SIM_DIR/page1.json" 'len(d["items"])')" = 2 ] && echo 0 || echo 1) \
    "list limit=2: two items and a continue token"
api_curl "$API/api/v1/namespaces/shop/pods?limit=2&continue=$cont" >"$SIM_DIR/page2.json"
out=$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
na = [i["metadata"]["name"] for i in a["items"]]; nb = [i["metadata"]["name"] for i in b["items"]]
print("ok" if len(nb) == 2 and na[-1] < nb[0] and a["metadata"]["resourceVersion"] == b["metadata"]["resourceVersion"] else "bad %s %s" % (na, nb))
' "$SIM_DIR/page1.json" "$SIM_DIR/page2.json")
t_is "$out" ok "continue: the next page, in order, at the first page's resourceVersion"
api_curl "$API/api/v1/namespaces/shop/pods?watch=true&resourceVersion=1" >"$SIM_DIR/expired.json"
out=$(json "$SIM_DIR/expired.json" 'd["type"], d["object"]["code"], d["object"]["reason"]')
t_is "$out" "ERROR 410 Expired" "watch from a too-old resourceVersion: ERROR event, 410 Expired"

api_curl "$API/api/v1/watch/namespaces/shop/pods?resourceVersion=0&timeoutSeconds=1" >"$SIM_DIR/wpath.txt"
t_is "$(grep -c '"type":"ADDED"' "$SIM_DIR/wpath.txt")" 32 \
    "watch path form /api/v1/watch/...: ADDED for each of shop's 32 pods, ends at timeoutSeconds"
api_curl "$API/api/v1/namespaces/shop/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=3&resourceVersion=$(json "$SIM_DIR/page1.json" 'd["metadata"]["resourceVersion"]')" \
    >"$SIM_DIR/bookmarks.txt"
t_ok $(grep -q '"type":"BOOKMARK"' "$SIM_DIR/bookmarks.txt" && echo 0 || echo 1) \
    "allowWatchBookmarks: BOOKMARK events while nothing changes"
out=$(kc get --raw '/api/v1/namespaces/shop/pods?limit=1' 2>&1 | json /dev/stdin 'd["kind"]' 2>&1)
t_is "$out" "PodList" "kubectl get --raw (no /clusters/NAME prefix): routed by the token"

# ---- the AKS user credential: a client certificate ---------------------------------------
. "$SIM_DIR/env"
ARM=$(sim_curl --max-time 10 -d "grant_type=client_credentials&client_id=$AZURE_CLIENT_ID&client_secret=$AZURE_CLIENT_SECRET&scope=https://management.azure.com/.default" \
    "$SIM_URL/$AZURE_TENANT_ID/oauth2/v2.0/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])' 2>/dev/null)
SUB=$(json "$SIM_DIR/endpoints.json" 'd["subscription"]')
RG=$(json "$SIM_DIR/endpoints.json" 'd["resourceGroup"]')
sim_curl --max-time 10 -X POST -H "Authorization: Bearer $ARM" -H 'Content-Length: 0' \
    "$SIM_URL/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.ContainerService/managedClusters/$CLUSTER/listClusterUserCredential?api-version=2024-05-01" \
    | python3 -c 'import base64,json,sys; print(base64.b64decode(json.load(sys.stdin)["kubeconfigs"][0]["value"]).decode())' \
    >"$SIM_DIR/user.kubeconfig" 2>/dev/null
out=$(KUBECONFIG=$SIM_DIR/user.kubeconfig kc auth whoami -o jsonpath='{.status.userInfo.username}' 2>&1)
t_is "$out" "masterclient" "listClusterUserCredential's kubeconfig authenticates with its client certificate"

# ---- custom resources: a Flux Kustomization ------------------------------------------
cat >"$SIM_DIR/ks-crd.yaml" <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: kustomizations.kustomize.toolkit.fluxcd.io
spec:
  group: kustomize.toolkit.fluxcd.io
  names:
    kind: Kustomization
    listKind: KustomizationList
    plural: kustomizations
    shortNames:
    - ks
    singular: kustomization
  scope: Namespaced
  versions:
  - additionalPrinterColumns:
    - jsonPath: .metadata.creationTimestamp
      name: Age
      type: date
    - jsonPath: .status.conditions[?(@.type=="Ready")].status
      name: Ready
      type: string
    - jsonPath: .status.conditions[?(@.type=="Ready")].message
      name: Status
      type: string
    name: v1
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
    served: true
    storage: true
    subresources:
      status: {}
EOF
cat >"$SIM_DIR/ks.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: flux-system
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: fleet
EOF
out=$(kc apply --server-side -f "$SIM_DIR/ks-crd.yaml" 2>&1)
t_is "$out" "customresourcedefinition.apiextensions.k8s.io/kustomizations.kustomize.toolkit.fluxcd.io serverside-applied" \
    "kubectl apply --server-side: Flux's Kustomization CRD"
out=$(kc apply --server-side -f "$SIM_DIR/ks.yaml" 2>&1)
t_is "$(echo "$out" | tr '\n' ' ')" \
    "namespace/flux-system serverside-applied kustomization.kustomize.toolkit.fluxcd.io/apps serverside-applied " \
    "kubectl apply --server-side: a Kustomization, once its CRD is established"
out=$(kc get kustomizations -A 2>&1 | head -n 1 | tr -s ' ')
t_is "$out" "NAMESPACE NAME AGE READY STATUS" "kubectl get kustomizations -A: the CRD's printer columns"
kc patch kustomization apps -n flux-system --subresource=status --type=merge \
    -p '{"status":{"observedGeneration":1,"conditions":[{"type":"Ready","status":"True","reason":"ReconciliationSucceeded","message":"Applied revision: main@sha1:67e2c98a","observedGeneration":1,"lastTransitionTime":"2024-07-01T10:00:00Z"}]}}' \
    >/dev/null 2>&1
out=$(kc get ks -A --no-headers 2>&1 | awk '{print $1, $2, $4, $5, $6, $7}')
t_is "$out" "flux-system apps True Applied revision: main@sha1:67e2c98a" \
    "kubectl patch --subresource=status: the Ready condition shows in kubectl get ks"
kc wait --for=condition=Ready kustomization/apps -n flux-system --timeout=10s >/dev/null 2>&1
t_ok $? "kubectl wait --for=condition=Ready kustomization/apps"
out=$(kc get validatingadmissionpolicies 2>&1)
t_is "$out" 'error: the server doesn'"'"'t have a resource type "validatingadmissionpolicies"' \
    "Kubernetes 1.29 does not serve admissionregistration.k8s.io/v1 validatingadmissionpolicies"

# ---- faults ------------------------------------------------------------------------------
ctl node-notready "{\"node\":\"$node\"}"
out=$(kc get node "$node" --no-headers 2>&1 | awk '{print $2}')
t_is "$out" "NotReady" "fault node-notready: the node is NotReady"
ctl node-ready
ctl crashloop '{"namespace":"shop","deployment":"cart","on":true}'
wait_for 20 sh -c "kubectl --cache-dir '$KCACHE' get pods -n shop -l app=cart --no-headers | grep -q CrashLoopBackOff"
t_ok $? "fault crashloop: the deployment's pods go CrashLoopBackOff"
ctl crashloop '{"namespace":"shop","deployment":"cart","on":false}'
ctl outage '{"seconds":600}'
kc get nodes --request-timeout=3s >/dev/null 2>&1
t_ok $([ $? -ne 0 ] && echo 0 || echo 1) "fault outage: kubectl cannot reach the API server"
ctl outage '{"seconds":0}'
kc get nodes >/dev/null 2>&1
t_ok $? "the outage ends: kubectl works again"

# sim_down checks the exit status: a sanitizer report fails it.
trap - EXIT INT TERM
sim_down

# ---- admission policies: a second simulator whose blue runs 1.30.5 --------------------
WORLD130=$(mktemp "${TMPDIR:-/tmp}/bgswitch-world130.XXXXXX")
sed 's/kubernetes_version: 1.29.7/kubernetes_version: 1.30.5/' sim/worlds/default.yaml >"$WORLD130"
sim_up --speed 50 --world "$WORLD130"
t_ok $? "a second simulator starts, its blue at Kubernetes 1.30.5"
rm -f "$WORLD130"
trap 'sim_down' EXIT INT TERM
KUBECONFIG=$SIM_DIR/kubeconfig
KCACHE=$SIM_DIR/kube-cache
cat >"$SIM_DIR/vap.yaml" <<'EOF'
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: demo-freeze
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE", "DELETE"]
      resources: ["deployments", "statefulsets", "daemonsets"]
  validations:
  - expression: "request.userInfo.username == 'clusterAdmin'"
    message: frozen during the sync
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: demo-freeze-binding
spec:
  policyName: demo-freeze
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchExpressions:
      - key: kubernetes.io/metadata.name
        operator: In
        values: [shop, payments]
EOF
out=$(kc api-resources --no-headers 2>/dev/null | awk '$1=="validatingadmissionpolicies" {print $2, $3, $4}')
t_is "$out" "admissionregistration.k8s.io/v1 false ValidatingAdmissionPolicy" \
    "kubectl api-resources (1.30): validatingadmissionpolicies, cluster-scoped"
out=$(kc apply --server-side -f "$SIM_DIR/vap.yaml" 2>&1)
t_is "$(echo "$out" | tr '\n' ' ')" \
    "validatingadmissionpolicy.admissionregistration.k8s.io/demo-freeze serverside-applied validatingadmissionpolicybinding.admissionregistration.k8s.io/demo-freeze-binding serverside-applied " \
    "kubectl apply --server-side: a ValidatingAdmissionPolicy and its binding"
out=$(kc get validatingadmissionpolicies 2>&1 | awk '{print $1, $2, $3}' | tr '\n' ' ')
t_is "$out" "NAME VALIDATIONS PARAMKIND demo-freeze 1 <unset> " \
    "kubectl get validatingadmissionpolicies: the API server's columns"
out=$(kc get validatingadmissionpolicybindings 2>&1 | awk '{print $1, $2, $3}' | tr '\n' ' ')
t_is "$out" "NAME POLICYNAME PARAMREF demo-freeze-binding demo-freeze <unset> " \
    "kubectl get validatingadmissionpolicybindings: the API server's columns"
kc delete -f "$SIM_DIR/vap.yaml" >/dev/null 2>&1
out=$(kc get validatingadmissionpolicies,validatingadmissionpolicybindings 2>&1)
t_is "$out" "No resources found" "kubectl delete: the policy and its binding are gone"
trap - EXIT INT TERM
sim_down
t_done
