#!/usr/bin/env bash
# Offline validation of deploy/: run by .ci/run as `bash deploy/validate.sh`.
#
#  1. every manifest in deploy/kubernetes/ (except kustomization.yaml) against
#     the Kubernetes OpenAPI schemas bundled in the `kubernetes-validate`
#     package, in strict mode (unknown fields are errors; an unknown kind or
#     apiVersion is an error too, not the tool's mere warning);
#  2. kustomization.yaml: parses, lists files that exist, lists every manifest
#     but the *.example.yaml templates, its image override names a container
#     image;
#  3. cross references the schemas cannot see: selectors match the pod
#     template, probe and Service ports name declared container ports, volume
#     mounts name volumes, ConfigMap/Secret references (and keys) exist in
#     configmap.yaml / secret.example.yaml, the ServiceAccount exists; with
#     --leader-elect: RBAC on leases, a mounted token, a PodDisruptionBudget;
#  4. the CI templates parse as YAML: deploy/ci/github-actions.yml has `on`
#     and `jobs` (each with runs-on and steps), deploy/ci/gitlab-ci.yml has
#     `stages` and jobs (each with a script and a declared stage);
#  5. the CI templates fail closed: only plan exit codes 0 and 2 pass, no
#     step runs after a failed plan, the reviewed plan.json is what merge
#     applies (`apply --plan`);
#  6. monitoring: deploy/monitoring/grafana-dashboard.json parses and every
#     panel has a query; prometheusrule.yaml parses, every rule has alert,
#     expr, for, a severity and a summary; every apigsync_* metric either
#     names is one src/watch/metrics.rs registers (counters as *_total,
#     histograms as *_bucket/_sum/_count); the Deployment's POD_NAME comes from
#     the downward API and its ServiceAccount may create events.
#
# The schemas ship inside the package: validation needs no network. Only the
# first run installs the package from PyPI into deploy/.venv (gitignored).
#
# Environment: K8S_VERSION (default 1.30.0, the oldest version the manifests
# support: native sidecars need 1.29+), PYTHON (default python3),
# DEPLOY_VENV (default deploy/.venv).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${DEPLOY_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
k8s_version="${K8S_VERSION:-1.30.0}"
requirements=(kubernetes-validate==1.37.0 PyYAML==6.0.3)

fail() { echo "deploy/validate.sh: $*" >&2; exit 1; }

command -v "$python" >/dev/null || fail "$python not found (set PYTHON)"

stamp="$venv/.requirements"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "${requirements[*]}" ]]; then
    echo "== deploy: creating $venv (${requirements[*]})"
    rm -rf "$venv"
    "$python" -m venv "$venv" || fail "cannot create a virtualenv with $python (install python3-venv)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}" \
        || fail "pip install ${requirements[*]} failed"
    echo "${requirements[*]}" > "$stamp"
fi

"$venv/bin/kubernetes-validate" --version >/dev/null || fail "kubernetes-validate is not runnable"

echo "== deploy: validating deploy/ (Kubernetes $k8s_version schemas, strict)"
exec "$venv/bin/python" - "$here" "$k8s_version" <<'PY'
import os
import sys

import yaml
import kubernetes_validate.utils as kv

deploy_dir, k8s_version = sys.argv[1], sys.argv[2]
k8s_dir = os.path.join(deploy_dir, "kubernetes")
ci_dir = os.path.join(deploy_dir, "ci")

passed = 0
failures = []


def ok(what):
    global passed
    passed += 1
    print(f"ok    {what}")


def bad(what):
    failures.append(what)
    print(f"FAIL  {what}")


def check(cond, what):
    ok(what) if cond else bad(what)
    return cond


def rel(path):
    return os.path.relpath(path, os.path.dirname(deploy_dir))


