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
import math
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
        # `A` is base64's zero: runs of it are structure, not a placeholder (see filters.rs).
        run = run + 1 if a == b and a.isalnum() and a != "A" else 1
        if run >= 6:
            return False
    return True


def base62(n, width):
    out = ""
    while n:
        out = BASE62[n % 62] + out
        n //= 62
    return out.rjust(width, "0")


def crc_token(prefix, n=30):
    """GitHub/npm/Vercel style: n random base62 + base62(CRC-32 of those n), 6 wide."""
    body = rand(ALNUM, n)
    return f"{prefix}_{body}{base62(zlib.crc32(body.encode()), 6)}"


def base36(n, width):
    a = DIGITS + LOWER
    out = ""
    while n:
        out = a[n % 36] + out
        n //= 36
    return out.rjust(width, "0")


def gitlab_routable(prefix):
    # <prefix>-<base64url payload>.01.<payload length, base36, 2><CRC-32 of all before, base36, 7>
    payload = b64url(os.urandom(16) + b"o:1\nu:" + rand(DIGITS + LOWER, 5).encode() + bytes([11]))
    signed = f"{prefix}-{payload}.01.{base36(len(payload), 2)}"
    return signed + base36(zlib.crc32(signed.encode()), 7)


def atlassian(prefix):
    body = prefix + rand(URLSAFE, 171) + "="
    return body + "%08X" % zlib.crc32(body.encode())


def marvin32(data, seed):
    m = 0xFFFFFFFF
    rot = lambda v, s: ((v << s) | (v >> (32 - s))) & m

    def block(p0, p1):
        p1 ^= p0; p0 = rot(p0, 20); p0 = (p0 + p1) & m; p1 = rot(p1, 9)
        p1 ^= p0; p0 = rot(p0, 27); p0 = (p0 + p1) & m; p1 = rot(p1, 19)
        return p0, p1
    p0, p1 = seed & m, (seed >> 32) & m
    i = 0
    while len(data) - i >= 4:
        p0 = (p0 + int.from_bytes(data[i:i + 4], "little")) & m
        p0, p1 = block(p0, p1)
        i += 4
    r = data[i:]
    last = {0: 0x80, 1: 0x8000 | (r[0] if r else 0)}.get(len(r))
    if last is None:
        low = int.from_bytes(r[:2], "little")
        last = 0x800000 | low if len(r) == 2 else 0x80000000 | (r[2] << 16) | low
    p0 = (p0 + last) & m
    p0, p1 = block(p0, p1)
    p0, p1 = block(p0, p1)
    return p0 ^ p1


def entra_secret():
    # xxx8Q~<31 random><3 checksum>: the checksum is the Marvin32 ("AadPwd00") of the first 37
    # characters in base 66, most significant digits first (microsoft/security-utilities).
    alphabet = LOWER + UPPER + "1234567890.-_~"
    head = rand(ALNUM, 3) + "8Q~" + rand(ALNUM + ".-_~", 31)
    h = marvin32(head.encode(), 0x4161645077643030)
    digits_ = ""
    while h:
        digits_ = alphabet[h % len(alphabet)] + digits_
        h //= len(alphabet)
    return head + digits_.rjust(6, alphabet[0])[:3]


def annotated_key(signature):
    # 84 characters: 52 random, JQQJ99, date and reserved fields, a 4-letter service signature, then
    # the first 4 base64 characters of Marvin32("Default0") over the first 60 decoded bytes.
    head = rand(ALNUM, 52) + "JQQJ99" + "B" + secrets.choice("ABCDEFGHIJKL") + "AC" + rand(ALNUM, 14) + signature
    raw = bytearray(base64.b64decode(head + "AAAA"))
    raw += b"\0" * (64 - len(raw))
    check = marvin32(bytes(raw[:60]), int.from_bytes(b"Default0", "big")).to_bytes(4, "little")
    return head + base64.b64encode(check).decode()[:4]


