#!/usr/bin/env python3
"""Regenerates fixtures/providers (realistic files planting fresh fake tokens of every rule),
fixtures/negatives (near misses that must yield no finding) and fixtures/expected.json.

    scripts/gen-fixtures.py            (run from the repository root)

Tokens come from scripts/fake-token.py, so every run plants new random values.
"""
import base64
import importlib.util
import json
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location("ft", os.path.join(ROOT, "scripts", "fake-token.py"))
ft = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ft)
T = ft.make

FILES = {}  # path -> list of (text, [(rule_id, line offset in text)])


def put(path, text, *rules):
    """Appends `text` (one or more lines) to `path`; each rule is an id (found on the text's first
    line) or (id, offset)."""
    FILES.setdefault(path, []).append((text, [r if isinstance(r, tuple) else (r, 0) for r in rules]))


def pem(label, nbytes, header=""):
    while True:
        # A DER SEQUENCE of random bytes, as every PEM key body is (OpenPGP blocks aside).
        raw = b"\x95\x03\xc6" + os.urandom(nbytes - 3) if "PGP" in label else ft.der(nbytes - 4)
        body = base64.b64encode(raw).decode()
        lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
        text = f"-----BEGIN {label}-----\n{header}{lines}\n-----END {label}-----"
        if ft.plausible(text.replace("-----", "")):
            return text


def openssh_key():
    # The real structure's zero length fields give `AAAAAA` runs, which the engine must not mistake
    # for a placeholder; the two check integers of an unencrypted key are equal.
    check = os.urandom(4)
    raw = (b"openssh-key-v1\x00" + b"\x00\x00\x00\x04none" * 2 + b"\x00\x00\x00\x00\x00\x00\x00\x01"
           + b"\x00\x00\x00\x33\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + os.urandom(32)
           + b"\x00\x00\x00\x90" + check + check + os.urandom(136))
    body = base64.b64encode(raw).decode()
    lines = "\n".join(body[i:i + 70] for i in range(0, len(body), 70))
    return f"-----BEGIN OPENSSH PRIVATE KEY-----\n{lines}\n-----END OPENSSH PRIVATE KEY-----"