def load_all(path):
    """All non-empty documents of a YAML file, or None (reported) if it does not parse."""
    try:
        with open(path) as f:
            return [d for d in yaml.safe_load_all(f) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        bad(f"{rel(path)}: does not parse as YAML: {e}")
        return None


# ---------------------------------------------------------------- 1. schemas
manifests = {}  # file name -> list of resources
files = sorted(f for f in os.listdir(k8s_dir) if f.endswith((".yaml", ".yml")))
for name in files:
    if name == "kustomization.yaml":
        continue
    path = os.path.join(k8s_dir, name)
    docs = load_all(path)
    if docs is None:
        continue
    if not docs:
        bad(f"{rel(path)}: no document")
        continue
    manifests[name] = docs
    for doc in docs:
        if not isinstance(doc, dict) or not all(k in doc for k in ("apiVersion", "kind", "metadata")):
            bad(f"{rel(path)}: a document lacks apiVersion/kind/metadata")
            continue
        what = f"{rel(path)}: {doc['kind']}/{doc['metadata'].get('name', '?')}"
        try:
            version = kv.validate(doc, k8s_version, strict=True)
            ok(f"{what} valid against Kubernetes {version} (strict)")
        except kv.ValidationError as e:
            path_ = ".".join(str(p) for p in e.path)
            bad(f"{what}: {path_}: {e.message}")
        except kv.SchemaNotFoundError as e:
            bad(f"{what}: {e.message}")
        except (kv.VersionNotSupportedError, kv.InvalidSchemaError) as e:
            bad(f"{what}: {getattr(e, 'message', e)}")

# ---------------------------------------------------------- 2. kustomization
kpath = os.path.join(k8s_dir, "kustomization.yaml")
kdocs = load_all(kpath) if os.path.exists(kpath) else bad(f"{rel(kpath)}: missing")
applied = []  # resources kustomize applies
if kdocs:
    k = kdocs[0]
    check(len(kdocs) == 1 and isinstance(k, dict), f"{rel(kpath)}: one mapping document")
    check(k.get("apiVersion") == "kustomize.config.k8s.io/v1beta1" and k.get("kind") == "Kustomization",
          f"{rel(kpath)}: apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization")
    resources = k.get("resources") or []
    check(isinstance(resources, list) and resources, f"{rel(kpath)}: lists resources")
    for r in resources:
        check(os.path.isfile(os.path.join(k8s_dir, r)), f"{rel(kpath)}: resource {r} exists")
        applied.extend(manifests.get(r, []))
    for name in manifests:
        if ".example." in name:
            check(name not in resources, f"{rel(kpath)}: template {name} is not applied")
        else:
            check(name in resources, f"{rel(kpath)}: lists {name}")
    ns = k.get("namespace")
    for doc in applied:
        m = doc.get("metadata", {})
        if doc.get("kind") != "Namespace" and "namespace" in m:
            check(m["namespace"] == ns,
                  f"{doc['kind']}/{m.get('name')}: namespace {m['namespace']} agrees with kustomization ({ns})")
    if any(d.get("kind") == "Namespace" for d in applied):
        check(any(d.get("kind") == "Namespace" and d["metadata"].get("name") == ns for d in applied),
              f"{rel(kpath)}: namespace {ns} is the one namespace.yaml creates")
    images = {c.get("image")
              for d in applied if d.get("kind") == "Deployment"
              for c in d["spec"]["template"]["spec"].get("containers", [])
              + d["spec"]["template"]["spec"].get("initContainers", [])}
    for img in k.get("images") or []:
        check(img.get("name") in images, f"{rel(kpath)}: image override {img.get('name')} names a container image")

# ------------------------------------------------------ 3. cross references
every = [d for docs in manifests.values() for d in docs if isinstance(d, dict)]
by_kind = {}
for d in every:
    by_kind.setdefault(d.get("kind"), {})[d.get("metadata", {}).get("name")] = d


def data_keys(obj):
    return set((obj.get("data") or {}).keys()) | set((obj.get("stringData") or {}).keys())


def check_ref(kind, name, key, optional, where):
    if optional:
        return
    obj = by_kind.get(kind, {}).get(name)
    if not check(obj is not None, f"{where}: {kind} {name} is defined"):
        return
    if key is not None:
        check(key in data_keys(obj), f"{where}: {kind} {name} has key {key}")


def port_ok(port, container_ports):
    return port in container_ports


for dname, dep in by_kind.get("Deployment", {}).items():
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"].get("labels", {})
    sel = spec["selector"].get("matchLabels", {})
    check(sel and all(labels.get(k) == v for k, v in sel.items()),
          f"Deployment/{dname}: selector matches the pod template labels")
    args = [a for c in pod.get("containers", []) for a in c.get("args", [])]
    elected = "--leader-elect" in args
    check(spec.get("replicas", 1) == 1 or elected,
          f"Deployment/{dname}: more than one replica only with --leader-elect (one writer per gateway)")
    check(elected or spec.get("strategy", {}).get("type") == "Recreate",
          f"Deployment/{dname}: a RollingUpdate only with --leader-elect (old and new run side by side)")
    sa = pod.get("serviceAccountName")
    if sa:
        check(sa in by_kind.get("ServiceAccount", {}), f"Deployment/{dname}: ServiceAccount {sa} is defined")
    if elected:
        bound = [b for b in by_kind.get("RoleBinding", {}).values()
                 if any(s.get("kind") == "ServiceAccount" and s.get("name") == sa for s in b.get("subjects", []))]
        roles = [by_kind.get("Role", {}).get(b["roleRef"]["name"], {}) for b in bound]
        verbs = {v for r in roles for rule in r.get("rules", [])
                 if "coordination.k8s.io" in rule.get("apiGroups", []) and "leases" in rule.get("resources", [])
                 for v in rule.get("verbs", [])}
        check({"get", "create", "update"} <= verbs,
              f"Deployment/{dname}: --leader-elect and ServiceAccount {sa} may get, create and update leases")
        check(pod.get("automountServiceAccountToken") is not False,
              f"Deployment/{dname}: --leader-elect and the ServiceAccount token is mounted")
        pdbs = [p for p in by_kind.get("PodDisruptionBudget", {}).values()
                if all(labels.get(k) == v for k, v in p["spec"]["selector"].get("matchLabels", {}).items())]
        check(bool(pdbs), f"Deployment/{dname}: a PodDisruptionBudget covers its pods")
    volumes = {v["name"] for v in pod.get("volumes", [])}
    psc = pod.get("securityContext", {})
    all_ports = set()
    for c in pod.get("initContainers", []) + pod.get("containers", []):
        where = f"Deployment/{dname} container {c['name']}"
        ports = {p.get("name") for p in c.get("ports", [])} | {p["containerPort"] for p in c.get("ports", [])}
        all_ports |= ports
        for m in c.get("volumeMounts", []):
            check(m["name"] in volumes, f"{where}: volume {m['name']} is declared")
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            http = (c.get(probe) or {}).get("httpGet")
            if http:
                check(port_ok(http["port"], ports), f"{where}: {probe} port {http['port']} is a container port")
        for e in c.get("env", []):
            vf = e.get("valueFrom") or {}
            if "configMapKeyRef" in vf:
                r = vf["configMapKeyRef"]
                check_ref("ConfigMap", r["name"], r["key"], r.get("optional"), f"{where} env {e['name']}")
            if "secretKeyRef" in vf:
                r = vf["secretKeyRef"]
                check_ref("Secret", r["name"], r["key"], r.get("optional"), f"{where} env {e['name']}")
        for ef in c.get("envFrom", []):
            if "configMapRef" in ef:
                check_ref("ConfigMap", ef["configMapRef"]["name"], None, ef["configMapRef"].get("optional"), where)
            if "secretRef" in ef:
                check_ref("Secret", ef["secretRef"]["name"], None, ef["secretRef"].get("optional"), where)
        sc = c.get("securityContext", {})
        hardened = (
            sc.get("allowPrivilegeEscalation") is False
            and sc.get("readOnlyRootFilesystem") is True
            and "ALL" in (sc.get("capabilities") or {}).get("drop", [])
            and (sc.get("runAsNonRoot") or psc.get("runAsNonRoot")) is True
            and ((sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type") == "RuntimeDefault")
        )
        check(hardened, f"{where}: restrictive securityContext")
        check(bool((c.get("resources") or {}).get("requests")) and bool((c.get("resources") or {}).get("limits")),
              f"{where}: resource requests and limits")
    for sname, svc in by_kind.get("Service", {}).items():
        ssel = svc["spec"].get("selector", {})
        if ssel and all(labels.get(k) == v for k, v in ssel.items()):
            ok(f"Service/{sname}: selects Deployment/{dname}")
            for p in svc["spec"].get("ports", []):
                tp = p.get("targetPort", p.get("port"))
                check(port_ok(tp, all_ports), f"Service/{sname}: targetPort {tp} is a container port")
for sname, svc in by_kind.get("Service", {}).items():
    ssel = svc["spec"].get("selector", {})
    check(any(all(d["spec"]["template"]["metadata"].get("labels", {}).get(k) == v for k, v in ssel.items())
              for d in by_kind.get("Deployment", {}).values()) if ssel else False,
          f"Service/{sname}: selector matches a Deployment's pods")

# -------------------------------------------------------------- 4. CI files
gh = os.path.join(ci_dir, "github-actions.yml")
docs = load_all(gh) if os.path.exists(gh) else bad(f"{rel(gh)}: missing")
if docs:
    wf = docs[0]
    check(len(docs) == 1 and isinstance(wf, dict), f"{rel(gh)}: one mapping document")
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean true.
    on = wf.get("on", wf.get(True))
    check(isinstance(on, (dict, list, str)) and on, f"{rel(gh)}: has `on` triggers")
    if isinstance(on, dict):
        check("pull_request" in on and "push" in on, f"{rel(gh)}: triggers on pull_request and push")
    jobs = wf.get("jobs")
    if check(isinstance(jobs, dict) and jobs, f"{rel(gh)}: has jobs"):
        for jname, job in jobs.items():
            where = f"{rel(gh)}: job {jname}"
            if not check(isinstance(job, dict), f"{where}: is a mapping"):
                continue
            if "uses" in job:  # a reusable-workflow call
                continue
            check("runs-on" in job, f"{where}: has runs-on")
            steps = job.get("steps")
            if check(isinstance(steps, list) and steps, f"{where}: has steps"):
                check(all(isinstance(s, dict) and (("run" in s) != ("uses" in s)) for s in steps),
                      f"{where}: every step has exactly one of run / uses")
                check(all("@" in s["uses"] for s in steps if isinstance(s, dict) and "uses" in s),
                      f"{where}: every action is pinned to a ref")
        check(any("concurrency" in j for j in jobs.values() if isinstance(j, dict)) or "concurrency" in wf,
              f"{rel(gh)}: a concurrency group serialises applies")

gl = os.path.join(ci_dir, "gitlab-ci.yml")
docs = load_all(gl) if os.path.exists(gl) else bad(f"{rel(gl)}: missing")
if docs:
    ci = docs[0]
    check(len(docs) == 1 and isinstance(ci, dict), f"{rel(gl)}: one mapping document")
    stages = ci.get("stages")
    check(isinstance(stages, list) and stages, f"{rel(gl)}: has stages")
    stages = stages if isinstance(stages, list) else []
    keywords = {"default", "include", "stages", "variables", "workflow", "image", "services",
                "cache", "before_script", "after_script", "spec"}
    templates = {k: v for k, v in ci.items() if isinstance(k, str) and k.startswith(".")}
    jobs = {k: v for k, v in ci.items() if k not in keywords and not str(k).startswith(".")}
    if check(bool(jobs), f"{rel(gl)}: has jobs"):
        for jname, job in jobs.items():
            where = f"{rel(gl)}: job {jname}"
            if not check(isinstance(job, dict), f"{where}: is a mapping"):
                continue
            merged = {}
            parents = job.get("extends", [])
            parents = [parents] if isinstance(parents, str) else parents
            for p in parents:
                if check(p in templates, f"{where}: extends {p}, which is defined"):
                    merged.update(templates[p])
            merged.update(job)
            check("script" in merged or "trigger" in merged, f"{where}: has a script")
            check(merged.get("stage", "test") in stages, f"{where}: stage {merged.get('stage', 'test')} is declared")
        check(any("resource_group" in j for j in jobs.values() if isinstance(j, dict)),
              f"{rel(gl)}: a resource_group serialises applies")

# ------------------------------------------------ 5. CI templates fail closed
for path in (gh, gl):
    if not os.path.exists(path):
        continue
    with open(path) as f:
        text = f.read()
    check("always()" not in text and "when: always" not in text,
          f"{rel(path)}: nothing runs after a failed plan (no always())")
    check("--detailed-exitcode" in text and "*)" in text and "exit 1" in text,
          f"{rel(path)}: plan exit codes other than 0 and 2 fail the job")
    check("--out plan.json" in text and "--plan plan.json" in text,
          f"{rel(path)}: the plan is saved on review and applied with apply --plan on merge")
    check("--tag" not in text, f"{rel(path)}: installs a pinned commit, not a release tag that does not exist")

# ------------------------------------------------------------- 6. monitoring
import json
import re

repo_dir = os.path.dirname(deploy_dir)
metrics_rs = open(os.path.join(repo_dir, "src", "watch", "metrics.rs")).read()
field_types = dict(re.findall(r"pub (\w+): ([^\n]+),\n", metrics_rs))
exported = set()
for name, field in re.findall(r'r\.register\(\s*"(\w+)",\s*"[^"]*",\s*self\.(\w+)\.clone\(\)', metrics_rs, re.S):
    kind = field_types.get(field, "")
    full = "apigsync_" + name
    if "Counter" in kind:
        exported.add(full + "_total")
    elif "Histogram" in kind:
        exported |= {full + "_bucket", full + "_sum", full + "_count"}
    else:
        exported.add(full)
check(len(exported) >= 15, f"src/watch/metrics.rs: {len(exported)} exported series names read")


def metric_names(expr):
    return set(re.findall(r"\bapigsync_[a-z_]+", expr))


mon_dir = os.path.join(deploy_dir, "monitoring")
dash_path = os.path.join(mon_dir, "grafana-dashboard.json")
try:
    dash = json.load(open(dash_path))
except ValueError as e:
    dash = {}
    bad(f"{rel(dash_path)}: not JSON: {e}")
panels = dash.get("panels", [])
check(bool(panels) and bool(dash.get("title")) and bool(dash.get("uid")),
      f"{rel(dash_path)}: a dashboard with a title, a uid and panels")
for panel in panels:
    exprs = [t.get("expr", "") for t in panel.get("targets", [])]
    check(bool(exprs) and all(exprs), f"{rel(dash_path)}: panel {panel.get('title')!r} has queries")
    for expr in exprs:
        unknown = metric_names(expr) - exported
        check(not unknown, f"{rel(dash_path)}: panel {panel.get('title')!r} names exported metrics only {sorted(unknown) or ''}")

rule_path = os.path.join(mon_dir, "prometheusrule.yaml")
rule_doc = load_all(rule_path)[0]
check(rule_doc.get("kind") == "PrometheusRule" and rule_doc.get("apiVersion") == "monitoring.coreos.com/v1",
      f"{rel(rule_path)}: a monitoring.coreos.com/v1 PrometheusRule")
alerts = [r for g in rule_doc.get("spec", {}).get("groups", []) for r in g.get("rules", [])]
names = {r.get("alert") for r in alerts}
for wanted in ("ApigsyncDriftPersists", "ApigsyncReconcileFailing", "ApigsyncNoLeader", "ApigsyncThrottled"):
    check(wanted in names, f"{rel(rule_path)}: alert {wanted}")
for r in alerts:
    what = f"{rel(rule_path)}: alert {r.get('alert')}"
    check(all(r.get(k) for k in ("alert", "expr", "for")), f"{what} has alert, expr and for")
    check(r.get("labels", {}).get("severity") in ("info", "warning", "critical"), f"{what} has a severity")
    check(bool(r.get("annotations", {}).get("summary")), f"{what} has a summary")
    check(r.get("expr", "").count("(") == r.get("expr", "").count(")"), f"{what}: balanced parentheses")
    unknown = metric_names(r.get("expr", "")) - exported
    check(not unknown, f"{what} names exported metrics only {sorted(unknown) or ''}")

for dname, dep in by_kind.get("Deployment", {}).items():
    pod = dep["spec"]["template"]["spec"]
    env = {e["name"]: e for c in pod.get("containers", []) for e in c.get("env", [])}
    if "POD_NAME" not in env:
        continue
    check(env["POD_NAME"].get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name",
          f"Deployment/{dname}: POD_NAME comes from the downward API (metadata.name)")
    check(env.get("POD_NAMESPACE", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace",
          f"Deployment/{dname}: POD_NAMESPACE comes from the downward API (metadata.namespace)")
    sa = pod.get("serviceAccountName")
    bound = [b for b in by_kind.get("RoleBinding", {}).values()
             if any(s.get("kind") == "ServiceAccount" and s.get("name") == sa for s in b.get("subjects", []))]
    roles = [by_kind.get("Role", {}).get(b["roleRef"]["name"], {}) for b in bound]
    verbs = {v for r in roles for rule in r.get("rules", [])
             if "events.k8s.io" in rule.get("apiGroups", []) and "events" in rule.get("resources", [])
             for v in rule.get("verbs", [])}
    check({"create", "patch"} <= verbs,
          f"Deployment/{dname}: ServiceAccount {sa} may create and patch events.k8s.io events (Kubernetes Events)")

# ------------------------------------------------------------------ summary
print()
if failures:
    print(f"deploy/validate.sh: {len(failures)} check(s) failed:", file=sys.stderr)
    for f in failures:
        print(f"  - {f}", file=sys.stderr)
print(f"deploy: {passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
PY