def devops_legacy_pat(seed=0xE0B9692D):
    fill = os.urandom(28)
    crc = (zlib.crc32(fill) ^ seed).to_bytes(4, "little")
    b = fill[0:2] + crc[3:4] + fill[2:6] + crc[2:3] + crc[1:2] + fill[6:19] + crc[0:1] + fill[19:28]
    return base64.b32encode(b).decode().rstrip("=").lower()


def cloudflare(prefix):
    body = rand(ALNUM, 40)
    return f"{prefix}_{body}{zlib.crc32(body.encode()):08x}"


def jwt(claims, header=None):
    header = header or {"alg": "HS256", "typ": "JWT"}
    enc = lambda d: b64url(json.dumps(d, separators=(",", ":")).encode())
    return f"{enc(header)}.{enc(claims)}.{b64url(os.urandom(32))}"


def supabase_service_role():
    iat = 1700000000 + secrets.randbelow(50000000)
    return jwt({"iss": "supabase", "ref": rand(LOWER, 20), "role": "service_role", "iat": iat, "exp": iat + 315360000})


def generic_jwt():
    return jwt({"iss": f"https://auth.{rand(LOWER, 6)}.io/", "sub": str(uuid.uuid4()), "aud": "api", "iat": 1790000000,
                "exp": 4100000000}, {"alg": "RS256", "typ": "JWT", "kid": rand(HEX, 16)})


def bedrock():
    inner = f"BedrockAPIKey-{rand(LOWER + DIGITS, 4)}-at-{digits(12)}:{base64.b64encode(os.urandom(33)).decode()}"
    return "ABSK" + base64.b64encode(inner.encode()).decode()


def fcm_server_key():
    sender = b64url((100000000000 + secrets.randbelow(899999999999)).to_bytes(8, "big"))
    return f"{sender}:APA91b{rand(URLSAFE, 134)}"


def twitter_bearer():
    raw = b"\0" * 16 + secrets.randbelow(2**31).to_bytes(4, "little") + b"\0" * 4 + os.urandom(20)
    enc = base64.b64encode(raw).decode().rstrip("=").replace("+", "%2B").replace("/", "%2F")
    return f"{enc}%3D{rand(ALNUM, 50)}"


def intercom():
    return base64.b64encode(f"tok:{str(uuid.uuid4()).replace('-', '_')}:1:0".encode()).decode()


def fly():
    raw = b"\x94\x93\xc4\x08" + os.urandom(30) + b"\xc2\xb5https://api.fly.io/v1" + os.urandom(160)
    return "fm2_" + base64.b64encode(raw).decode()


def upstash_password(db):
    raw = b"\x01" + db.to_bytes(2, "big") + b"\x00\x02\x23p1" + rand(HEX, 32).encode() + b"p1" + digits(4).encode()
    return b64url(raw)


def slack_team():
    return "T" + rand(DIGITS + UPPER, 10)


def xoxe_access(kind):
    # Body: base64url of <1|2>-2-<4 numeric ids>-<64 hex>, as in every real token (bot tokens mostly
    # start 1-2-, user and configuration tokens 2-2-).
    version = "1" if kind == "xoxb" else "2"
    ids = "-".join(digits(13) for _ in range(4))
    return f"xoxe.{kind}-1-{b64url(f'{version}-2-{ids}-{rand(HEX, 64)}'.encode())}"


def xoxe_refresh():
    ids = "-".join(digits(13) for _ in range(3))
    return f"xoxe-1-{b64url(f'3-1-{ids}-{rand(HEX, 64)}'.encode())}"


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


def openai(kind):
    side = secrets.choice([58, 74])
    return f"sk-{kind}-{rand(URLSAFE, side)}T3BlbkFJ{rand(URLSAFE, side)}"


