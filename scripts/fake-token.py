#!/usr/bin/env python3
"""Prints fresh, random, fake credentials of real shape (with correct checksums where a format has one).

    scripts/fake-token.py --list            kinds known
    scripts/fake-token.py KIND [KIND...]    one token per kind
    scripts/fake-token.py --all             "kind token" for every kind

Fakes are random, so they never name a real account; they avoid the words and runs that keysweep's
placeholder filter drops (see src/engine/filters.rs), so that a scanner sees them as real-looking.
Standard library only.
"""
import base64
import json
import os
import secrets
import string
import sys
import uuid
import zlib

UPPER = string.ascii_uppercase
LOWER = string.ascii_lowercase
DIGITS = string.digits
ALNUM = DIGITS + UPPER + LOWER
BASE62 = DIGITS + UPPER + LOWER
HEX = "0123456789abcdef"
URLSAFE = ALNUM + "-_"
B32 = UPPER + "234567"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

BANNED = ["example", "your", "sample", "dummy", "placeholder", "redacted", "changeme",
          "0123456789", "123456789", "abcdefghij", "token_here", "token-here", "key_here",
          "key-here", "secret_here", "<", ">", "...", "${", "{{", "%("]


def rand(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def digits(n):
    return secrets.choice("123456789") + rand(DIGITS, n - 1)


def b64url(data, pad=False):
    s = base64.urlsafe_b64encode(data).decode()
    return s if pad else s.rstrip("=")


def plausible(tok):
    low = tok.lower()
    if any(w in low for w in BANNED):
        return False
    run = 1
    for a, b in zip(tok, tok[1:]):
        run = run + 1 if a == b and a.isalnum() else 1
        if run >= 6:
            return False
    return True


def base62(n, width):
    out = ""
    while n:
        out = BASE62[n % 62] + out
        n //= 62
    return out.rjust(width, "0")


def crc_token(prefix):
    """GitHub/npm style: 30 random base62 + base62(CRC-32 of those 30), 6 wide."""
    body = rand(ALNUM, 30)
    return f"{prefix}_{body}{base62(zlib.crc32(body.encode()), 6)}"


def slack_team():
    return "T" + rand(DIGITS + UPPER, 10)


def xoxe_access(kind):
    # Body: base64url of 2-2-<team>-<id>-<id>-<id>-<64 hex> (PROVIDERS.md, Slack "Structure").
    inner = f"2-2-{slack_team()}-{digits(11)}-{digits(13)}-{digits(13)}-{rand(HEX, 64)}"
    return f"xoxe.{kind}-1-{b64url(inner.encode())}"


def xoxe_refresh():
    inner = f"3-1-{slack_team()}-{digits(11)}-{digits(13)}-{rand(HEX, 64)}"
    return f"xoxe-1-{b64url(inner.encode())}"


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(kind, data):
    return bytes([kind]) + varint(len(data)) + data


def pypi(location):
    # A version-2 macaroon: location and identifier, one caveat, end of caveats, 32-byte signature.
    ident = str(uuid.uuid4()).encode()
    caveat = json.dumps({"version": 1, "permissions": "user"}).encode()
    raw = (b"\x02" + field(1, location) + field(2, ident) + b"\x00"
           + field(2, caveat) + b"\x00" + b"\x00" + field(6, os.urandom(32)))
    return "pypi-" + b64url(raw)


def onepassword():
    doc = {
        "signInAddress": rand(LOWER, 8) + ".1password.com",
        "userAuth": {"method": "SRPg-4096", "alg": "PBES2g-HS256", "iterations": 650000,
                     "salt": b64url(os.urandom(16))},
        "email": rand(LOWER + DIGITS, 12) + "@1passwordserviceaccounts.com",
        "srpX": rand(HEX, 64),
        "muk": {"alg": "A256GCM", "ext": True, "k": b64url(os.urandom(32)),
                "key_ops": ["encrypt", "decrypt"], "kty": "oct", "kid": "mp"},
        "secretKey": "A3-" + rand(UPPER + DIGITS, 6) + "-" + rand(UPPER + DIGITS, 11),
        "deviceUuid": rand(LOWER + DIGITS, 26),
    }
    return "ops_" + base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode().rstrip("=")


def discord_bot():
    # First segment: base64 of the bot's numeric snowflake (discord.py docs).
    snow = digits(secrets.choice([18, 19]))
    first = b64url(snow.encode())
    return f"{first}.{rand(URLSAFE, 6)}.{rand(URLSAFE, 38)}"


def bech32_polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (b >> i) & 1 else 0
    return chk


def age_secret():
    # bech32 (BIP-173) of 32 random bytes with HRP "age-secret-key-", upper-cased (age spec).
    hrp = "age-secret-key-"
    data, acc, bits = [], 0, 0
    for byte in os.urandom(32):
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    exp = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    pm = bech32_polymod(exp + data + [0] * 6) ^ 1
    check = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return (hrp + "1" + "".join(BECH32[d] for d in data + check)).upper()


def aws_pair():
    return ("AKIA" + rand(B32, 16)) + " " + rand(ALNUM + "/+", 40)


def glpat_routable():
    payload = b64url(os.urandom(secrets.choice([27, 30, 33])))
    return f"glpat-{payload}.01{rand(DIGITS + LOWER, 7)}"


def openai(kind):
    side = secrets.choice([58, 74])
    return f"sk-{kind}-{rand(URLSAFE, side)}T3BlbkFJ{rand(URLSAFE, side)}"


def sentry_org():
    doc = {"iat": 1700000000 + secrets.randbelow(90000000), "url": "https://sentry.io",
           "region_url": "https://us.sentry.io", "org": rand(LOWER, 9)}
    return "sntrys_" + base64.b64encode(json.dumps(doc).encode()).decode().rstrip("=") + "_" + rand(ALNUM + "+/", 43)


def pem(kind):
    body = base64.b64encode(os.urandom(1190)).decode()
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}-----\n{lines}\n-----END {kind}-----"


