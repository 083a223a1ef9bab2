#!/bin/sh
# tests/conformance/arm.sh — the simulated Entra ID and Resource Manager,
# driven with curl the way a client would: tokens (secret, certificate
# assertion, federated token, IMDS), a managed cluster create followed
# through its Azure-AsyncOperation, credentials, the gateway with etags and
# weights, backend health as a long-running action, DNS record sets with
# If-Match / If-None-Match, metrics, and the faults and refusals a client
# must survive.  JSON is picked apart with python3 (jq is not guaranteed).
. tests/lib/tap.sh

T=$(mktemp -d "${TMPDIR:-/tmp}/bgswitch-arm.XXXXXX")
trap 'sim_down >/dev/null 2>&1; rm -rf "$T"' EXIT

# json PATH < file: a dotted path (list indexes are numbers); prints the
# value (objects and lists as JSON, true/false as true/false), "" if absent.
json() {
    python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    print(""); sys.exit(0)
for k in [p for p in sys.argv[1].split(".") if p]:
    if isinstance(d, list):
        try: d = d[int(k)]
        except Exception: d = None
    elif isinstance(d, dict):
        d = d.get(k)
    else:
        d = None
    if d is None:
        break
if d is None: print("")
elif isinstance(d, bool): print("true" if d else "false")
elif isinstance(d, (dict, list)): print(json.dumps(d))
else: print(d)' "$1"
}

# req METHOD URL [curl args...]: status code on stdout; headers in $T/h, body in $T/b.
req() {
    m=$1 u=$2
    shift 2
    sim_curl -s -X "$m" -D "$T/h" -o "$T/b" -w '%{http_code}' "$@" "$u"
}
# arm METHOD PATH-AND-QUERY [curl args...]: req with the bearer token.
arm() {
    m=$1 p=$2
    shift 2
    req "$m" "$SIM_URL$p" -H "Authorization: Bearer $TOKEN" "$@"
}
hdr() { grep -i "^$1:" "$T/h" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'; }
body() { json "$1" < "$T/b"; }
b64url() { base64 | tr -d '\n=' | tr '+/' '-_'; }

if ! sim_up --speed 100; then
    t_ok 1 "bgswitch sim starts"
    t_done
    exit 1
fi
. "$SIM_DIR/env"
SUB=$(json subscription < "$SIM_DIR/endpoints.json")
RG=$(json resourceGroup < "$SIM_DIR/endpoints.json")
TOKEN_URL="$SIM_URL/$AZURE_TENANT_ID/oauth2/v2.0/token"
RGP="/subscriptions/$SUB/resourceGroups/$RG/providers"
AKS="$RGP/Microsoft.ContainerService/managedClusters"
AGW="$RGP/Microsoft.Network/applicationGateways/agw-prod"
ZONE="$RGP/Microsoft.Network/privateDnsZones/priv.contoso.com"
V_AKS=api-version=2026-07-01
V_NET=api-version=2026-03-01
V_DNS=api-version=2024-06-01

# A fresh token: at --speed 100 one lives 36 real seconds.
TOKEN= TOKEN_AT=0
token() {
    now=$(date +%s)
    [ -n "$TOKEN" ] && [ $((now - TOKEN_AT)) -lt 15 ] && return 0
    s=$(req POST "$TOKEN_URL" -d grant_type=client_credentials -d "client_id=$AZURE_CLIENT_ID" \
        --data-urlencode "client_secret=$AZURE_CLIENT_SECRET" --data-urlencode "scope=$SIM_URL/.default")
    TOKEN=$(body access_token)
    TOKEN_AT=$now
    [ "$s" = 200 ]
}

# follow_async URL: polls an Azure-AsyncOperation URL until a terminal
# status (bounded); prints the status.
follow_async() {
    url=$1 i=0 st=
    while [ -n "$url" ] && [ $i -lt 90 ]; do
        token
        [ "$(req GET "$url" -H "Authorization: Bearer $TOKEN")" = 200 ] || break
        st=$(body status)
        case "$st" in Succeeded|Failed|Canceled) break ;; esac
        sleep "$(hdr Retry-After | grep -E '^[0-9]+$' || echo 1)"
        i=$((i + 1))
    done
    echo "$st"
}