def build():
    # .env: the classic place for secrets.
    e = ".env"
    put(e, "# Local development settings")
    put(e, "APP_ENV=production")
    put(e, f"SLACK_BOT_TOKEN={T('slack-bot')}", "slack-bot-token")
    put(e, f"SLACK_USER_TOKEN={T('slack-user')}", "slack-user-token")
    put(e, f"SLACK_APP_TOKEN={T('slack-app')}", "slack-app-token")
    put(e, f"SLACK_ROTATING_BOT_TOKEN={T('slack-xoxe-bot')}", "slack-rotating-bot-token")
    put(e, f"SLACK_REFRESH_TOKEN={T('slack-refresh')}", "slack-refresh-token")
    put(e, f"GITHUB_TOKEN={T('github-pat')}", "github-pat")
    put(e, f"GITLAB_TOKEN={T('gitlab-pat')}", "gitlab-pat")
    put(e, f"STRIPE_SECRET_KEY={T('stripe-secret')}", "stripe-secret-key")
    put(e, f"STRIPE_PUBLISHABLE_KEY={T('stripe-publishable')}")
    put(e, f"OPENAI_API_KEY={T('openai-project')}", "openai-project-key")
    put(e, f"ANTHROPIC_API_KEY={T('anthropic-api')}", "anthropic-api-key")
    put(e, f"SENDGRID_API_KEY={T('sendgrid')}", "sendgrid-api-key")
    put(e, f"TWILIO_ACCOUNT_SID={T('twilio-account-sid')}")
    put(e, f"TWILIO_AUTH_TOKEN={T('twilio-auth-token')}", "twilio-auth-token")
    put(e, f"HF_TOKEN={T('huggingface')}", "huggingface-token")
    put(e, f"DIGITALOCEAN_TOKEN={T('digitalocean-pat')}", "digitalocean-pat")
    put(e, f"DOPPLER_TOKEN={T('doppler-service')}", "doppler-service-token")
    put(e, f"VAULT_ADDR=https://vault.internal:8200")
    put(e, f"VAULT_TOKEN={T('vault-service')}", "vault-service-token")
    put(e, f"HEROKU_API_KEY={T('heroku')}", "heroku-api-key")
    put(e, f"DD_API_KEY={T('datadog-api')}", "datadog-api-key")
    put(e, f"DD_APP_KEY={T('datadog-app')}", "datadog-app-key")
    put(e, f"LINEAR_API_KEY={T('linear')}", "linear-api-key")
    put(e, f"OP_SERVICE_ACCOUNT_TOKEN={T('onepassword')}", "onepassword-service-account-token")
    put(e, f"TELEGRAM_BOT_TOKEN={T('telegram-bot')}", "telegram-bot-token")
    put(e, f"SENTRY_AUTH_TOKEN={T('sentry-user')}", "sentry-user-token")
    put(e, f"PULUMI_ACCESS_TOKEN={T('pulumi')}", "pulumi-access-token")
    put(e, f"TS_AUTHKEY={T('tailscale-auth')}", "tailscale-auth-key")
    put(e, f"OPENROUTER_API_KEY={T('openrouter')}", "openrouter-api-key")
    put(e, f"GROQ_API_KEY={T('groq')}", "groq-api-key")
    put(e, f"REPLICATE_API_TOKEN={T('replicate')}", "replicate-api-token")
    put(e, f"LANGCHAIN_API_KEY={T('langsmith')}", "langsmith-api-key")
    put(e, "LOG_LEVEL=info")

    # AWS shared credentials file: pairs, and a lone key id.
    a = ".aws/credentials"
    put(a, "[default]")
    put(a, f"aws_access_key_id = {T('aws-key-id')}", "aws-access-key")
    # The secret key is the id's companion: part of the `aws-access-key` finding, not one of its own.
    put(a, f"aws_secret_access_key = {T('aws-secret')}")
    put(a, "")
    put(a, "[ci]")
    put(a, f"aws_access_key_id = {T('aws-sts-key-id')}", "aws-access-key")
    put(a, f"aws_secret_access_key = {T('aws-secret')}")
    put(a, f"aws_session_token = IQoJb3JpZ2luX2VjE{ft.rand(ft.ALNUM, 60)}")
    # A secret key with no key id near it is reported by its variable name.
    t = "deploy/terraform.tfvars"
    put(t, 'region = "eu-west-1"')
    put(t, f"aws_secret_access_key = \"{T('aws-secret')}\"", "aws-secret-access-key")

    # YAML application config.
    y = "config/settings.yaml"
    put(y, "app:\n  name: billing\n  port: 8080")
    put(y, "slack:")
    put(y, f"  webhook_url: {T('slack-webhook')}", "slack-webhook-url")
    put(y, f"  workflow_url: {T('slack-workflow')}", "slack-workflow-webhook-url")
    put(y, f"  trigger_url: {T('slack-trigger')}", "slack-trigger-webhook-url")
    put(y, f"  legacy_token: {T('slack-xoxs')}", "slack-legacy-token")
    put(y, f"  legacy_bot: {T('slack-xoxo')}", "slack-legacy-bot-token")
    put(y, f"  workspace_access: {T('slack-xoxa')}", "slack-legacy-workspace-access-token")
    put(y, f"  workspace_refresh: {T('slack-xoxr')}", "slack-legacy-workspace-refresh-token")
    put(y, "datadog:")
    put(y, f"  api_key: {T('datadog-api')}", "datadog-api-key")
    put(y, "mailgun:")
    put(y, f"  api_key: {T('mailgun')}", "mailgun-api-key")
    put(y, f"  legacy_key: {T('mailgun-legacy')}", "mailgun-legacy-api-key")
    put(y, "okta:")
    put(y, "  org_url: https://acme.okta.com")
    put(y, f"  token: {T('okta')}", "okta-api-token")
    put(y, "newrelic:")
    put(y, f"  license_key: {T('newrelic-license')}", "newrelic-license-key")
    put(y, f"  user_key: {T('newrelic-user')}", "newrelic-user-api-key")
    put(y, "alerts:")
    put(y, f"  teams_webhook: {T('teams-webhook')}", "teams-incoming-webhook-url")
    put(y, f"  flow_url: \"{T('logic-apps-url')}\"", "azure-logic-apps-trigger-url")
    put(y, "grafana:")
    put(y, f"  service_account_token: {T('grafana-service-account')}", "grafana-service-account-token")
    put(y, f"  cloud_token: {T('grafana-cloud')}", "grafana-cloud-token")

    # JSON: a service-account style document and an API config.
    j = "config/credentials.json"
    doc_lines = [
        "{",
        f'  "google_api_key": "{T("google-api-key")}",',
        f'  "client_secret": "{T("google-client-secret")}",',
        f'  "refresh_token": "{T("google-refresh")}",',
        f'  "access_token": "{T("google-access")}",',
        f'  "shopify_admin": "{T("shopify-admin")}",',
        f'  "shopify_custom": "{T("shopify-custom")}",',
        f'  "shopify_private": "{T("shopify-private")}",',
        f'  "shopify_secret": "{T("shopify-shared-secret")}",',
        f'  "atlassian": "{T("atlassian")}",',
        f'  "atlassian_admin": "{T("atlassian-admin")}",',
        f'  "postman": "{T("postman")}",',
        f'  "databricks": "{T("databricks")}",',
        f'  "supabase": "{T("supabase")}",',
        f'  "mapbox": "{T("mapbox")}",',
        f'  "sentry_org": "{T("sentry-org")}",',
        f'  "brevo": "{T("brevo")}"',
        "}",
    ]
    ids = [None, "google-api-key", "google-oauth-client-secret", "google-oauth-refresh-token", "google-oauth-access-token",
           "shopify-admin-token", "shopify-custom-app-token", "shopify-private-app-token", "shopify-shared-secret",
           "atlassian-api-token", "atlassian-admin-api-key", "postman-api-key", "databricks-token", "supabase-access-token",
           "mapbox-secret-token", "sentry-org-token", "brevo-api-key", None]
    for line, rid in zip(doc_lines, ids):
        put(j, line, *( [rid] if rid else []))

    sa = "gcp/service-account.json"
    key = pem("PRIVATE KEY", 1216).replace("\n", "\\n")
    put(sa, "{\n  \"type\": \"service_account\",\n  \"project_id\": \"billing-prod-4471\",")
    put(sa, f'  "private_key": "{key}\\n",', "private-key-pkcs8")
    put(sa, "  \"client_email\": \"billing@billing-prod-4471.iam.gserviceaccount.com\"\n}")

    # Python source.
    p = "src/notify.py"
    put(p, "import os\nimport discord\nfrom slack_sdk import WebClient\n")
    put(p, f'slack = WebClient(token="{T("slack-bot")}")', "slack-bot-token")
    put(p, f'user_client = WebClient(token="{T("slack-xoxe-user")}")', "slack-rotating-user-token")
    put(p, f'DISCORD_WEBHOOK = "{T("discord-webhook")}"', "discord-webhook-url")
    put(p, "\n\nclass Bot(discord.Client):\n    async def on_ready(self):\n        print('ready')\n")
    put(p, f"Bot(intents=discord.Intents.default()).run('{T('discord-bot')}')", "discord-bot-token")
    put(p, f'openai_admin = "{T("openai-admin")}"', "openai-admin-key")
    put(p, f'legacy_openai = "{T("openai-legacy")}"', "openai-legacy-key")
    put(p, f'anthropic_admin = "{T("anthropic-admin")}"', "anthropic-admin-key")
    put(p, f'token = os.environ.get("GITHUB_TOKEN", "{T("github-oauth")}")', "github-oauth-token")

    # JavaScript source.
    s = "src/server.js"
    put(s, "const express = require('express');\nconst app = express();")
    put(s, f"const stripe = require('stripe')('{T('stripe-restricted')}');", "stripe-restricted-key")
    put(s, f"const stripeTest = '{T('stripe-test')}';", "stripe-test-key")
    put(s, f"const openaiSvc = '{T('openai-service-account')}';", "openai-service-account-key")
    put(s, f"const ghApp = {{ user: '{T('github-user-to-server')}', install: '{T('github-server-to-server')}' }};",
        "github-user-to-server-token", "github-installation-token")
    put(s, f"const ghRefresh = '{T('github-refresh')}';", "github-refresh-token")
    put(s, f"const fineGrained = '{T('github-fine-grained')}';", "github-fine-grained-pat")
    put(s, f"const hfOrg = '{T('huggingface-org')}';", "huggingface-org-token")
    put(s, "app.listen(3000);")

    # Go source.
    g = "cmd/deploy/main.go"
    put(g, "package main\n\nimport \"fmt\"\n")
    put(g, "const (")
    put(g, f'\tdoOAuth   = "{T("digitalocean-oauth")}"', "digitalocean-oauth-token")
    put(g, f'\tdoRefresh = "{T("digitalocean-refresh")}"', "digitalocean-refresh-token")
    put(g, f'\tdopplerPersonal = "{T("doppler-personal")}"', "doppler-personal-token")
    put(g, f'\tdopplerCLI = "{T("doppler-cli")}"', "doppler-cli-token")
    put(g, f'\tdopplerSA = "{T("doppler-service-account")}"', "doppler-service-account-token")
    put(g, f'\tdopplerSCIM = "{T("doppler-scim")}"', "doppler-scim-token")
    put(g, f'\tdopplerAudit = "{T("doppler-audit")}"', "doppler-audit-token")
    put(g, f'\tvaultBatch = "{T("vault-batch")}"', "vault-batch-token")
    put(g, f'\ttfToken = "{T("terraform")}"', "terraform-cloud-token")
    put(g, f'\tbuildkite = "{T("buildkite")}"', "buildkite-api-token")
    put(g, f'\ttailscaleAPI = "{T("tailscale-api")}"', "tailscale-api-key")
    put(g, f'\tpscale = "{T("planetscale")}"', "planetscale-token")
    put(g, ")\n\nfunc main() { fmt.Println(\"deploying\") }")

    # GitLab CI and runner config.
    c = ".gitlab-ci.yml"
    put(c, "stages: [build, deploy]\nvariables:")
    put(c, f"  GITLAB_API_TOKEN: {T('gitlab-pat-routable')}", "gitlab-pat-routable")
    put(c, f"  DEPLOY_TOKEN: {T('gitlab-deploy')}", "gitlab-deploy-token")
    put(c, f"  TRIGGER_TOKEN: {T('gitlab-trigger')}", "gitlab-pipeline-trigger-token")
    put(c, f"  FEED_TOKEN: {T('gitlab-feed')}", "gitlab-feed-token")
    put(c, f"  MAIL_TOKEN: {T('gitlab-incoming-mail')}", "gitlab-incoming-mail-token")
    put(c, f"  AGENT_TOKEN: {T('gitlab-agent')}", "gitlab-agent-token")
    put(c, f"  OAUTH_SECRET: {T('gitlab-oauth-secret')}", "gitlab-oauth-app-secret")
    put(c, f"  SCIM_TOKEN: {T('gitlab-scim')}", "gitlab-scim-token")
    put(c, f"  UNLEASH_TOKEN: {T('gitlab-feature-flag')}", "gitlab-feature-flag-token")
    put(c, f"  JOB_TOKEN_SAMPLE_FROM_LOG: {T('gitlab-ci-job')}", "gitlab-ci-job-token")
    r = "runner/config.toml"
    put(r, "concurrent = 4\n\n[[runners]]\n  name = \"docker-runner\"\n  url = \"https://gitlab.com/\"")
    put(r, f"  token = \"{T('gitlab-runner')}\"", "gitlab-runner-token")
    put(r, f"  registration_token = \"{T('gitlab-runner-registration')}\"", "gitlab-runner-registration-token")
    put(r, "  executor = \"docker\"")

    # Package manager credentials.
    put(".npmrc", f"//registry.npmjs.org/:_authToken={T('npm')}", "npm-access-token")
    put(".pypirc", "[distutils]\nindex-servers =\n    pypi\n    testpypi\n\n[pypi]\nusername = __token__")
    put(".pypirc", f"password = {T('pypi')}", "pypi-token")
    put(".pypirc", "\n[testpypi]\nusername = __token__")
    put(".pypirc", f"password = {T('testpypi')}", "pypi-test-token")
    put(".gem/credentials", f"---\n:rubygems_api_key: {T('rubygems')}", ("rubygems-api-key", 1))
    put("docker/login.sh", f"#!/bin/sh\necho \"{T('dockerhub-pat')}\" | docker login -u ci --password-stdin", ("dockerhub-pat", 1))
    put("docker/login.sh", f"export DOCKERHUB_ORG_TOKEN={T('dockerhub-oat')}", "dockerhub-org-token")

    # Shell and misc.
    sh = "scripts/provision.sh"
    put(sh, "#!/usr/bin/env bash\nset -euo pipefail")
    put(sh, f"export HEROKU_API_KEY={T('heroku-legacy')}", "heroku-legacy-api-key")
    put(sh, f"export VAULT_TOKEN={T('vault-legacy')}", "vault-legacy-token")
    put(sh, f"export TWILIO_API_KEY={T('twilio-api-key-sid')}")
    put(sh, f"export TWILIO_API_SECRET={T('twilio-api-key-secret')}", "twilio-api-key-secret")
    put(sh, f"az storage blob list --connection-string \"DefaultEndpointsProtocol=https;AccountName=prodlogs;AccountKey={T('azure-storage')};EndpointSuffix=core.windows.net\"",
        "azure-storage-account-key")
    put(sh, f"export DATABASE_URL=mysql://app:{T('planetscale-password')}@aws.connect.psdb.cloud/prod", "planetscale-password")
    # A lone key id, in a file of its own: any 40-character run near it would read as its secret.
    put("scripts/aws-profile.sh", f"#!/bin/sh\nexport AWS_ACCESS_KEY_ID={T('aws-key-id')}", ("aws-access-key-id", 1))
    put("age/key.txt", f"# created: 2025-03-14T09:26:53Z\n# public key: age1{ft.rand(ft.BECH32, 58)}\n{T('age')}", ("age-secret-key", 2))

    # Providers added for real-world detection (issue 8).
    e2 = "deploy/production.env"
    put(e2, "# Production settings for the storefront")
    put(e2, f"NOTION_TOKEN={T('notion')}", "notion-integration-token")
    put(e2, f"NOTION_LEGACY_TOKEN={T('notion-legacy')}", "notion-legacy-integration-token")
    put(e2, f"SUPABASE_SECRET_KEY={T('supabase-secret')}", "supabase-secret-key")
    put(e2, f"SUPABASE_SERVICE_ROLE_KEY={T('supabase-service-role')}", "supabase-service-role-key")
    put(e2, f"MAILCHIMP_API_KEY={T('mailchimp')}", "mailchimp-api-key")
    put(e2, f"RESEND_API_KEY={T('resend')}", "resend-api-key")
    put(e2, f"DEEPSEEK_API_KEY={T('deepseek')}", "deepseek-api-key")
    put(e2, f"CLOUDFLARE_API_TOKEN={T('cloudflare-user')}", "cloudflare-api-token")
    put(e2, f"FCM_SERVER_KEY={T('fcm-server-key')}", "firebase-cloud-messaging-server-key")
    put(e2, f"CONTENTFUL_MANAGEMENT_TOKEN={T('contentful')}", "contentful-management-token")
    put(e2, f"NETLIFY_AUTH_TOKEN={T('netlify')}", "netlify-access-token")
    put(e2, f"VERCEL_TOKEN={T('vercel')}", "vercel-access-token")
    put(e2, f"VERCEL_API_TOKEN={ft.rand(ft.ALNUM, 24)}", "vercel-legacy-token")
    put(e2, f"FLY_API_TOKEN=\"FlyV1 {T('flyio')}\"", "flyio-access-token")
    put(e2, f"RENDER_API_KEY={T('render')}", "render-api-key")
    put(e2, f"RAILWAY_TOKEN={T('uuid')}", "railway-api-token")
    put(e2, f"CIRCLECI_TOKEN={T('circleci')}", "circleci-personal-token")
    put(e2, f"JENKINS_API_TOKEN={T('jenkins')}", "jenkins-api-token")
    put(e2, f"SONAR_TOKEN={T('sonar-user')}", "sonarqube-user-token")
    put(e2, f"SONAR_PROJECT_TOKEN={T('sonar-project')}", "sonarqube-project-token")
    put(e2, f"SONAR_GLOBAL_TOKEN={T('sonar-global')}", "sonarqube-global-token")
    put(e2, f"SNYK_TOKEN={T('uuid')}", "snyk-api-token")
    put(e2, f"SQUARE_ACCESS_TOKEN={T('square')}", "square-access-token")
    put(e2, f"PAYPAL_ACCESS_TOKEN={T('braintree')}", "braintree-access-token")
    put(e2, f"HUBSPOT_ACCESS_TOKEN={T('hubspot')}", "hubspot-private-app-token")
    put(e2, f"INTERCOM_ACCESS_TOKEN={T('intercom')}", "intercom-access-token")
    put(e2, f"AIRTABLE_TOKEN={T('airtable')}", "airtable-personal-access-token")
    put(e2, f"ASANA_TOKEN={T('asana')}", "asana-personal-access-token")
    put(e2, f"FIGMA_TOKEN={T('figma')}", "figma-personal-access-token")
    put(e2, f"DROPBOX_ACCESS_TOKEN={T('dropbox')}", "dropbox-access-token")
    put(e2, f"WHATSAPP_ACCESS_TOKEN={T('meta')}", "meta-access-token")
    put(e2, f"TWITTER_BEARER_TOKEN={T('twitter-bearer')}", "twitter-bearer-token")
    put(e2, f"LINKEDIN_ACCESS_TOKEN={T('linkedin')}", "linkedin-access-token")
    put(e2, f"COHERE_API_KEY={T('cohere')}", "cohere-api-key")
    put(e2, f"MISTRAL_API_KEY={T('mistral')}", "mistral-api-key")
    put(e2, f"XAI_API_KEY={T('xai')}", "xai-api-key")
    put(e2, f"PERPLEXITY_API_KEY={T('perplexity')}", "perplexity-api-key")
    put(e2, f"ELEVENLABS_API_KEY={T('elevenlabs')}", "elevenlabs-api-key")
    put(e2, f"PINECONE_API_KEY={T('pinecone')}", "pinecone-api-key")
    put(e2, f"KAFKA_API_SECRET={T('confluent-secret')}", "confluent-cloud-api-secret")
    put(e2, f"MONGODB_ATLAS_CLIENT_SECRET={T('mongodb-atlas')}", "mongodb-atlas-service-account-secret")
    put(e2, f"AWS_BEARER_TOKEN_BEDROCK={T('aws-bedrock')}", "aws-bedrock-api-key")
    put(e2, f"AZURE_CLIENT_SECRET={T('entra-secret')}", "azure-entra-client-secret")
    put(e2, f"AZURE_LEGACY_CLIENT_SECRET={T('entra-secret-legacy')}", "azure-entra-client-secret-legacy")
    put(e2, f"AZURE_OPENAI_API_KEY={T('azure-ai-key')}", "azure-annotated-key")
    put(e2, f"AZURE_DEVOPS_PAT={T('azure-devops-pat')}", "azure-devops-pat")
    put(e2, f"AZURE_DEVOPS_LEGACY_PAT={T('azure-devops-legacy-pat')}", "azure-devops-legacy-pat")
    put(e2, f"AZURE_STORAGE_SAS=\"{T('azure-sas')}\"", "azure-sas-token")
    put(e2, f"SESSION_JWT={T('jwt')}", "jwt")
    put(e2, f"VAULT_DEV_TOKEN={T('vault-service-short')}", "vault-service-token")
    put(e2, f"HEROKU_API_KEY={T('heroku-uuid')}", "heroku-api-key")

    db = "deploy/databases.yaml"
    put(db, "databases:")
    put(db, f"  primary: postgresql://billing:{T('db-password')}@db.prod.acme-corp.net:5432/billing", "postgres-uri-password")
    put(db, f"  neon: postgresql://neondb_owner:{T('neon-password')}@ep-cool-river-a1b2c3d4-pooler.us-east-2.aws.neon.tech/neondb", "neon-database-password")
    put(db, f"  reports: mysql://reporter:{T('db-password')}@mysql.eu-west-1.rds.amazonaws.com:3306/reports", "mysql-uri-password")
    put(db, f"  documents: mongodb+srv://app:{T('db-password')}@cluster0.xolr95j.mongodb.net/app", "mongodb-uri-password")
    put(db, f"  cache: rediss://default:{T('upstash-password')}@moving-mutt-23337.upstash.io:6379", "redis-uri-password")
    put(db, f"  broker: amqps://worker:{T('db-password')}@rabbit.prod.acme-corp.net/jobs", "amqp-uri-password")
    put(db, f"  warehouse: jdbc:snowflake://XY12345.us-east-1.snowflakecomputing.com/?user=loader&password={T('db-password')}&role=SYSADMIN", "snowflake-jdbc-password")
    put(db, "kafka:")
    put(db, f"  sasl.username: '{T('confluent-key')}'", "confluent-cloud-api-key")
    put(db, f"  sasl.password: '{T('confluent-legacy-secret')}'")

    cl = "src/clients.py"
    put(cl, "import cohere\nimport discord\nimport requests\n")
    put(cl, f"headers = {{'xi-api-key': '{T('elevenlabs-legacy')}'}}", "elevenlabs-legacy-api-key")
    put(cl, f"mailgun_auth = (\"api\", \"{T('mailgun-legacy-b36')}\")", "mailgun-legacy-api-key")
    put(cl, f"SLACK_OLD_TOKEN = '{T('slack-user-legacy')}'", "slack-user-token")
    put(cl, f"GITHUB_REFRESH = '{T('github-refresh-long')}'", "github-refresh-token")
    put(cl, f"RUNNER_TOKEN = '{T('gitlab-runner-routable')}'", "gitlab-runner-token")
    put(cl, "\n\ndef main():\n    print('starting')\n")
    put(cl, f"client.run(\"{T('discord-bot')}\")", "discord-bot-token")

    # Key files.
    put("keys/id_rsa", pem("RSA PRIVATE KEY", 1190), "private-key-rsa")
    put("keys/id_ed25519", openssh_key(), "private-key-openssh")
    put("keys/ec.pem", pem("EC PRIVATE KEY", 121), "private-key-ec")
    put("keys/dsa.pem", pem("DSA PRIVATE KEY", 444), "private-key-dsa")
    put("keys/server.key", pem("ENCRYPTED PRIVATE KEY", 1298), "private-key-pkcs8-encrypted")
    put("keys/signing.asc", "# exported for the release bot")
    put("keys/signing.asc", pem("PGP PRIVATE KEY BLOCK", 4900, "Version: GnuPG v2\n\n"), "private-key-pgp")


