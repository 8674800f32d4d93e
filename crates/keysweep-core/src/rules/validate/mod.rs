//! Offline validators: checks that run on a candidate secret before it is reported. They raise or
//! lower the confidence of a finding; only evidence of a fake (a failed checksum of a format that
//! always carries one, a body that cannot be what the provider issues) drops a candidate. A token with
//! a unique prefix whose body is merely unfamiliar is still reported, at medium confidence, with the
//! reason.

mod checksum;
mod jwt;
mod pem;
mod structure;
mod uri;

use std::collections::BTreeMap;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

pub use checksum::base62;

/// What an offline check concluded about a candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The checksum matches or the decoded structure is the provider's: high confidence.
    Confirmed(&'static str),
    /// The value decodes, but not to the layout seen in real tokens: reported at medium confidence.
    Unfamiliar(String),
    /// A well-formed credential that is unlikely to work (an expired JWT): low confidence.
    Weak(String),
    /// Evidence that the value is not a credential the provider issued: never reported.
    Fake(&'static str),
}

/// A verdict, and facts read from the value that are safe to report (a JWT's `exp`, never its
/// signature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub verdict: Verdict,
    pub details: BTreeMap<String, String>,
}

impl Outcome {
    fn new(verdict: Verdict) -> Outcome {
        Outcome {
            verdict,
            details: BTreeMap::new(),
        }
    }

    pub fn is_fake(&self) -> bool {
        matches!(self.verdict, Verdict::Fake(_))
    }
}

impl From<Verdict> for Outcome {
    fn from(v: Verdict) -> Outcome {
        Outcome::new(v)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    /// `<prefix>_<random><6 checksum>`: the last 6 characters are the CRC-32 of the random part in
    /// base62 (`0-9A-Za-z`), left-padded with `0` (github.blog 2021-04-05, "Behind GitHub's new
    /// authentication token formats"). GitHub `ghp_ gho_ ghu_ ghs_ ghr_` (`ghr_` also with a 70
    /// character random part, as seen in real refresh tokens).
    GithubChecksum,
    /// npm `npm_` tokens: the same construction (github.blog 2021-09-23).
    NpmChecksum,
    /// Vercel `vcp_`: the same construction over a 50-character random part (every real sample).
    VercelChecksum,
    /// Slack `xoxe.xoxb-1-`/`xoxe.xoxp-1-`: base64url of `<1|2>-2-<4 numeric ids>-<64 hex>`.
    SlackXoxeAccess,
    /// Slack `xoxe-1-`: base64url of `3-1-<3 numeric ids>-<64 hex>`.
    SlackXoxeRefresh,
    /// PyPI `pypi-`: base64url of a version-2 macaroon located at `pypi.org` or `test.pypi.org`.
    PypiMacaroon,
    /// 1Password `ops_`: base64 JSON with `signInAddress` and `email`.
    OnepasswordServiceAccount,
    /// Discord bot token: the first segment is base64 of a 17 to 20 digit snowflake.
    DiscordBotToken,
    /// age `AGE-SECRET-KEY-1`: Bech32 checksum (BIP-173).
    AgeBech32,
    /// GitLab routable tokens `gl…-<payload>.01.<2 length><7 checksum>`: base36 payload length and the
    /// base36 CRC-32 of everything before the checksum.
    GitlabRoutable,
    /// Atlassian `ATATT3…=<8 hex>`: CRC-32 of everything up to and including `=`, upper-case hex.
    AtlassianChecksum,
    /// Cloudflare `cfut_`/`cfat_`/`cfk_` + 40 + 8 hex: CRC-32 of the 40 characters, lower-case hex
    /// (developers.cloudflare.com "Token formats").
    CloudflareChecksum,
    /// Microsoft Entra client secrets `xxx8Q~…`: Marvin32 checksum in the last 3 characters
    /// (microsoft/security-utilities, "AadClientAppIdentifiableCredentials").
    EntraClientSecret,
    /// Microsoft common annotated security keys (84 characters, `JQQJ9` at offset 52): Marvin32 of
    /// the first 60 decoded bytes (microsoft/security-utilities, "LegacyCommonAnnotatedSecurityKey").
    AzureAnnotatedKey,
    /// Azure DevOps 52-character PATs: base32 body with an embedded CRC-32 (security-utilities
    /// "SEC101/102 AdoPat").
    AzureDevopsLegacyPat,
    /// Intercom access tokens: base64 of `tok:<uuid with _>:<n>:<n>`.
    IntercomToken,
    /// JSON Web Tokens: header and claims decode, `alg` is set and not `none`; `exp` lowers
    /// confidence once past.
    Jwt,
    /// A JWT whose claims say `role: service_role` and `iss: supabase`.
    SupabaseServiceRole,
    /// Fly.io `fm2_` macaroons: base64 of a msgpack body naming `api.fly.io`.
    FlyMacaroon,
    /// Firebase Cloud Messaging server keys: the part before `:APA91b` is base64url of the 8-byte
    /// sender id.
    FcmServerKey,
    /// X/Twitter app-only bearer tokens: base64 of 16 zero bytes and the app id, `=`, a 50 character
    /// secret.
    TwitterBearer,
    /// Amazon Bedrock API keys `ABSK…`: base64 of `BedrockAPIKey-…-at-<account>:…`.
    BedrockApiKey,
    /// A prefixed base64 JSON document (Sentry org tokens, Grafana Cloud tokens, Mapbox tokens).
    Base64Json,
    /// PEM/OpenSSH/PGP private key blocks: the body decodes to a key structure.
    PrivateKey,
    /// A password in a connection URI (`scheme://user:password@host`, seen whole): documentation
    /// placeholders, default and local-development credentials are dropped.
    ConnectionUri,
    /// Azure shared access signatures: `se=` (expiry) in the past lowers confidence.
    AzureSas,
}

const TABLE: &[(&str, Validator)] = &[
    ("github-checksum", Validator::GithubChecksum),
    ("npm-checksum", Validator::NpmChecksum),
    ("vercel-checksum", Validator::VercelChecksum),
    ("slack-xoxe-access", Validator::SlackXoxeAccess),
    ("slack-xoxe-refresh", Validator::SlackXoxeRefresh),
    ("pypi-macaroon", Validator::PypiMacaroon),
    (
        "onepassword-service-account",
        Validator::OnepasswordServiceAccount,
    ),
    ("discord-bot-token", Validator::DiscordBotToken),
    ("age-bech32", Validator::AgeBech32),
    ("gitlab-routable", Validator::GitlabRoutable),
    ("atlassian-checksum", Validator::AtlassianChecksum),
    ("cloudflare-checksum", Validator::CloudflareChecksum),
    ("entra-client-secret", Validator::EntraClientSecret),
    ("azure-annotated-key", Validator::AzureAnnotatedKey),
    ("azure-devops-legacy-pat", Validator::AzureDevopsLegacyPat),
    ("intercom-token", Validator::IntercomToken),
    ("jwt", Validator::Jwt),
    ("supabase-service-role", Validator::SupabaseServiceRole),
    ("flyio-macaroon", Validator::FlyMacaroon),
    ("fcm-server-key", Validator::FcmServerKey),
    ("twitter-bearer", Validator::TwitterBearer),
    ("bedrock-api-key", Validator::BedrockApiKey),
    ("base64-json", Validator::Base64Json),
    ("private-key", Validator::PrivateKey),
    ("connection-uri", Validator::ConnectionUri),
    ("azure-sas", Validator::AzureSas),
];

impl Validator {
    pub const NAMES: &'static [&'static str] = &{
        let mut names = [""; TABLE.len()];
        let mut i = 0;
        while i < TABLE.len() {
            names[i] = TABLE[i].0;
            i += 1;
        }
        names
    };