# follow_location URL: polls a Location URL while it answers 202; prints
# the final status code (body in $T/b).
follow_location() {
    url=$1 i=0 s=
    while [ -n "$url" ] && [ $i -lt 90 ]; do
        token
        s=$(req GET "$url" -H "Authorization: Bearer $TOKEN")
        [ "$s" != 202 ] && break
        sleep "$(hdr Retry-After | grep -E '^[0-9]+$' || echo 1)"
        i=$((i + 1))
    done
    echo "$s"
}

# ---- Entra ID ------------------------------------------------------------

token
t_ok $? "client secret gets a token"
t_is "$(body token_type)" Bearer "token_type is Bearer"
case "$(body expires_in)" in [1-9]*) r=0 ;; *) r=1 ;; esac
t_ok $r "expires_in is a positive number"
t_is "$(printf '%s' "$TOKEN" | tr -cd . | wc -c | tr -d ' ')" 2 "access token is JWT-shaped"
claims=$(printf '%s' "$TOKEN" | cut -d. -f2 | tr '_-' '/+' | python3 -c '
import base64, sys
s = sys.stdin.read().strip(); s += "=" * (-len(s) % 4)
print(base64.b64decode(s).decode())')
t_is "$(printf '%s' "$claims" | json tid)" "$AZURE_TENANT_ID" "token carries the tenant id"

s=$(req POST "$TOKEN_URL" -d grant_type=client_credentials -d "client_id=$AZURE_CLIENT_ID" \
    -d client_secret=wrong --data-urlencode "scope=$SIM_URL/.default")
t_is "$s" 401 "wrong secret is refused with 401"
t_is "$(body error)" invalid_client "wrong secret: error invalid_client"
t_is "$(body error_codes.0)" 7000215 "wrong secret: AADSTS7000215"
case "$(body error_description)" in AADSTS7000215:*Trace\ ID:*) r=0 ;; *) r=1 ;; esac
t_ok $r "error_description starts with the AADSTS code and carries a trace id"

s=$(req POST "$TOKEN_URL" -d grant_type=client_credentials -d client_id=00000000-1111-2222-3333-444444444444 \
    -d client_secret=x --data-urlencode "scope=$SIM_URL/.default")
t_is "$s/$(body error_codes.0)" 400/700016 "unknown application: 400 AADSTS700016"
s=$(req POST "$SIM_URL/00000000-0000-0000-0000-000000000001/oauth2/v2.0/token" -d grant_type=client_credentials \
    -d "client_id=$AZURE_CLIENT_ID" --data-urlencode "client_secret=$AZURE_CLIENT_SECRET" \
    --data-urlencode "scope=$SIM_URL/.default")
t_is "$s/$(body error_codes.0)" 400/90002 "unknown tenant: 400 AADSTS90002"
s=$(req POST "$TOKEN_URL" -d grant_type=client_credentials -d "client_id=$AZURE_CLIENT_ID" \
    --data-urlencode "client_secret=$AZURE_CLIENT_SECRET" --data-urlencode "scope=$SIM_URL/user.read")
t_is "$s/$(body error)/$(body error_codes.0)" 400/invalid_scope/70011 "scope without /.default: invalid_scope AADSTS70011"

