#!/usr/bin/python3
"""Sends every example of api/openapi.yaml marked x-expect-status to a running vigil server and
checks each answer's status and its body against the documented schema (JSON Schema 2020-12, as
OpenAPI 3.1 uses). Usage: openapi_contract.py OPENAPI_YAML BASE_URL API_KEY. Exit 0 when all pass."""
import json
import sys
import urllib.error
import urllib.request
import uuid

import jsonschema
import yaml

spec_path, base, key = sys.argv[1], sys.argv[2], sys.argv[3]
spec = yaml.safe_load(open(spec_path))
validator_cls = jsonschema.Draft202012Validator
resolver = jsonschema.RefResolver(base_uri="", referrer=spec)
failures, checked = [], 0
state = {"last_decision": None}


def open_session(flow):
    status, _, body = send("POST", "/v1/sessions", {"flow_type": flow})
    if status != 201:
        raise SystemExit("could not open a %s session: %d %s" % (flow, status, body[:200]))
    return json.loads(body)["session_token"]


def substitute(value):
    text = json.dumps(value)
    text = text.replace("{{unique}}", "contract_" + uuid.uuid4().hex[:16])
    for flow in ("onboarding", "login"):
        marker = "{{session_token:%s}}" % flow
        while marker in text:
            text = text.replace(marker, open_session(flow), 1)
    if state["last_decision"]:
        text = text.replace("{{last_decision}}", state["last_decision"])
    return json.loads(text)


def send(method, path, body):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + key)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def response_schema(op, status, content_type):
    resp = op["responses"].get(str(status))
    if resp is None:
        return None, "status %d is not documented" % status
    if "$ref" in resp:
        resp = resolver.resolve(resp["$ref"])[1]
    media = resp.get("content", {}).get(content_type.split(";")[0])
    if media is None:
        return None, "content type %s is not documented for %d" % (content_type, status)
    return media["schema"], None


def check(name, op, status, content_type, body, expected):
    global checked
    checked += 1
    if status != expected:
        failures.append("%s: expected %d, got %d: %s" % (name, expected, status, body[:300]))
        return
    schema, err = response_schema(op, status, content_type)
    if err:
        failures.append("%s: %s" % (name, err))
        return
    try:
        validator_cls(schema, resolver=resolver).validate(json.loads(body))
    except jsonschema.ValidationError as e:
        failures.append("%s: response does not match schema: %s at %s" % (name, e.message, list(e.absolute_path)))


# Request bodies first (they create the decisions the GET examples read back).
for path, ops in spec["paths"].items():
    for method, op in ops.items():
        body_spec = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        for ex_name, ex in body_spec.get("examples", {}).items():
            if "x-expect-status" not in ex:
                continue
            body = substitute(ex["value"])
            status, ctype, resp = send(method.upper(), path, body)
            check("%s %s [%s]" % (method.upper(), path, ex_name), op, status, ctype, resp, ex["x-expect-status"])
            if status == 200 and "request_id" in body:
                state["last_decision"] = body["request_id"]

for path, ops in spec["paths"].items():
    for method, op in ops.items():
        for param in op.get("parameters", []):
            for ex_name, ex in param.get("examples", {}).items():
                if "x-expect-status" not in ex:
                    continue
                value = substitute(ex["value"])
                status, ctype, resp = send(method.upper(), path.replace("{%s}" % param["name"], value), None)
                check("%s %s [%s]" % (method.upper(), path, ex_name), op, status, ctype, resp, ex["x-expect-status"])

for path in ("/healthz", "/readyz"):
    op = spec["paths"][path]["get"]
    status, ctype, resp = send("GET", path, None)
    check("GET " + path, op, status, ctype, resp, 200)

for f in failures:
    print("FAIL", f)
print("checked %d answers, %d failures" % (checked, len(failures)))
sys.exit(1 if failures or checked < 5 else 0)
