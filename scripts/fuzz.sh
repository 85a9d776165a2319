#!/usr/bin/env bash
# Fuzzes batond's API from its own openapi.yaml with schemathesis (PyPI): every operation,
# as the example admin, against a throw-away embedded cluster. It fails on any 5xx and on
# any answer that does not match the document. Long polls (`wait` up to 30 s) are given 40 s.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v schemathesis >/dev/null 2>&1; then
    echo "installing schemathesis with pip …"
    python3 -m pip install --quiet schemathesis || { echo "could not install it: run  python3 -m pip install schemathesis"; exit 1; }
fi
swift build --product batond
bin="$(swift build --show-bin-path)"
work="$(mktemp -d /tmp/baton-fuzz-XXXXXX)"
chmod 755 "$work"
port="${FUZZ_PORT:-18080}"
"$bin/batond" serve --data-dir "$work/pg" --port "$port" --agreements deploy/examples/agreements.yaml --example-tokens \
    > "$work/batond.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do
    if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && grep -q "^  admin admin" "$work/batond.log"; then break; fi
    sleep 0.2
done
token="$(awk '/^  admin admin/ {print $NF}' "$work/batond.log")"
[ -n "$token" ] || { echo "batond did not start:"; cat "$work/batond.log"; exit 1; }

# The id of the admin token in use (its hint is the secret's first characters), which the
# hooks keep the fuzzer from revoking; and the NDJSON bodies for the import.
own_token_id="$(curl -sSf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/tokens" | python3 -c '
import json, sys
token = sys.argv[1]
print(next((t["id"] for t in json.load(sys.stdin)["tokens"] if t["role"] == "admin" and not t.get("revokedAt") and token.startswith(t["hint"])), ""))
' "$token")"
[ -n "$own_token_id" ] || { echo "could not find the admin token's id through GET /v1/tokens"; exit 1; }
export BATON_FUZZ_OWN_TOKEN_ID="$own_token_id" SCHEMATHESIS_HOOKS=fuzz_hooks PYTHONPATH="$PWD/scripts${PYTHONPATH:+:$PYTHONPATH}"

schemathesis run "http://127.0.0.1:$port/openapi.yaml" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --request-timeout 40 \
    --max-examples "${FUZZ_EXAMPLES:-50}" "$@"
