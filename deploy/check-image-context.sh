#!/usr/bin/env bash
# Proves the container image's build context is complete, without a Docker
# daemon: copies exactly the files deploy/Dockerfile COPYs from the context
# (as deploy/Dockerfile.dockerignore admits them) into an empty folder, then
# builds there as the Dockerfile does, offline:
#
#   bash deploy/check-image-context.sh          # cargo check --locked --offline
#   bash deploy/check-image-context.sh --quick  # cargo metadata + include_str! paths only
#
# Fails when a COPY source is missing or excluded by the .dockerignore, or
# when the copied tree does not build (a target Cargo.toml declares, a file a
# build script or include_str! reads, outside the context). Dependencies come
# from the local cargo cache; CARGO_TARGET_DIR (default: the repository's
# target/) is shared so only the crate itself is checked anew.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-full}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

python3 - "$root" "$tmp" <<'PY'
import fnmatch
import os
import shlex
import shutil
import sys

root, out = sys.argv[1], sys.argv[2]
dockerfile = os.path.join(root, "deploy", "Dockerfile")
ignore = os.path.join(root, "deploy", "Dockerfile.dockerignore")


def rules():
    with open(ignore) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                include = line.startswith("!")
                yield include, os.path.normpath(line.lstrip("!")).lstrip("/")


RULES = list(rules())


def admitted(rel):
    """Whether the .dockerignore lets `rel` into the context (the last matching rule wins)."""
    ok = True
    for include, pattern in RULES:
        if fnmatch.fnmatch(rel, pattern) or rel.startswith(pattern + "/"):
            ok = include
    return ok


def instructions():
    with open(dockerfile) as f:
        text = f.read().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


copied = 0
for line in instructions():
    words = shlex.split(line)
    if words[0].upper() != "COPY" or any(w.startswith("--from") for w in words[1:]):
        continue
    args = [w for w in words[1:] if not w.startswith("--")]
    sources, dest = args[:-1], args[-1]
    into_dir = dest.endswith("/") or dest in (".", "./") or len(sources) > 1
    for src in sources:
        path = os.path.join(root, src)
        if not os.path.exists(path):
            sys.exit(f"check-image-context: COPY {src}: missing from the repository")
        if not admitted(os.path.normpath(src)):
            sys.exit(f"check-image-context: COPY {src}: excluded by {os.path.relpath(ignore, root)}")
        target = os.path.join(out, dest, os.path.basename(src)) if into_dir else os.path.join(out, dest)
        if os.path.isdir(path):
            for dirpath, _, files in os.walk(path):
                for name in files:
                    rel = os.path.relpath(os.path.join(dirpath, name), root)
                    if admitted(rel):
                        to = os.path.join(target, os.path.relpath(os.path.join(dirpath, name), path))
                        os.makedirs(os.path.dirname(to), exist_ok=True)
                        shutil.copy2(os.path.join(dirpath, name), to)
                        copied += 1
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(path, target)
            copied += 1
print(f"== image context: {copied} file(s) the Dockerfile copies, in {out}")
PY

cd "$tmp"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
if [[ "$mode" == "--quick" ]]; then
    cargo metadata --locked --offline --no-deps --format-version 1 >/dev/null
    # cargo metadata does not look for target files; cargo build refuses a missing one.
    python3 - <<'PY'
import os, sys, tomllib
with open("Cargo.toml", "rb") as f:
    manifest = tomllib.load(f)
folders = {"bin": "src/bin", "bench": "benches", "test": "tests", "example": "examples"}
for kind, folder in folders.items():
    for target in manifest.get(kind, []):
        name = target.get("name", "")
        paths = [target["path"]] if "path" in target else [f"{folder}/{name}.rs", f"{folder}/{name}/main.rs"]
        if not any(os.path.isfile(p) for p in paths):
            sys.exit(f"check-image-context: Cargo.toml declares [[{kind}]] {name}, but {paths[0]} is not in the context")
PY
    # Every include_str!/include_bytes! path of the crate resolves inside the context.
    grep -rhoE 'include_(str|bytes)!\("[^"]+"\)' src crates | while IFS= read -r inc; do
        rel="${inc#*\(\"}"; rel="${rel%\")}"
        file="$(grep -rlF "$inc" src crates | head -n 1)"
        [[ -f "$(dirname "$file")/$rel" ]] || { echo "check-image-context: $file: $inc is outside the context" >&2; exit 1; }
    done
    echo "== image context: manifest and include_str! paths complete"
else
    APIGSYNC_BUILD_COMMIT=check cargo check --locked --offline
    echo "== image context: the crate builds from the Dockerfile's files alone"
fi