# A certificate assertion (RS256, x5t of the registered certificate).
if command -v openssl >/dev/null 2>&1 && openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/k.pem" \
    -out "$T/c.pem" -subj /CN=bgswitch-test -days 1 >/dev/null 2>&1; then
    CID=2b1d8a57-5c1e-4f0a-9d1e-7c2b3a4d5e6f
    pem=$(python3 -c 'import json,sys; print(json.dumps({"client_id": sys.argv[1], "pem": open(sys.argv[2]).read()}))' \
        "$CID" "$T/c.pem")
    s=$(req POST "$SIM_URL/_sim/arm/entra/certificates" -H 'Content-Type: application/json' -d "$pem")
    t_is "$s" 201 "a certificate is registered through the control endpoint"
    x5t=$(openssl x509 -in "$T/c.pem" -outform DER | openssl dgst -sha1 -binary | b64url)
    now=$(date +%s)
    h=$(printf '{"alg":"RS256","typ":"JWT","x5t":"%s"}' "$x5t" | b64url)
    p=$(printf '{"aud":"%s","iss":"%s","sub":"%s","jti":"j1","nbf":%d,"exp":%d}' \
        "$TOKEN_URL" "$CID" "$CID" "$now" $((now + 600)) | b64url)
    sig=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$T/k.pem" -binary | b64url)
    s=$(req POST "$TOKEN_URL" -d grant_type=client_credentials -d "client_id=$CID" \
        -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
        -d "client_assertion=$h.$p.$sig" --data-urlencode "scope=https://management.azure.com/.default")
    t_is "$s" 200 "a signed client assertion gets a token"
    t_is "$(body access_token | cut -c1-3)" eyJ "assertion token is JWT-shaped"
    bad=$(printf '%s' "$sig" | tr 'A-Za-z' 'B-ZAb-za')
    s=$(req POST "$TOKEN_URL" -d grant_type=client_credentials -d "client_id=$CID" \
        -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
        -d "client_assertion=$h.$p.$bad" --data-urlencode "scope=https://management.azure.com/.default")
    t_is "$s/$(body error_codes.0)" 401/700027 "a bad assertion signature: 401 AADSTS700027"
    p=$(printf '{"aud":"%s","iss":"%s","sub":"%s","nbf":%d,"exp":%d}' \
        "$TOKEN_URL" "$CID" "$CID" $((now - 7200)) $((now - 3600)) | b64url)
    sig=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$T/k.pem" -binary | b64url)
    s=$(req POST "$TOKEN_URL" -d grant_type=client_credentials -d "client_id=$CID" \
        -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
        -d "client_assertion=$h.$p.$sig" --data-urlencode "scope=https://management.azure.com/.default")
    t_is "$s/$(body error_codes.0)" 401/700024 "an expired assertion: 401 AADSTS700024"
else
    t_skip "certificate assertion" "openssl cannot make a test certificate"
fi

# A federated (workload identity) token from the world's trusted issuer.
now=$(date +%s)
fed() {
    h=$(printf '{"alg":"RS256","typ":"JWT","kid":"k1"}' | b64url)
    p=$(printf '{"iss":"https://oidc.sim.bgswitch.local/","sub":"%s","aud":["api://AzureADTokenExchange"],"nbf":%d,"exp":%d}' \
        "$1" "$now" $((now + 600)) | b64url)
    req POST "$TOKEN_URL" -d grant_type=client_credentials -d "client_id=$AZURE_CLIENT_ID" \
        -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
        -d "client_assertion=$h.$p.c2lnbmF0dXJl" --data-urlencode "scope=https://management.azure.com/.default"
}
t_is "$(fed system:serviceaccount:ci:bgswitch)" 200 "a federated token from the trusted issuer gets a token"
s=$(fed system:serviceaccount:ci:someone-else)
t_is "$s/$(body error_codes.0)" 401/700213 "a federated token with another subject: AADSTS700213"

s=$(req GET "$SIM_URL/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/")
t_is "$s" 400 "IMDS without 'Metadata: true' is refused"
s=$(req GET "$SIM_URL/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/" \
    -H 'Metadata: true')
t_is "$s" 200 "IMDS issues a managed identity token"
case "$(sed 's/ //g' "$T/b")" in *'"expires_in":"'[0-9]*) r=0 ;; *) r=1 ;; esac
t_ok $r "IMDS prints expires_in as a string"

