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
#[derive(Debug, Default)]
pub struct Minted {
    pub payload: serde_json::Value,
    pub secrets: Vec<String>,
    pub summary: String,
}

/// A step that retires the old credential once its replacement is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetireStep {
    /// Turn the old credential off, reversibly (AWS `UpdateAccessKey Status=Inactive`).
    Deactivate,
    /// Remove the old credential for good.
    Delete,
}

impl RetireStep {
    pub fn as_str(self) -> &'static str {
        match self {
            RetireStep::Deactivate => "deactivate",
            RetireStep::Delete => "delete",
        }
    }
}

/// What happens to the old credential in a rotation, known before anything is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retirement {
    /// The steps after delivery, in order, each with its delay after delivery. Empty when the
    /// provider retires the old credential as part of minting (or keeps it, see `keeps_old`).
    pub steps: Vec<(RetireStep, std::time::Duration)>,
    /// A public identifier of the old credential (an AWS access key id, a Twilio key SID). The
    /// journal keeps only its hash, so that a later run can find the key in the provider's list.
    pub old_id: Option<String>,
    /// Minting leaves the old credential valid (a Google refresh token yields access tokens and
    /// stays): every run mints, and nothing is retired.
    pub keeps_old: bool,
}

/// One retirement step to carry out.
#[derive(Debug, Clone, Copy)]
pub struct RetireRequest<'a> {
    pub step: RetireStep,
    /// The credential this run was given: the old one, or its replacement (a later run finishing
    /// the retirement).
    pub given: Credential<'a>,
    pub given_is_old: bool,
    /// SHA-256 of the old credential's public id, to find it in the provider's list when `given`
    /// is the replacement.
    pub old_id_sha256: Option<&'a str>,
    /// Steps already done (a deactivated AWS key can no longer sign its own deletion).
    pub done: &'a [RetireStep],
    /// A credential that manages the rotated one (a Twilio Main key), when one was named.
    pub manager: Option<Client<'a>>,
    /// The account the credential belongs to (a Twilio account SID).
    pub account: Option<&'a str>,
}

/// How one retirement step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retired {
    Done,
    /// The provider says it was already so (the key is gone, or already inactive).
    AlreadyDone(String),
    /// Not done; a later run tries again.
    Failed(String),
    /// Not possible with the credential given (a deactivated AWS key cannot delete itself).
    NeedsReplacement(String),
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
    /// A provider-specific flavour (Slack: `config-token` for app configuration tokens,
    /// `exchange` for long-lived tokens turned into expiring ones).
    pub mode: Option<&'a str>,
    /// The new credential's expiry, where the provider lets the caller choose (`YYYY-MM-DD`).
    pub expires_at: Option<&'a str>,
    /// How long the old credential lives on (deactivated where the provider can) before it is
    /// deleted, for providers that retire in steps.
    pub delete_after: Option<std::time::Duration>,
    /// A credential that manages the rotated one (a Twilio Main key), when not the credential itself.
    pub manager: Option<Client<'a>>,
    /// The account the credential belongs to (a Twilio account SID).
    pub account: Option<&'a str>,
    /// A name for the new credential, where the provider keeps one.
    pub name: Option<&'a str>,
}

impl<'a> RotateRequest<'a> {
    pub fn new(credential: Credential<'a>) -> RotateRequest<'a> {
        RotateRequest {
            credential,
            client: None,
            mode: None,
            expires_at: None,
            delete_after: None,
            manager: None,
            account: None,
            name: None,
        }
    }
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

    /// Mints a replacement. Depending on the provider this retires the old credential in the same
    /// call (Slack, GitHub and GitLab exchanges), leaves it valid (Google access tokens), or leaves
    /// the retirement to [`Provider::retire`] once the new one is delivered (AWS, Twilio): see
    /// [`Provider::retirement`].
    fn rotate(&self, _cx: &Context, req: &RotateRequest) -> Result<Minted, RotateError> {
        Err(RotateError::Unsupported(format!(
            "keysweep cannot rotate `{}` credentials",
            req.credential.rule_id
        )))
    }

    /// What a rotation of `req` does with the old credential.
    fn retirement(&self, _req: &RotateRequest) -> Retirement {
        Retirement::default()
    }

    /// The requests a rotation of `req` makes, in order, for the plan.
    fn rotation_calls(&self, _req: &RotateRequest) -> Vec<String> {
        let c = self.calls().rotate;
        if c.is_empty() {
            Vec::new()
        } else {
            vec![c.to_string()]
        }
    }

    /// One step of retiring the old credential, after its replacement was delivered. Every step is
    /// safe to repeat: a later run tries again what failed.
    fn retire(&self, _cx: &Context, req: &RetireRequest) -> Retired {
        Retired::Failed(format!(
            "keysweep cannot {} `{}` credentials",
            req.step.as_str(),
            req.given.rule_id
        ))
    }

    /// What a person must do when the secret cannot be revoked by API.
    fn manual_step(&self, cred: &Credential) -> Option<String>;
}