def sentry_org():
    doc = {"iat": 1700000000 + secrets.randbelow(90000000), "url": "https://sentry.io",
           "region_url": "https://us.sentry.io", "org": rand(LOWER, 9)}
    return "sntrys_" + base64.b64encode(json.dumps(doc).encode()).decode().rstrip("=") + "_" + rand(ALNUM + "+/", 43)


def der(n):
    """An ASN.1 SEQUENCE of n random bytes: the outer shape of every DER key."""
    return bytes([0x30, 0x82, n >> 8, n & 0xFF]) + os.urandom(n)


def pem(kind):
    body = base64.b64encode(der(1190)).decode()
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
    "gitlab-pat-routable": lambda: gitlab_routable("glpat"),
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
    "atlassian": lambda: atlassian("ATATT3xFfGF0"),
    "atlassian-admin": lambda: atlassian("ATCTT3xFfGN0"),
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
    "slack-user-legacy": lambda: f"xoxp-{digits(10)}-{digits(10)}-{digits(10)}-{rand(HEX, 6)}",
    "github-refresh-long": lambda: crc_token("ghr", 70),
    "gitlab-runner-routable": lambda: gitlab_routable("glrt"),
    "heroku-uuid": lambda: f"HRKU-{uuid.uuid4()}",
    "vault-service-short": lambda: "hvs." + rand(ALNUM, 24),
    "mailgun-legacy-b36": lambda: "key-" + rand(LOWER + DIGITS, 32),
    "aws-bedrock": bedrock,
    "notion": lambda: "ntn_" + digits(12) + rand(ALNUM, 34),
    "notion-legacy": lambda: "secret_" + rand(ALNUM, 43),
    "supabase-secret": lambda: f"sb_secret_{rand(URLSAFE, 22)}_{rand(URLSAFE, 8)}",
    "supabase-service-role": supabase_service_role,
    "jwt": generic_jwt,
    "mailchimp": lambda: f"{rand(HEX, 32)}-us{secrets.randbelow(20) + 1}",
    "entra-secret": entra_secret,
    "entra-secret-legacy": lambda: rand(ALNUM, 3) + "7Q~" + rand(ALNUM + ".-_~", 31),
    "azure-ai-key": lambda: annotated_key("ACOG"),
    "azure-webpubsub-key": lambda: annotated_key("AWPS"),
    "azure-devops-pat": lambda: annotated_key("AZDO"),
    "azure-devops-legacy-pat": devops_legacy_pat,
    "azure-sas": lambda: f"sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&se=2099-10-01T00:52:25Z&st=2024-08-28T16:52:25Z&spr=https&sig={rand(ALNUM, 20)}%2F{rand(ALNUM, 22)}%3D",
    "resend": lambda: f"re_{rand(ALNUM, 8)}_{rand(ALNUM, 24)}",
    "deepseek": lambda: "sk-" + uuid.uuid4().hex,
    "cloudflare-user": lambda: cloudflare("cfut"),
    "cloudflare-account": lambda: cloudflare("cfat"),
    "fcm-server-key": fcm_server_key,
    "neon-password": lambda: "npg_" + rand(ALNUM, 12),
    "db-password": lambda: rand(ALNUM, 16),
    "contentful": lambda: "CFPAT-" + rand(URLSAFE, 43),
    "netlify": lambda: "nfp_" + rand(ALNUM, 32) + rand(HEX, 4),
    "vercel": lambda: crc_token("vcp", 50),
    "flyio": fly,
    "render": lambda: "rnd_" + rand(ALNUM, 28),
    "uuid": lambda: str(uuid.uuid4()),
    "circleci": lambda: f"CCIPAT_{rand(ALNUM, 22)}_{rand(HEX, 40)}",
    "jenkins": lambda: "11" + rand(HEX, 32),
    "sonar-user": lambda: "squ_" + rand(HEX, 40),
    "sonar-project": lambda: "sqp_" + rand(HEX, 40),
    "sonar-global": lambda: "sqa_" + rand(HEX, 40),
    "square": lambda: "EAAAl" + rand(URLSAFE, 59),
    "braintree": lambda: f"access_token$production${rand(LOWER + DIGITS, 16)}${rand(HEX, 32)}",
    "hubspot": lambda: f"pat-{secrets.choice(['na1', 'eu1'])}-{uuid.uuid4()}",
    "intercom": intercom,
    "airtable": lambda: f"pat{rand(ALNUM, 14)}.{rand(HEX, 64)}",
    "asana": lambda: f"2/1{digits(15)}/1{digits(15)}:{rand(HEX, 32)}",
    "figma": lambda: "figd_" + rand(URLSAFE, 40),
    "dropbox": lambda: "sl.B" + rand(URLSAFE, 150),
    "meta": lambda: "EAA" + rand(UPPER, 1) + rand(ALNUM, 180) + "ZDZD",
    "twitter-bearer": lambda: "A" * 21 + twitter_bearer().lstrip("A"),
    "linkedin": lambda: "AQ" + secrets.choice("UVWX") + rand(URLSAFE, 300),
    "cohere": lambda: rand(ALNUM, 40),
    "mistral": lambda: rand(ALNUM, 32),
    "xai": lambda: "xai-" + rand(ALNUM, 80),
    "perplexity": lambda: "pplx-" + rand(HEX, 48),
    "elevenlabs": lambda: "sk_" + rand(HEX, 48),
    "elevenlabs-legacy": lambda: rand(HEX, 32),
    "pinecone": lambda: f"pcsk_{rand(ALNUM, 6)}_{rand(ALNUM, 63)}",
    "confluent-key": lambda: rand(UPPER + DIGITS, 16),
    "confluent-secret": lambda: "cflt" + rand(ALNUM + "+/", 60),
    "confluent-legacy-secret": lambda: rand(ALNUM + "+/", 64),
    "mongodb-atlas": lambda: "mdb_sa_sk_" + rand(ALNUM, 40),
    "upstash-password": lambda: upstash_password(23337),
    "pem-rsa": lambda: pem("RSA PRIVATE KEY"),
    "pem-pkcs8": lambda: pem("PRIVATE KEY"),
}