# ---- the ARM front door -----------------------------------------------------

s=$(req GET "$SIM_URL$AKS/aks-prod-blue?$V_AKS")
t_is "$s/$(body error.code)" 401/AuthenticationFailed "no token: 401 AuthenticationFailed"
[ -n "$(hdr WWW-Authenticate)" ]
t_ok $? "401 carries WWW-Authenticate"
s=$(req GET "$SIM_URL$AKS/aks-prod-blue?$V_AKS" -H 'Authorization: Bearer not-a-token')
t_is "$s/$(body error.code)" 401/InvalidAuthenticationToken "unknown token: 401 InvalidAuthenticationToken"
token
s=$(arm GET "$AKS/aks-prod-blue")
t_is "$s/$(body error.code)" 400/MissingApiVersionParameter "missing api-version: 400 MissingApiVersionParameter"
s=$(arm GET "$AKS/aks-prod-blue?api-version=2099-01-01")
t_is "$s/$(body error.code)" 400/NoRegisteredProviderFound "unsupported api-version: 400 NoRegisteredProviderFound"
s=$(arm GET "$AKS/aks-prod-blue?$V_AKS" -H 'x-ms-client-request-id: abc-123')
t_is "$s" 200 "GET the blue cluster"
t_is "$(hdr x-ms-client-request-id)" abc-123 "x-ms-client-request-id is echoed"
[ -n "$(hdr x-ms-request-id)" ] && [ -n "$(hdr x-ms-correlation-request-id)" ]
t_ok $? "x-ms-request-id and x-ms-correlation-request-id are set"
t_is "$(body properties.provisioningState)/$(body properties.powerState.code)" Succeeded/Running \
    "blue is Succeeded/Running"
s=$(arm GET "$(printf '%s' "$AKS" | tr 'a-z' 'A-Z' | sed 's/SUBSCRIPTIONS/subscriptions/')/AKS-PROD-BLUE?$V_AKS")
t_is "$s" 200 "resource ids match case-insensitively"
s=$(arm GET "$AKS/aks-nope?$V_AKS")
t_is "$s/$(body error.code)" 404/ResourceNotFound "unknown cluster: 404 ResourceNotFound"
case "$(body error.message)" in *"Microsoft.ContainerService/managedClusters/aks-nope"*"under resource group"*) r=0 ;; *) r=1 ;; esac
t_ok $r "ResourceNotFound names the type, name and resource group"
s=$(arm GET "/subscriptions/$SUB/resourceGroups/rg-nope/providers/Microsoft.ContainerService/managedClusters/x?$V_AKS")
t_is "$s/$(body error.code)" 404/ResourceGroupNotFound "unknown resource group: 404 ResourceGroupNotFound"
s=$(arm GET "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/$RG/providers/Microsoft.ContainerService/managedClusters/x?$V_AKS")
t_is "$s/$(body error.code)" 404/SubscriptionNotFound "unknown subscription: 404 SubscriptionNotFound"
s=$(arm PUT "$AKS/aks-bad?$V_AKS" -H 'Content-Type: application/json' -d '{"location": "westeurope",')
t_is "$s/$(body error.code)" 400/InvalidRequestContent "malformed JSON body: 400 InvalidRequestContent"
s=$(arm PUT "$AKS/aks-bad?$V_AKS" -H 'Content-Type: application/json' \
    -d '{"location":"westeurope","properties":{"agentPoolProfiles":[{"name":"sys","count":"three","mode":"System"}]}}')
t_is "$s/$(body error.code)" 400/InvalidRequestContent "a wrongly typed field: 400 InvalidRequestContent"

# ---- throttling --------------------------------------------------------------

