#!/usr/bin/env bash
# Conformance suite: the official Huawei Python SDKs against `apigsync emulator`.
# Builds the binary, installs the SDKs into conformance/.venv, starts the emulator
# on a free loopback port with a known credential, runs pytest, stops the emulator.
# Honours CARGO_TARGET_DIR (the binary is looked for where cargo builds it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root"

cargo build --quiet --bin apigsync
# Where cargo put it: CARGO_TARGET_DIR (relative to the root, as cargo reads it) or target/.
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
apigsync="$target_dir/debug/apigsync"

venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"

port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export APIGSYNC_EMULATOR_URL="http://127.0.0.1:$port"
export APIGSYNC_AK="CONFORMANCEAK0000001"
export APIGSYNC_SK="conformance-secret-key"

log="$(mktemp)"
"$apigsync" emulator --listen "127.0.0.1:$port" --seed "$here/seed.yaml" \
  --credential "$APIGSYNC_AK:$APIGSYNC_SK" >"$log" 2>&1 &
emulator_pid=$!
trap 'kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 1 100); do
  if "$venv/bin/python" -c 'import os, urllib.request; urllib.request.urlopen(os.environ["APIGSYNC_EMULATOR_URL"] + "/_emulator/stats", timeout=1)' 2>/dev/null; then break; fi
  if ! kill -0 "$emulator_pid" 2>/dev/null; then cat "$log"; echo "emulator exited" >&2; exit 1; fi
  sleep 0.1
done

"$venv/bin/python" -m pytest -q -p no:cacheprovider "$here" "$@"
