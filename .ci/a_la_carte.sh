#!/usr/bin/env bash
# Each distribution installed alone (its qake-* dependencies from the built wheels,
# third-party ones from the index) into a fresh venv: import it, run a smoke
# snippet, run that package's own tests. Usage: a_la_carte.sh WORKDIR
set -euo pipefail
WORK=$1
DIST="$WORK/dist"
ROOT=$(pwd)
PY=${PYTHON:-python3}
TEST_TOOLS=(pytest hypothesis trio httpx uvicorn)

wheel() { ls "$DIST"/"$1"-*.whl; }

run_tests() { # venv-python, test dirs...
  local py=$1; shift
  (cd "$ROOT" && "$py" -m pytest -q -p no:randomly "$@")
}

echo "--- qake-routing: the venv holds no third-party distribution at all"
V="$WORK/venv-qake-routing"
"$PY" -m venv "$V"
"$V/bin/pip" install -q --no-index "$(wheel qake_routing)"
others=$("$V/bin/pip" list --format=freeze | grep -viE '^(pip|setuptools|qake-routing)==' || true)
if [ -n "$others" ]; then echo "qake-routing venv has third-party distributions: $others"; exit 1; fi
"$V/bin/pip" list
"$V/bin/python" - <<'PY'
from qake_routing import Router, NotFound
r = Router()
r.add("/items/{item_id:int}", "item-handler", methods=["GET"], name="item")
m = r.match("GET", "/items/42")
assert m.handler == "item-handler" and m.params == {"item_id": 42}, m
assert r.url_for("item", item_id=7) == "/items/7"
try:
    r.match("GET", "/items/x")
except NotFound:
    pass
else:
    raise AssertionError("expected NotFound")
print("qake-routing smoke ok")
PY
# Test tools live outside the venv (on PYTHONPATH), so the venv itself stays clean.
"$PY" -m pip install -q --target "$WORK/routing-test-tools" pytest hypothesis
PYTHONPATH="$WORK/routing-test-tools" run_tests "$V/bin/python" tests/routing

install_alone() { # name extras wheels...
  local name=$1 extras=$2; shift 2
  local V="$WORK/venv-$name"
  uv venv -q --python "$PY" "$V"
  local main
  main=$(wheel "${name//-/_}")
  uv pip install -q --python "$V/bin/python" "${main}${extras}" "$@"
  echo "$V/bin/python"
}

smoke_core='
import asyncio
from qake_core import App
app = App()
@app.get("/items/{item_id:int}")
async def read(item_id: int) -> dict:
    return {"item_id": item_id}
async def main():
    sent = []
    async def receive():
        return {"type": "http.request", "body": b""}
    async def send(m):
        sent.append(m)
    scope = {"type": "http", "method": "GET", "path": "/items/5", "raw_path": b"/items/5",
             "query_string": b"", "headers": []}
    await app(scope, receive, send)
    assert sent[0]["status"] == 200 and sent[1]["body"] == b"{\"item_id\":5}", sent
asyncio.run(main())
print("qake-core smoke ok")
'

echo "--- qake-core"
P=$(install_alone qake-core "[templates,redis,compression,metrics,settings]" "$(wheel qake_routing)" "$(wheel qake_testing)" "${TEST_TOOLS[@]}")
"$P" -c "$smoke_core"
run_tests "$P" tests/core

echo "--- qake-testing"
P=$(install_alone qake-testing "[jwt]" "$(wheel qake_core)" "$(wheel qake_routing)" "${TEST_TOOLS[@]}" pyjwt)
"$P" -c 'import qake_testing; from qake_testing import TestClient; print("qake-testing smoke ok")'
run_tests "$P" tests/testing

for sib in qake-security qake-ws qake-docs; do
  echo "--- $sib"
  extras="" more=()
  # qake-security's tests cover its extras (argon2id, RSA/EC keys, RedisStore) and
  # render templates (qake-core's jinja2 extra); its modules that drive a QakeAPI app
  # are left to the workspace run (tests/security/conftest.py).
  if [ "$sib" = qake-security ]; then extras="[argon2,crypto,redis]" more=(jinja2); fi
  # qake-ws's broadcast tests drive RedisBroadcast (redis-py, through qake-core[redis]).
  if [ "$sib" = qake-ws ]; then extras="[redis]"; fi
  # qake-docs's tests check every document with openapi-spec-validator.
  if [ "$sib" = qake-docs ]; then more=(openapi-spec-validator); fi
  P=$(install_alone "$sib" "$extras" "$(wheel qake_core)" "$(wheel qake_routing)" "$(wheel qake_testing)" "${TEST_TOOLS[@]}" "${more[@]}")
  mod=${sib//-/_}
  "$P" -c "import $mod; assert $mod.__all__; print('$sib smoke ok:', len($mod.__all__), 'names')"
  run_tests "$P" "tests/${sib#qake-}"
done

echo "--- qakeapi (meta) as an app installs it: what serving needs, no test tooling"
V="$WORK/venv-qakeapi-serving"
uv venv -q --python "$PY" "$V"
uv pip install -q --python "$V/bin/python" "$(wheel qakeapi)" "$(wheel qake_core)" \
  "$(wheel qake_routing)" "$(wheel qake_testing)" "$(wheel qake_security)" "$(wheel qake_ws)" \
  "$(wheel qake_docs)"
if "$V/bin/python" -c 'import pytest' 2>/dev/null; then
  echo "installing qakeapi pulls pytest into production"; exit 1
fi
"$V/bin/qake" --help >/dev/null  # the CLI is on the environment's PATH
"$V/bin/python" -c 'import qakeapi, qakeapi.testing; print("qakeapi serves without pytest")'

echo "--- qakeapi (meta)"
P=$(install_alone qakeapi "[templates]" "$(wheel qake_core)" "$(wheel qake_routing)" "$(wheel qake_testing)" \
  "$(wheel qake_security)" "$(wheel qake_ws)" "$(wheel qake_docs)" "${TEST_TOOLS[@]}" \
  openapi-spec-validator schemathesis playwright aiosqlite asyncpg redis uvicorn-worker \
  prometheus-client opentelemetry-sdk opentelemetry-instrumentation-asgi)  # docs, db, observability; redis and uvicorn-worker: the docs snippets that use them
"$P" - <<'PY'
import qake_core, qakeapi
missing = set(qake_core.__all__) - set(qakeapi.__all__)
assert not missing, missing
from qakeapi import QakeAPI
from qakeapi.testing import TestClient
app = QakeAPI()
@app.get("/ping")
async def ping() -> dict:
    return {"pong": True}
with TestClient(app) as client:
    r = client.get("/ping")
    assert r.status_code == 200 and r.json() == {"pong": True}, r.text
print("qakeapi smoke ok")
PY
# The reliability suites (hostile input, faults, scale-out: issue 18) run in the
# workspace (step 1); here the meta-package's own tests and its end-to-end ones.
run_tests "$P" tests/qakeapi tests/e2e -m "not hostile and not fault and not scaleout"
echo "à la carte: every distribution installs alone and passes its own tests"