s=$(req POST "$SIM_URL/_sim/faults" -H 'Content-Type: application/json' -d '{"arm_throttle":1,"arm_throttle_retry_after":7}')
t_is "$s" 200 "throttle fault switched on"
s=$(arm GET "$AKS/aks-prod-blue?$V_AKS")
t_is "$s/$(hdr Retry-After)" 429/7 "throttled: 429 with Retry-After: 7"
s=$(arm GET "$AKS/aks-prod-blue?$V_AKS")
t_is "$s" 200 "the next call succeeds"

# ---- a managed cluster create, followed to the end ----------------------------

token
s=$(arm GET "$AKS/aks-prod-blue?$V_AKS")
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
body = {"location": d["location"], "tags": d.get("tags", {}), "identity": d["identity"],
        "properties": {"kubernetesVersion": "1.30.5", "dnsPrefix": "aks-prod-green", "enableRBAC": True,
                       "agentPoolProfiles": d["properties"]["agentPoolProfiles"],
                       "networkProfile": d["properties"]["networkProfile"]}}
for p in body["properties"]["agentPoolProfiles"]:
    p["orchestratorVersion"] = "1.30.5"
print(json.dumps(body))' "$T/b" > "$T/green.json"
s=$(arm PUT "$AKS/aks-prod-green?$V_AKS" -H 'Content-Type: application/json' --data-binary "@$T/green.json")
t_is "$s" 201 "PUT a new managed cluster: 201 Created"
t_is "$(body properties.provisioningState)" Creating "it is Creating"
ASYNC=$(hdr Azure-AsyncOperation)
LOC=$(hdr Location)
case "$ASYNC" in https://*/operations/*api-version=*) r=0 ;; *) r=1 ;; esac
t_ok $r "Azure-AsyncOperation is an absolute operation URL"
case "$(hdr Retry-After)" in [1-9]*) r=0 ;; *) r=1 ;; esac
t_ok $r "Retry-After is given"
s=$(arm GET "$AKS/aks-prod-green?$V_AKS")
t_is "$s/$(body properties.provisioningState)" 200/Creating "GET while creating: 200, provisioningState Creating"
req GET "$LOC" -H "Authorization: Bearer $TOKEN" >/dev/null
t_is "$(cat "$T/b")" "" "Location answers without a body while running"
t_is "$(follow_async "$ASYNC")" Succeeded "the create operation reaches Succeeded"
t_is "$(body name)" "$(printf '%s' "$ASYNC" | sed 's/.*operations\/\([^?]*\).*/\1/')" "operation status names itself"
[ -n "$(body startTime)" ] && [ -n "$(body endTime)" ]
t_ok $? "operation status has startTime and endTime"
t_is "$(follow_location "$LOC")/$(body name)" 200/aks-prod-green "Location ends with the cluster (200)"
token
s=$(arm GET "$AKS/aks-prod-green?$V_AKS")
t_is "$(body properties.provisioningState)/$(body properties.currentKubernetesVersion)" Succeeded/1.30.5 \
    "green is Succeeded on 1.30.5"
s=$(arm POST "$AKS/aks-prod-green/listClusterUserCredential?$V_AKS")
t_is "$s/$(body kubeconfigs.0.name)" 200/clusterUser "listClusterUserCredential answers"
body kubeconfigs.0.value | base64 -d 2>/dev/null > "$T/kubeconfig"
grep -q 'server:' "$T/kubeconfig"
t_ok $? "the credential base64-decodes to a kubeconfig with a server"
s=$(arm GET "$AKS?$V_AKS")
t_is "$(body value.1.name)" aks-prod-green "list by resource group shows both clusters"
s=$(arm PUT "$AKS/aks-prod-green?$V_AKS" -H 'Content-Type: application/json' --data-binary "@$T/green.json")
t_is "$s/$(body properties.provisioningState)" 200/Updating "PUT on an existing cluster: 200, Updating"
UPD=$(hdr Azure-AsyncOperation)
s=$(arm PUT "$AKS/aks-prod-green?$V_AKS" -H 'Content-Type: application/json' --data-binary "@$T/green.json")
t_is "$s/$(body error.code)" 409/OperationNotAllowed "a second change while one runs: 409"
t_is "$(follow_async "$UPD")" Succeeded "the update reaches Succeeded"

