//! What a provider adapter is: the one trait every Rust adapter implements, and the values it
//! exchanges with the rest of keysweep. An adapter knows a credential and its provider's API, never
//! where the credential was found.

use keysweep_core::finding::Verification;

use crate::Context;

/// A credential as a provider sees it: its rule, the secret and its companion (an AWS key id's
/// secret key, a Twilio auth token's account SID).
#[derive(Debug, Clone, Copy)]
pub struct Credential<'a> {
    pub rule_id: &'a str,
    pub secret: &'a str,
    pub pair: Option<&'a str>,
}

/// What an adapter can do with one credential (decided by its shape: a Slack refresh token and a
/// Slack bot token are served by one adapter but allow different things).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    pub verify: bool,
    pub revoke: bool,
    pub rotate: bool,
}

/// The requests an adapter makes, in words; empty when it makes none of that kind.
#[derive(Debug, Clone, Copy, Default)]
pub struct Calls {
    pub verify: &'static str,
    pub revoke: &'static str,
    pub rotate: &'static str,
}

/// How one revocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoked {
    /// The provider confirmed the secret is revoked.
    Revoked,
    /// The provider accepted the request (GitHub's 202); confirm by verifying again.
    Requested,
    /// The provider says the secret was already dead.
    AlreadyDead(String),
    Failed(String),
}

/// A freshly minted credential: the JSON handed to the sink, the secrets in it (for hashing), and a
/// line that is safe to print.
#[derive(Debug)]
pub struct Minted {
    pub payload: serde_json::Value,
    pub secrets: Vec<String>,
    pub summary: String,
}

/// OAuth client credentials, for rotations that need them.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    pub id: &'a str,
    pub secret: &'a str,
}

/// What a rotation is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct RotateRequest<'a> {
    pub credential: Credential<'a>,
    /// The app's client credentials, where the provider's rotation needs them.
    pub client: Option<Client<'a>>,
    /// A provider-specific flavour (Slack: `config-token` for app configuration tokens).
    pub mode: Option<&'a str>,
    /// The new credential's expiry, where the provider lets the caller choose (`YYYY-MM-DD`).
    pub expires_at: Option<&'a str>,
}

/// Why a rotation did not mint anything, or minted without an answer keysweep could read.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// Nothing was minted: the request was refused or could not be sent.
    #[error("{0}")]
    Refused(String),
    /// The request may have reached the provider and the answer was lost: the old credential may be
    /// retired and a new one minted that nobody received.
    #[error("{0}")]
    Unknown(String),
    /// This adapter cannot rotate this credential.
    #[error("{0}")]
    Unsupported(String),
}

/// A provider adapter, for flows that are more than one declarative request (rule files describe the
/// simple ones). Every method may be called concurrently.
pub trait Provider: Sync {
    /// Also the key of `--endpoint` and of the HTTP client's per-provider limits.
    fn name(&self) -> &'static str;

    /// The provider's API base URL, used unless the person running keysweep overrides it.
    fn default_base(&self) -> &'static str;

    /// An extra check of the secret's shape beyond its rule's (a webhook URL's host and path).
    fn owns(&self, _cred: &Credential) -> bool {
        true
    }

    fn capabilities(&self, cred: &Credential) -> Capabilities;

    /// What the adapter does for secrets of `rule_id` in general (`keysweep providers`); a given
    /// secret may allow less (`capabilities`).
    fn supports(&self, rule_id: &str) -> Capabilities;

    /// The requests the adapter makes, for documentation (`keysweep providers`).
    fn calls(&self) -> Calls;

    /// The provider's cheapest read-only call. Never consumes a single-use secret.
    fn verify(&self, cx: &Context, cred: &Credential) -> Verification;

    /// Revokes each credential (adapters with a batch endpoint batch). One answer per credential.
    fn revoke(&self, _cx: &Context, creds: &[Credential]) -> Vec<Revoked> {
        creds
            .iter()
            .map(|c| Revoked::Failed(self.manual_step(c).unwrap_or_default()))
            .collect()
    }

    /// Mints a replacement and retires the credential (in one provider call, or as the adapter's
    /// documented sequence).
    fn rotate(&self, _cx: &Context, req: &RotateRequest) -> Result<Minted, RotateError> {
        Err(RotateError::Unsupported(format!(
            "keysweep cannot rotate `{}` credentials",
            req.credential.rule_id
        )))
    }

    /// What a person must do when the secret cannot be revoked by API.
    fn manual_step(&self, cred: &Credential) -> Option<String>;
}