    pub fn name(self) -> &'static str {
        TABLE
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("", |(n, _)| n)
    }

    pub fn by_name(name: &str) -> Option<Validator> {
        TABLE.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The verdict on `secret` (exactly the rule's secret capture) at `now` (Unix seconds, for
    /// expiry claims).
    pub fn assess(self, secret: &[u8], now: i64) -> Outcome {
        self.assess_in(secret, secret, now)
    }

    /// As [`Validator::assess`], with `whole`, the rule's whole match, for validators that read the
    /// secret's surroundings (a URI's user and host around its password).
    pub fn assess_in(self, secret: &[u8], whole: &[u8], now: i64) -> Outcome {
        match self {
            Validator::GithubChecksum | Validator::NpmChecksum | Validator::VercelChecksum => {
                checksum::crc32_base62_tail(secret).into()
            }
            Validator::SlackXoxeAccess => structure::slack_xoxe(secret, &["1", "2"], "2", 4).into(),
            Validator::SlackXoxeRefresh => structure::slack_xoxe(secret, &["3"], "1", 3).into(),
            Validator::PypiMacaroon => structure::pypi_macaroon(secret).into(),
            Validator::OnepasswordServiceAccount => structure::onepassword(secret).into(),
            Validator::DiscordBotToken => structure::discord_bot(secret).into(),
            Validator::AgeBech32 => checksum::bech32(secret).into(),
            Validator::GitlabRoutable => checksum::gitlab_routable(secret).into(),
            Validator::AtlassianChecksum => checksum::atlassian(secret).into(),
            Validator::CloudflareChecksum => checksum::cloudflare(secret).into(),
            Validator::EntraClientSecret => checksum::entra_client_secret(secret).into(),
            Validator::AzureAnnotatedKey => checksum::azure_annotated_key(secret).into(),
            Validator::AzureDevopsLegacyPat => checksum::azure_devops_legacy_pat(secret).into(),
            Validator::IntercomToken => structure::intercom(secret).into(),
            Validator::Jwt => jwt::assess(secret, now, jwt::Expect::Any),
            Validator::SupabaseServiceRole => {
                jwt::assess(secret, now, jwt::Expect::SupabaseServiceRole)
            }
            Validator::FlyMacaroon => structure::fly_macaroon(secret).into(),
            Validator::FcmServerKey => structure::fcm_server_key(secret).into(),
            Validator::TwitterBearer => structure::twitter_bearer(secret).into(),
            Validator::BedrockApiKey => structure::bedrock(secret).into(),
            Validator::Base64Json => structure::base64_json(secret).into(),
            Validator::PrivateKey => pem::assess(secret).into(),
            Validator::ConnectionUri => uri::assess(whole).into(),
            Validator::AzureSas => structure::azure_sas(secret, now),
        }
    }

    /// True unless the check found evidence of a fake (what may be sent to a provider).
    pub fn check(self, secret: &[u8]) -> bool {
        !self.assess(secret, unix_now()).is_fake()
    }
}

/// The current time in Unix seconds (0 if the clock is before 1970).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
/// Token bodies are written with or without padding; both decode.
pub(crate) const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);
pub(crate) const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);

/// `body` base64-decoded with `engine`, if that gives printable ASCII text (and line breaks): what a
/// decoded body of readable fields looks like.
fn decoded_text(engine: &GeneralPurpose, body: &[u8]) -> Option<String> {
    use base64::Engine as _;
    let data = engine.decode(body).ok()?;
    let text = !data.is_empty()
        && data
            .iter()
            .all(|&b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\r' || b == b'\t');
    text.then(|| String::from_utf8(data).ok()).flatten()
}