token
s=$(arm POST "$AKS/aks-prod-green/stop?$V_AKS")
t_is "$s" 202 "POST stop: 202 Accepted"
t_is "$(follow_location "$(hdr Location)")" 204 "stop's Location ends with 204"
s=$(arm GET "$AKS/aks-prod-green?$V_AKS")
t_is "$(body properties.provisioningState)/$(body properties.powerState.code)" Succeeded/Stopped "green is Stopped"
s=$(arm POST "$AKS/aks-prod-green/start?$V_AKS")
t_is "$(follow_async "$(hdr Azure-AsyncOperation)")" Succeeded "start reaches Succeeded"
s=$(arm GET "$AKS/aks-prod-green?$V_AKS")
t_is "$(body properties.powerState.code)" Running "green is Running again"

# The next create fails.
req POST "$SIM_URL/_sim/faults" -d '{"fail_cluster_create":1}' >/dev/null
token
s=$(arm PUT "$AKS/aks-doomed?$V_AKS" -H 'Content-Type: application/json' --data-binary "@$T/green.json")
t_is "$s" 201 "a doomed create is accepted"
t_is "$(follow_async "$(hdr Azure-AsyncOperation)")" Failed "fail_cluster_create: the operation ends Failed"
[ -n "$(body error.code)" ] && [ -n "$(body error.message)" ]
t_ok $? "a failed operation carries error.code and error.message"
s=$(arm GET "$AKS/aks-doomed?$V_AKS")
t_is "$(body properties.provisioningState)" Failed "the cluster's provisioningState is Failed"

s=$(arm DELETE "$AKS/aks-doomed?$V_AKS")
t_is "$s" 202 "DELETE: 202 Accepted"
t_is "$(follow_location "$(hdr Location)")" 204 "delete's Location ends with 204"
s=$(arm GET "$AKS/aks-doomed?$V_AKS")
t_is "$s" 404 "deleted cluster is gone"
s=$(arm DELETE "$AKS/aks-doomed?$V_AKS")
t_is "$s" 204 "DELETE of an absent cluster: 204"

# ---- the application gateway --------------------------------------------------

token
s=$(arm GET "$AGW?$V_NET")
t_is "$s" 200 "GET the gateway"
ETAG=$(body etag)
case "$ETAG" in W/\"*\") r=0 ;; *) r=1 ;; esac
t_ok $r "gateway etag is a weak W/\"...\" etag"
cp "$T/b" "$T/gw.json"
s=$(arm PUT "$AGW?$V_NET" -H 'Content-Type: application/json' -H 'If-Match: W/"00000000-0000-0000-0000-000000000000"' \
    --data-binary "@$T/gw.json")
t_is "$s/$(body error.code)" 412/PreconditionFailed "PUT with a stale If-Match: 412 PreconditionFailed"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for pol in d["properties"]["loadDistributionPolicies"]:
    for t in pol["properties"]["loadDistributionTargets"]:
        t["properties"]["weightPerServer"] = int(sys.argv[2])
json.dump(d, open(sys.argv[3], "w"))' "$T/gw.json" 150 "$T/gw-bad.json"
s=$(arm PUT "$AGW?$V_NET" -H 'Content-Type: application/json' -H "If-Match: $ETAG" --data-binary "@$T/gw-bad.json")
t_is "$s" 400 "a weight of 150 is refused with 400"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for pol in d["properties"]["loadDistributionPolicies"]:
    for t in pol["properties"]["loadDistributionTargets"]:
        t["properties"]["weightPerServer"] = 50