def entropy(s):
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in (s.count(ch) for ch in set(s)))


# Kinds whose rules drop low-entropy values: draws below these floors are redrawn, so that a fixture
# never fails by chance (a random 40-character secret dips under 4.5 bits now and then).
MIN_ENTROPY = {
    "aws-secret": 4.7, "datadog-api": 3.3, "datadog-app": 3.3, "twilio-auth-token": 3.4,
    "twilio-api-key-secret": 3.7, "cohere": 4.4, "mistral": 4.2, "confluent-legacy-secret": 4.7,
    "confluent-secret": 4.7, "jenkins": 3.2, "elevenlabs": 3.6, "elevenlabs-legacy": 3.4,
    "sonar-user": 3.4, "sonar-project": 3.4, "sonar-global": 3.4, "mailchimp": 3.5, "deepseek": 3.4,
    "meta": 4.7, "dropbox": 4.7, "linkedin": 4.7, "xai": 4.7, "pinecone": 4.4, "figma": 4.2,
    "contentful": 4.2, "netlify": 4.2, "render": 4.0, "resend": 4.2, "notion": 4.0,
    "notion-legacy": 4.2, "supabase-secret": 4.0, "mongodb-atlas": 4.2, "entra-secret-legacy": 4.0,
    "neon-password": 3.2, "hubspot": 3.4, "perplexity": 3.7, "newrelic-license": 3.3,
    "mailgun-legacy": 3.5, "mailgun-legacy-b36": 3.5, "square": 4.2, "vault-legacy": 3.7,
}


def make(kind):
    for _ in range(1000):
        tok = KINDS[kind]()
        if plausible(tok) and entropy(tok) >= MIN_ENTROPY.get(kind, 0):
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
