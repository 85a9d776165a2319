"""Schemathesis hooks for `make fuzz` (loaded through SCHEMATHESIS_HOOKS).

POST /v1/tickets/import takes NDJSON, which schemathesis cannot write on its own. Its
bodies are drawn here: up to 20 lines, each an OpenTicketRequest as openapi.yaml describes
it, a JSON value of another shape, or arbitrary text (not always UTF-8), so that one body
mixes accepted, duplicate and rejected lines.
"""
import json
import os

import schemathesis
from hypothesis import strategies as st

CATEGORIES = ["help-desk", "desktop-support", "wan-lan", "server-operations", "application-services", "training", "other"]
LEVELS = ["high", "medium", "low"]


def text(min_size, max_size):
    return st.text(min_size=min_size, max_size=max_size)


ticket = st.fixed_dictionaries(
    {"requester": text(1, 200), "category": st.sampled_from(CATEGORIES), "subject": text(1, 500)},
    optional={
        "source": text(1, 100),
        "externalReference": st.sampled_from(["INC1", "INC2", "INC3"]) | text(1, 200),
        "site": text(0, 100),
        "department": text(0, 100),
        "subcategory": text(0, 100),
        "impact": st.sampled_from(LEVELS),
        "urgency": st.sampled_from(LEVELS),
        "priority": st.sampled_from(["P1", "P2", "P3", "P4", "P5"]),
        "description": text(0, 2000),
        "channel": st.sampled_from(["phone", "email", "portal", "walk-in", "chat", "monitoring", "api"]),
    },
)
other_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text(0, 50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text(0, 20), children, max_size=4),
    max_leaves=10,
)
line = st.one_of(
    ticket.map(json.dumps),
    other_json.map(json.dumps),
    st.text(alphabet=st.characters(blacklist_characters="\n\r"), max_size=200),
)
# Lone surrogates in the text lines go out as they are, as bytes that are not UTF-8.
body = st.lists(line, max_size=20).map(lambda lines: "".join(l + "\n" for l in lines).encode("utf-8", "surrogatepass"))

schemathesis.openapi.media_type("application/x-ndjson", body)


# The stateful phase learns token ids from GET /v1/tokens and revokes them; once it revoked
# the admin token the fuzzer itself uses, every later request was a 401. fuzz.sh passes
# that token's id. A revocation of it (by the whole id or a prefix) is sent for an id no
# token has instead, which answers 404. Mapped on the final case: ids the stateful phase
# takes from earlier answers are not seen by the parameter hooks.
OWN_TOKEN_ID = os.environ.get("BATON_FUZZ_OWN_TOKEN_ID", "").lower()


@schemathesis.hook
def map_case(ctx, case):
    if case.operation.method.upper() == "DELETE" and case.operation.path == "/v1/tokens/{id}":
        token = str((case.path_parameters or {}).get("id", "")).lower()
        if len(token) >= 8 and OWN_TOKEN_ID.startswith(token):
            case.path_parameters["id"] = "00000000"
    return case