json.dump(d, open(sys.argv[2], "w"))' "$T/gw.json" "$T/gw-50.json"
s=$(arm PUT "$AGW?$V_NET" -H 'Content-Type: application/json' -H "If-Match: $ETAG" --data-binary "@$T/gw-50.json")
t_is "$s/$(body properties.provisioningState)" 200/Updating "PUT 50/50 with the current etag: 200, Updating"
[ "$(body etag)" != "$ETAG" ] && [ -n "$(body etag)" ]
t_ok $? "the update gets a new etag"
t_is "$(follow_async "$(hdr Azure-AsyncOperation)")" Succeeded "gateway update reaches Succeeded"
token
s=$(arm GET "$AGW?$V_NET")
t_is "$(body properties.loadDistributionPolicies.0.properties.loadDistributionTargets.1.properties.weightPerServer)" 50 \
    "the new weights are stored"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d["properties"]["requestRoutingRules"][0]["properties"]["backendHttpSettings"]["id"] += "-nope"
json.dump(d, open(sys.argv[2], "w"))' "$T/b" "$T/gw-ref.json"
s=$(arm PUT "$AGW?$V_NET" -H 'Content-Type: application/json' --data-binary "@$T/gw-ref.json")
t_is "$s/$(body error.code)" 400/InvalidResourceReference "a dangling reference: 400 InvalidResourceReference"
ETAG=$(arm GET "$AGW?$V_NET" >/dev/null; body etag)
s=$(req POST "$SIM_URL/_sim/arm/gateways/agw-prod/bump-etag")
t_is "$s" 200 "control: bump the gateway's etag"
s=$(arm PUT "$AGW?$V_NET" -H 'Content-Type: application/json' -H "If-Match: $ETAG" --data-binary "@$T/gw-50.json")
t_is "$s" 412 "after a change behind our back, the old etag gets 412"

s=$(arm POST "$AGW/backendhealth?$V_NET")
t_is "$s" 202 "backendhealth: 202 Accepted"
t_is "$(follow_location "$(hdr Location)")" 200 "backendhealth's Location ends with 200"
t_is "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["backendAddressPools"]:
    if p["backendAddressPool"]["id"].endswith("/pool-blue"):
        print(",".join(s["health"] for c in p["backendHttpSettingsCollection"] for s in c["servers"]))' "$T/b")" Up \
    "pool-blue's server is Up"

token
s=$(arm GET "$AGW/providers/Microsoft.Insights/metrics?api-version=2023-10-01&metricnames=TotalRequests&timespan=PT30M&interval=PT1M&aggregation=Total")
t_is "$s" 200 "metrics query answers"
t_is "$(body value.0.name.value)/$(body value.0.unit)" TotalRequests/Count "metric name and unit"
tot=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(int(sum(p.get("total", 0) for t in d["value"][0]["timeseries"] for p in t["data"])))' "$T/b")
[ "${tot:-0}" -gt 0 ]
t_ok $? "TotalRequests over the last 30 minutes is above zero ($tot)"
s=$(arm GET "$AGW/providers/Microsoft.Insights/metrics?api-version=2023-10-01&metricnames=ResponseStatus&timespan=PT30M&aggregation=Total&%24filter=HttpStatusGroup%20eq%20%27*%27")
t_is "$(body value.0.timeseries.0.metadatavalues.0.name.value)/$(body value.0.timeseries.0.metadatavalues.0.value)" \
    httpstatusgroup/2xx "ResponseStatus split by HttpStatusGroup starts with 2xx"
s=$(arm GET "$AGW/providers/Microsoft.Insights/metrics?api-version=2023-10-01&metricnames=NoSuchMetric")
t_is "$s/$(body error.code)" 400/BadRequest "an unknown metric: 400 BadRequest"

# ---- private DNS record sets -------------------------------------------------------

token
s=$(arm GET "$ZONE?$V_DNS")
t_is "$s/$(body name)" 200/priv.contoso.com "GET the private zone"
s=$(arm GET "$ZONE/A/aks?$V_DNS")
t_is "$s/$(body properties.aRecords.0.ipv4Address)" 200/10.10.1.4 "GET the live A record"
E1=$(body etag)
s=$(arm PUT "$ZONE/A/aks?$V_DNS" -H 'Content-Type: application/json' -H "If-Match: $E1" \
    -d '{"properties":{"ttl":300,"aRecords":[{"ipv4Address":"10.10.2.4"}]}}')