def wrong_checksum(prefix):
    tok = ft.crc_token(prefix)
    return tok[:-1] + ("A" if tok[-1] != "A" else "B")


NEGATIVES = {
    ".env.example": [
        "SLACK_BOT_TOKEN=xoxb-your-token-here",
        "SLACK_WEBHOOK=https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "GITHUB_TOKEN=ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "STRIPE_SECRET_KEY=sk_live_000000000000000000000000",
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "OPENAI_API_KEY=sk-proj-...",
        "ANTHROPIC_API_KEY=<your-anthropic-key>",
        "DD_API_KEY=${DATADOG_API_KEY}",
        "TWILIO_AUTH_TOKEN={{ twilio_auth_token }}",
        "GITLAB_TOKEN=glpat-xxxxxxxxxxxxxxxxxxxx",
        "HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "NPM_TOKEN=npm_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "SENDGRID_API_KEY=SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ],
    "publishable.js": [
        f"const stripe = Stripe('{T('stripe-publishable')}');",
        f"const mapbox = 'pk.eyJ1IjoibWFwcyIsImEiOiJ{ft.rand(ft.URLSAFE, 20)}.{ft.rand(ft.URLSAFE, 22)}';",
        "const msg = event.msg.SG.value;",
    ],
    "checksums.txt": [
        # Right shape, wrong checksum.
        f"ghp: {wrong_checksum('ghp')}",
        f"npm: {wrong_checksum('npm')}",
        "gho: gho_" + ft.rand(ft.ALNUM, 36),
        "age: AGE-SECRET-KEY-1" + ft.rand(ft.BECH32.upper(), 58),
        "slack rotating: xoxe.xoxb-1-" + ft.rand(ft.URLSAFE, 160),
        "slack refresh: xoxe-1-" + ft.rand(ft.URLSAFE, 146),
        "pypi: pypi-AgEIcHlwaS5vcmc" + ft.rand(ft.URLSAFE, 150),
    ],
    "lengths.py": [
        f"short_bot = 'xoxb-{ft.digits(12)}-{ft.digits(13)}-{ft.rand(ft.ALNUM, 10)}'",
        f"short_gh = 'ghp_{ft.rand(ft.ALNUM, 30)}'",
        f"long_glpat = 'glpat-{ft.rand(ft.ALNUM, 24)}'",
        f"aws_partial = 'AKIA{ft.rand(ft.B32, 12)}'",
        f"google = 'AIza{ft.rand(ft.URLSAFE, 30)}'",
        f"do_short = 'dop_v1_{ft.rand(ft.HEX, 60)}'",
        f"uuid = '{T('heroku-legacy')}'",
        f"sha = '{ft.rand(ft.HEX, 40)}'",
        f"md5 = '{ft.rand(ft.HEX, 32)}'",
        f"telegram_like = '{ft.digits(10)}:AA{ft.rand(ft.URLSAFE, 20)}'",
    ],
    "docs/keys.md": [
        "# Key handling",
        "",
        "Paste your key between the markers:",
        "",
        "    -----BEGIN RSA PRIVATE KEY-----",
        "    MIIE...",
        "    -----END RSA PRIVATE KEY-----",
        "",
        "A public key is fine to share:",
        "",
        "-----BEGIN PUBLIC KEY-----",
        base64.b64encode(os.urandom(270)).decode()[:64],
        "-----END PUBLIC KEY-----",
    ],
    "ai.env.example": [
        "OPENROUTER_API_KEY=sk-or-v1-your-key-here",
        "GROQ_API_KEY=gsk_your_key_here",
        "REPLICATE_API_TOKEN=r8_xxxxxxxxxxxx",
        "TEAMS_WEBHOOK=https://acme.webhook.office.com/webhookb2/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx@xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx/IncomingWebhook/xxxx/xxxx",
        "FLOW_URL=https://prod-00.westus.logic.azure.com/workflows/{id}/triggers/manual/paths/invoke?sig={sig}",
        "DISCORD_WEBHOOK=https://discord.com/api/webhooks/000000000000000000/XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "TELEGRAM_BOT_TOKEN=123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11",
        "VAULT_TOKEN=s.xxxxxxxxxxxxxxxxxxxxxxxx",
        "PYPI_TOKEN=pypi-AgEIcHlwaS5vcmc...",
    ],
    "connections.env.example": [
        "DATABASE_URL=postgresql://user:password@localhost:5432/app",
        "DATABASE_URL=postgresql://postgres:postgres@db:5432/app",
        "SUPABASE_DB_URL=postgresql://postgres.[project-ref]:[password]@aws-0-[region].pooler.supabase.com:6543/postgres",
        "MONGO_URL=mongodb+srv://<db_username>:<db_password>@cluster0.abcde.mongodb.net/",
        "REDIS_URL=rediss://default:${REDIS_PASSWORD}@cache.acme-corp.net:6379",
        "BROKER_URL=amqp://guest:guest@localhost:5672//",
        "SNOWFLAKE_URL=jdbc:snowflake://acme.snowflakecomputing.com/?user=loader&password={password}",
    ],
    "public-keys.ts": [
        # Public by design: Supabase publishable and anon keys, a JWT without a signature algorithm,
        # a Discord-like string whose first segment is no user id, a Meta-like word.
        f"export const SUPABASE_KEY = 'sb_publishable_{ft.rand(ft.URLSAFE, 22)}_{ft.rand(ft.URLSAFE, 8)}';",
        "export const ANON = '" + ft.jwt({"iss": "supabase", "ref": ft.rand(ft.LOWER, 20), "role": "anon", "iat": 1790000000, "exp": 2105000000}) + "';",
        "export const UNSIGNED = '" + ft.jwt({"sub": "alice", "admin": True}, {"alg": "none"}) + "';",
        f"export const NOT_DISCORD = '{ft.b64url(b'not-a-user-id-at-all')}.{ft.rand(ft.URLSAFE, 6)}.{ft.rand(ft.URLSAFE, 38)}';",
        f"export const HASH = 'key-{ft.rand(ft.HEX, 32)}-cache';",
    ],
    "context.yaml": [
        "# Hex values that are not credentials, away from any provider name",
        f"build_id: {ft.rand(ft.HEX, 32)}",
        f"commit: {ft.rand(ft.HEX, 40)}",
        f"request_id: {T('heroku-legacy')}",
        f"heroku_app_id: {T('heroku-legacy')}",
        f"cache_key: {ft.rand(ft.ALNUM + '/+', 40).lower()}",
    ],
}


def main():
    prov = os.path.join(ROOT, "fixtures", "providers")
    neg = os.path.join(ROOT, "fixtures", "negatives")
    for d in (prov, neg):
        shutil.rmtree(d, ignore_errors=True)
    build()
    expected = []
    for path, items in FILES.items():
        line = 1
        chunks = []
        for text, rules in items:
            for rid, off in rules:
                expected.append({"file": path, "line": line + off, "rule_id": rid})
            chunks.append(text)
            line += text.count("\n") + 1
        full = os.path.join(prov, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write("\n".join(chunks) + "\n")
    for path, lines in NEGATIVES.items():
        full = os.path.join(neg, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write("\n".join(lines) + "\n")
    expected.sort(key=lambda e: (e["file"], e["line"], e["rule_id"]))
    with open(os.path.join(ROOT, "fixtures", "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print(f"{len(expected)} expected findings in {len(FILES)} files; {len(NEGATIVES)} negative files")


if __name__ == "__main__":
    sys.exit(main())