KINDS = {
    "slack-bot": lambda: f"xoxb-{digits(12)}-{digits(13)}-{rand(ALNUM, 24)}",
    "slack-user": lambda: f"xoxp-{digits(12)}-{digits(12)}-{digits(13)}-{rand(HEX, 32)}",
    "slack-xoxa": lambda: f"xoxa-2-{digits(12)}-{digits(12)}-{digits(13)}-{rand(HEX, 64)}",
    "slack-xoxr": lambda: f"xoxr-{digits(12)}-{digits(12)}-{digits(13)}-{rand(HEX, 64)}",
    "slack-xoxs": lambda: f"xoxs-{digits(10)}-{digits(11)}-{digits(13)}-{rand(HEX, 64)}",
    "slack-xoxo": lambda: f"xoxo-{digits(10)}-{digits(11)}-{digits(13)}-{rand(HEX, 64)}",
    "slack-xoxe-bot": lambda: xoxe_access("xoxb"),
    "slack-xoxe-user": lambda: xoxe_access("xoxp"),
    "slack-refresh": xoxe_refresh,
    "slack-app": lambda: f"xapp-1-A{rand(UPPER + DIGITS, 10)}-{digits(13)}-{rand(HEX, 64)}",
    "slack-webhook": lambda: f"https://hooks.slack.com/services/{slack_team()}/B{rand(UPPER + DIGITS, 10)}/{rand(ALNUM, 24)}",
    "slack-workflow": lambda: f"https://hooks.slack.com/workflows/{slack_team()}/A{rand(UPPER + DIGITS, 10)}/{digits(18)}/{rand(ALNUM, 24)}",
    "slack-trigger": lambda: f"https://hooks.slack.com/triggers/{slack_team()}/{digits(13)}/{rand(HEX, 32)}",
    "github-pat": lambda: crc_token("ghp"),
    "github-oauth": lambda: crc_token("gho"),
    "github-user-to-server": lambda: crc_token("ghu"),
    "github-server-to-server": lambda: crc_token("ghs"),
    "github-refresh": lambda: crc_token("ghr"),
    "github-fine-grained": lambda: f"github_pat_11{rand(UPPER + DIGITS, 20)}_{rand(ALNUM, 59)}",
    "gitlab-pat": lambda: "glpat-" + rand(URLSAFE, 20),
    "gitlab-pat-routable": glpat_routable,
    "gitlab-deploy": lambda: "gldt-" + rand(URLSAFE, 20),
    "gitlab-runner": lambda: "glrt-t1_" + rand(URLSAFE, 27),
    "gitlab-runner-registration": lambda: "GR1348941" + rand(URLSAFE, 20),
    "gitlab-ci-job": lambda: "glcbt-64_" + rand(URLSAFE, 20),
    "gitlab-trigger": lambda: "glptt-" + rand(HEX, 40),
    "gitlab-feed": lambda: "glft-" + rand(URLSAFE, 20),
    "gitlab-incoming-mail": lambda: "glimt-" + rand(DIGITS + LOWER, 25),
    "gitlab-agent": lambda: "glagent-" + rand(URLSAFE, 50),
    "gitlab-oauth-secret": lambda: "gloas-" + rand(HEX, 64),
    "gitlab-scim": lambda: "glsoat-" + rand(URLSAFE, 20),
    "gitlab-feature-flag": lambda: "glffct-" + rand(URLSAFE, 20),
    "aws-key-id": lambda: "AKIA" + rand(B32, 16),
    "aws-sts-key-id": lambda: "ASIA" + rand(B32, 16),
    "aws-secret": lambda: rand(ALNUM + "/+", 40),
    "aws-pair": aws_pair,
    "google-api-key": lambda: "AIza" + rand(URLSAFE, 35),
    "google-access": lambda: "ya29.a0" + rand(URLSAFE, 150),
    "google-refresh": lambda: "1//0" + rand(URLSAFE, 99),
    "google-client-secret": lambda: "GOCSPX-" + rand(URLSAFE, 28),
    "stripe-secret": lambda: "sk_live_51" + rand(ALNUM, 97),
    "stripe-restricted": lambda: "rk_live_51" + rand(ALNUM, 97),
    "stripe-test": lambda: "sk_test_51" + rand(ALNUM, 97),
    "stripe-publishable": lambda: "pk_live_51" + rand(ALNUM, 97),
    "openai-project": lambda: openai("proj"),
    "openai-service-account": lambda: openai("svcacct"),
    "openai-admin": lambda: openai("admin"),
    "openai-legacy": lambda: f"sk-{rand(ALNUM, 20)}T3BlbkFJ{rand(ALNUM, 20)}",
    "anthropic-api": lambda: f"sk-ant-api03-{rand(URLSAFE, 93)}AA",
    "anthropic-admin": lambda: f"sk-ant-admin01-{rand(URLSAFE, 93)}AA",
    "npm": lambda: crc_token("npm"),
    "pypi": lambda: pypi(b"pypi.org"),
    "testpypi": lambda: pypi(b"test.pypi.org"),
    "sendgrid": lambda: f"SG.{rand(URLSAFE, 22)}.{rand(URLSAFE, 43)}",
    "twilio-account-sid": lambda: "AC" + rand(HEX, 32),
    "twilio-api-key-sid": lambda: "SK" + rand(HEX, 32),
    "twilio-auth-token": lambda: rand(HEX, 32),
    "twilio-api-key-secret": lambda: rand(ALNUM, 32),
    "mailgun-legacy": lambda: "key-" + rand(HEX, 32),
    "mailgun": lambda: f"{rand(HEX, 32)}-{rand(HEX, 8)}-{rand(HEX, 8)}",
    "discord-bot": discord_bot,
    "discord-webhook": lambda: f"https://discord.com/api/webhooks/{digits(19)}/{rand(URLSAFE, 68)}",
    "telegram-bot": lambda: f"{digits(10)}:AA{rand(URLSAFE, 33)}",
    "huggingface": lambda: "hf_" + rand(UPPER + LOWER, 34),
    "huggingface-org": lambda: "api_org_" + rand(UPPER + LOWER, 34),
    "digitalocean-pat": lambda: "dop_v1_" + rand(HEX, 64),
    "digitalocean-oauth": lambda: "doo_v1_" + rand(HEX, 64),
    "digitalocean-refresh": lambda: "dor_v1_" + rand(HEX, 64),
    "doppler-personal": lambda: "dp.pt." + rand(ALNUM, 43),
    "doppler-service": lambda: "dp.st.prd." + rand(ALNUM, 43),
    "doppler-cli": lambda: "dp.ct." + rand(ALNUM, 43),
    "doppler-service-account": lambda: "dp.sa." + rand(ALNUM, 43),
    "doppler-scim": lambda: "dp.scim." + rand(ALNUM, 43),
    "doppler-audit": lambda: "dp.audit." + rand(ALNUM, 43),
    "vault-service": lambda: "hvs." + rand(URLSAFE, 92),
    "vault-batch": lambda: "hvb." + rand(URLSAFE, 138),
    "vault-legacy": lambda: "s." + rand(ALNUM, 24),
    "shopify-admin": lambda: "shpat_" + rand(HEX, 32),
    "shopify-custom": lambda: "shpca_" + rand(HEX, 32),
    "shopify-private": lambda: "shppa_" + rand(HEX, 32),
    "shopify-shared-secret": lambda: "shpss_" + rand(HEX, 32),
    "heroku": lambda: "HRKU-AA" + rand(URLSAFE, 58),
    "heroku-legacy": lambda: str(uuid.uuid4()),
    "datadog-api": lambda: rand(HEX, 32),
    "datadog-app": lambda: rand(HEX, 40),
    "okta": lambda: "00" + rand(URLSAFE, 40),
    "atlassian": lambda: "ATATT3xFfGF0" + rand(URLSAFE, 171) + "=" + rand(HEX.upper(), 8),
    "atlassian-admin": lambda: "ATCTT3xFfGN0" + rand(URLSAFE, 171) + "=" + rand(HEX.upper(), 8),
    "dockerhub-pat": lambda: "dckr_pat_" + rand(URLSAFE, 27),
    "dockerhub-oat": lambda: "dckr_oat_" + rand(URLSAFE, 32),
    "linear": lambda: "lin_api_" + rand(ALNUM, 40),
    "postman": lambda: f"PMAK-{rand(HEX, 24)}-{rand(HEX, 34)}",
    "onepassword": onepassword,
    "age": age_secret,
    "grafana-service-account": lambda: f"glsa_{rand(ALNUM, 32)}_{rand(HEX, 8)}",
    "grafana-cloud": lambda: "glc_" + base64.b64encode(json.dumps({"o": digits(6), "n": "stack-" + digits(6) + "-hm-read", "k": rand(ALNUM, 24), "m": {"r": "prod-us-east-0"}}).encode()).decode().rstrip("="),
    "newrelic-user": lambda: "NRAK-" + rand(UPPER + DIGITS, 27),
    "newrelic-license": lambda: rand(HEX, 36) + "NRAL",
    "pulumi": lambda: "pul-" + rand(HEX, 40),
    "buildkite": lambda: "bkua_" + rand(HEX, 40),
    "sentry-user": lambda: "sntryu_" + rand(HEX, 64),
    "sentry-org": sentry_org,
    "databricks": lambda: "dapi" + rand(HEX, 32),
    "terraform": lambda: f"{rand(ALNUM, 14)}.atlasv1.{rand(URLSAFE, 67)}",
    "supabase": lambda: "sbp_" + rand(HEX, 40),
    "azure-storage": lambda: base64.b64encode(os.urandom(64)).decode(),
    "tailscale-auth": lambda: f"tskey-auth-k{rand(ALNUM, 10)}CNTRL-{rand(ALNUM, 33)}",
    "tailscale-api": lambda: f"tskey-api-k{rand(ALNUM, 10)}CNTRL-{rand(ALNUM, 33)}",
    "mapbox": lambda: "sk." + b64url(json.dumps({"u": rand(LOWER, 8), "a": rand(LOWER + DIGITS, 25)}, separators=(",", ":")).encode()) + "." + rand(URLSAFE, 22),
    "planetscale": lambda: "pscale_tkn_" + rand(URLSAFE, 43),
    "planetscale-password": lambda: "pscale_pw_" + rand(URLSAFE, 43),
    "rubygems": lambda: "rubygems_" + rand(HEX, 48),
    "brevo": lambda: f"xkeysib-{rand(HEX, 64)}-{rand(ALNUM, 16)}",
    "openrouter": lambda: "sk-or-v1-" + rand(HEX, 64),
    "groq": lambda: f"gsk_{rand(ALNUM, 20)}WGdyb3FY{rand(ALNUM, 24)}",
    "replicate": lambda: "r8_" + rand(ALNUM, 37),
    "langsmith": lambda: f"lsv2_pt_{rand(HEX, 32)}_{rand(HEX, 10)}",
    "teams-webhook": lambda: f"https://{rand(LOWER, 8)}.webhook.office.com/webhookb2/{uuid.uuid4()}@{uuid.uuid4()}/IncomingWebhook/{rand(HEX, 32)}/{uuid.uuid4()}",
    "logic-apps-url": lambda: f"https://prod-{digits(2)}.westeurope.logic.azure.com:443/workflows/{rand(HEX, 32)}/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={rand(URLSAFE, 43)}",
    "pem-rsa": lambda: pem("RSA PRIVATE KEY"),
    "pem-pkcs8": lambda: pem("PRIVATE KEY"),
}


def make(kind):
    for _ in range(1000):
        tok = KINDS[kind]()
        if plausible(tok):
            return tok
    raise SystemExit(f"could not draw a plausible {kind}")


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if argv[0] == "--list":
        print("\n".join(KINDS))
        return 0
    if argv[0] == "--all":
        for k in KINDS:
            print(k, make(k))
        return 0
    unknown = [k for k in argv if k not in KINDS]
    if unknown:
        print(f"unknown kind(s): {', '.join(unknown)} (see --list)", file=sys.stderr)
        return 2
    for k in argv:
        print(make(k))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
