#!/usr/bin/env bash
# Proves the import contracts bite: a copy of the tree with `import qake_security`
# added inside qake_core must make lint-imports (and check_layers) fail.
set -euo pipefail
ROOT=$(pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cp -r "$ROOT/packages" "$ROOT/.importlinter" "$TMP/"
echo "import qake_security  # deliberate layering violation" >> "$TMP/packages/qake-core/src/qake_core/_scope.py"
ENVPY=$(hatch env find arch)/bin/python
PYPATH=$(printf '%s:' "$TMP"/packages/*/src)
if (cd "$TMP" && PYTHONPATH="$PYPATH" "$(dirname "$ENVPY")/lint-imports" --config .importlinter) \
    >"$TMP/out.txt" 2>&1; then
  cat "$TMP/out.txt"
  echo "FAIL: import-linter accepted qake_core importing qake_security"
  exit 1
fi
grep -q "BROKEN" "$TMP/out.txt" || { cat "$TMP/out.txt"; echo "FAIL: unexpected lint-imports output"; exit 1; }
grep -E "qake_core.* -> qake_security|qake_core\._scope -> qake_security" "$TMP/out.txt" | head -3 || true
echo "ok: the layers contract is BROKEN by qake_core -> qake_security, as it must be"