E2=$(body etag)
t_is "$s/$(body properties.aRecords.0.ipv4Address)" 200/10.10.2.4 "PUT the A record with If-Match: 200"
[ -n "$E2" ] && [ "$E2" != "$E1" ]
t_ok $? "the record set gets a new etag"
s=$(arm PUT "$ZONE/A/aks?$V_DNS" -H 'Content-Type: application/json' -H "If-Match: $E1" \
    -d '{"properties":{"ttl":300,"aRecords":[{"ipv4Address":"10.10.1.4"}]}}')
t_is "$s/$(body error.code)" 412/PreconditionFailed "PUT with the old etag: 412"
s=$(arm PUT "$ZONE/A/aks?$V_DNS" -H 'Content-Type: application/json' -H 'If-None-Match: *' \
    -d '{"properties":{"ttl":300,"aRecords":[{"ipv4Address":"10.10.1.4"}]}}')
t_is "$s" 412 "If-None-Match: * on an existing record: 412"
s=$(arm PUT "$ZONE/CNAME/WWW?$V_DNS" -H 'Content-Type: application/json' -H 'If-None-Match: *' \
    -d '{"properties":{"ttl":60,"cnameRecord":{"cname":"aks.priv.contoso.com"}}}')
t_is "$s/$(body name)/$(body properties.fqdn)" 201/www/www.priv.contoso.com. "create a CNAME: 201, lower-case name, fqdn"
s=$(arm PUT "$ZONE/A/aks?$V_DNS" -H 'Content-Type: application/json' -d '{"properties":{"aRecords":[{"ipv4Address":"10.10.300.4"}]}}')
t_is "$s" 400 "an invalid IPv4 address: 400"
s=$(arm PUT "$ZONE/A/aks?$V_DNS" -d '{"properties":{"ttl":300}}')
t_is "$s/$(body error.code)" 415/UnsupportedMediaType "a body that is not declared JSON: 415"
s=$(req POST "$SIM_URL/_sim/arm/dns/priv.contoso.com/A/aks/bump-etag" -d '{"ipv4":["10.10.9.9"]}')
t_is "$s" 200 "control: change the record behind our back"
s=$(arm PUT "$ZONE/A/aks?$V_DNS" -H 'Content-Type: application/json' -H "If-Match: $E2" \
    -d '{"properties":{"ttl":300,"aRecords":[{"ipv4Address":"10.10.1.4"}]}}')
t_is "$s" 412 "the etag read before that change is stale: 412"
s=$(arm GET "$ZONE/A?$V_DNS")
t_is "$(body value.0.type)" Microsoft.Network/privateDnsZones/A "list A record sets"
s=$(arm GET "$ZONE/ALL?$V_DNS")
t_is "$(body value.0.name)" @ "list ALL starts with the zone's SOA record set"
s=$(arm DELETE "$ZONE/CNAME/www?$V_DNS")
t_is "$s" 200 "DELETE a record set: 200"

# Microsoft.Authorization/permissions: what preflight asks before a run.
PERMS="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Authorization/permissions?api-version=2022-04-01"
s=$(arm GET "$PERMS")
t_is "$s $(body value.0.actions.0)" "200 *" "permissions: the world grants every action"
s=$(req POST "$SIM_URL/_sim/arm/permissions" -d '{"actions":["*/read"],"not_actions":["Microsoft.Network/*/write"]}')
t_is "$s" 200 "control: narrow the caller's permissions"
s=$(arm GET "$PERMS")
t_is "$(body value.0.actions.0) $(body value.0.notActions.0)" "*/read Microsoft.Network/*/write" \
    "permissions: the narrowed set, in the API's camelCase"

sim_down
t_ok $? "bgswitch sim stops cleanly"
t_done
