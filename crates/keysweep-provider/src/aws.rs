//! AWS access keys: `sts:GetCallerIdentity` to verify (it needs no IAM permission), IAM
//! `UpdateAccessKey Status=Inactive` on the key itself to revoke (when the key's own policy allows
//! it), all signed with SigV4 (`aws-sigv4`, no SDK).
//!
//! Rotation is IAM's documented sequence, each step a separate call: `CreateAccessKey` signed with
//! the old key (for the old key's own user), then once the new key is delivered `UpdateAccessKey
//! Status=Inactive` on the old key, and `DeleteAccessKey` after the grace period the user chose
//! (with no grace period, the old key is deleted at once). A later run that finishes a rotation is
//! given the new key; it finds the old one in `ListAccessKeys` by the hash of its id, which is all
//! the journal keeps. When AWS has quarantined a leaked key (its `AWSCompromisedKeyQuarantine`
//! policies deny `iam:CreateAccessKey`), the key cannot rotate itself, and keysweep says so.
//!
//! An access key id encodes its account id, which is decoded offline and reported for every AWS
//! finding. Keys of known canary-token accounts are never sent to AWS: using a canary key is what
//! alerts its owner, so verifying one would tell a stranger that someone found it.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use keysweep_core::finding::{Status, Verification};

use crate::adapter::{
    Calls, Capabilities, Credential, Minted, Provider, RetireRequest, RetireStep, Retired,
    Retirement, Revoked, RotateError, RotateRequest,
};
use crate::http::Response;
use crate::{Context, code, failed, short};

pub struct Aws;

const STS: &str = "https://sts.amazonaws.com";
const IAM: &str = "https://iam.amazonaws.com";
const REGION: &str = "us-east-1";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// Canary-token accounts documented in public sources: 992382622183 is the account of
/// canarytokens.org's AWS keys (its ARNs read `arn:aws:iam::992382622183:user/canarytokens.com@@...`
/// in public honeytoken-detection write-ups), and 595918472158 is decoded from the canarytokens.org
/// key prefix `AKIAYVP4CIPP` published in a write-up of the service. Others can be added with
/// `--canary-account` or `KEYSWEEP_CANARY_ACCOUNTS`.
pub const KNOWN_CANARY_ACCOUNTS: &[&str] = &["992382622183", "595918472158"];

/// AWS accounts keysweep never calls AWS about, and whether that rule is on.
#[derive(Debug, Clone)]
pub struct Canaries {
    pub accounts: Vec<String>,
    /// Off only with `--verify-canaries`.
    pub skip: bool,
}

impl Default for Canaries {
    fn default() -> Canaries {
        Canaries {
            accounts: KNOWN_CANARY_ACCOUNTS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            skip: true,
        }
    }
}

impl Canaries {
    /// The built-in list plus `extra` (12-digit account ids; anything else is an error).
    pub fn with(extra: &[String], verify_canaries: bool) -> Result<Canaries, String> {
        let mut c = Canaries::default();
        for item in extra.iter().flat_map(|s| s.split([',', ' '])) {
            let id = item.trim();
            if id.is_empty() {
                continue;
            }
            if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "canary account {id:?}: an AWS account id is 12 digits"
                ));
            }
            if !c.accounts.iter().any(|a| a == id) {
                c.accounts.push(id.to_string());
            }
        }
        c.skip = !verify_canaries;
        Ok(c)
    }

    fn is_canary(&self, account: &str) -> bool {
        self.skip && self.accounts.iter().any(|a| a == account)
    }
}

/// The account id encoded in an access key id, or `None` for ids that predate the encoding (their
/// fifth character is below `Q`) or are not key ids. The 16 characters after the prefix are base32;
/// the account is bits 1..40 of the first six decoded bytes, shifted right by 7.
pub fn account_id(key_id: &str) -> Option<String> {
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let body = key_id.get(4..)?.as_bytes();
    if key_id.len() != 20 {
        return None;
    }
    let mut bits: u128 = 0;
    for &c in body {
        bits = (bits << 5) | B32.iter().position(|&b| b == c)? as u128;
    }
    // 16 characters are 80 bits; the first 48 hold the account.
    let z = (bits >> 32) as u64;
    if z >> 47 == 0 {
        return None;
    }
    let account = (z & 0x7fff_ffff_ff80) >> 7;
    Some(format!("{account:012}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `aws-access-key`: a key id with its secret key (the pair).
    Pair,
    /// A key id alone: its account is known offline, nothing can be asked.
    KeyId,
    /// A secret key alone: nothing to sign with.
    Secret,
}

fn kind(cred: &Credential) -> Kind {
    match cred.rule_id {
        "aws-secret-access-key" => Kind::Secret,
        _ if cred.pair.is_some_and(|p| !p.is_empty()) => Kind::Pair,
        _ => Kind::KeyId,
    }
}

/// Long-term user keys; temporary `ASIA` keys need their session token, which is never found next to
/// them reliably.
fn long_term(key_id: &str) -> bool {
    key_id.starts_with("AKIA")
}

impl Provider for Aws {
    fn name(&self) -> &'static str {
        "aws"
    }

    fn default_base(&self) -> &'static str {
        STS
    }

    fn supports(&self, rule_id: &str) -> Capabilities {
        let pair = rule_id == "aws-access-key";
        Capabilities {
            verify: pair,
            revoke: pair,
            rotate: pair,
        }
    }

    fn calls(&self) -> Calls {
        Calls {
            verify: "POST sts.amazonaws.com Action=GetCallerIdentity (SigV4), except canary-token accounts",
            revoke: "POST iam.amazonaws.com Action=UpdateAccessKey Status=Inactive (SigV4; if the key may)",
            rotate: "POST iam.amazonaws.com Action=CreateAccessKey, then UpdateAccessKey Status=Inactive and DeleteAccessKey on the old key after --delete-after (SigV4; later runs: ListAccessKeys)",
        }
    }

    fn capabilities(&self, cred: &Credential) -> Capabilities {
        let signable = kind(cred) == Kind::Pair && long_term(cred.secret);
        Capabilities {
            verify: signable,
            revoke: signable,
            rotate: signable,
        }
    }

    fn rotate(&self, cx: &Context, req: &RotateRequest) -> Result<Minted, RotateError> {
        let c = &req.credential;
        let (Kind::Pair, Some(secret)) = (kind(c), c.pair) else {
            return Err(RotateError::Unsupported(
                "rotating an AWS access key needs its id and its secret access key".into(),
            ));
        };
        if !long_term(c.secret) {
            return Err(RotateError::Unsupported(
                "only long-term access keys (AKIA) can be rotated; temporary credentials expire \
                 on their own"
                    .into(),
            ));
        }
        if account_id(c.secret).is_some_and(|a| cx.canaries.is_canary(&a)) {
            return Err(RotateError::Refused(
                "a canary-token account: not sent to AWS".into(),
            ));
        }
        let resp = call_once(
            cx,
            "iam",
            c.secret,
            secret,
            "Action=CreateAccessKey&Version=2010-05-08",
        )
        .map_err(|f| match f {
            // Nothing was sent.
            crate::Failure::Network(SIGNING_FAILED) => {
                RotateError::Refused(format!("AWS CreateAccessKey: {f}"))
            }
            f => crate::minted::lost("AWS CreateAccessKey", &f),
        })?;
        if resp.status != 200 {
            let said = error_code(&resp);
            let why = match said.as_deref() {
                Some("AccessDenied") if quarantined(&resp) => QUARANTINED.to_string(),
                Some("AccessDenied") => "AccessDenied: the key may not create access keys for \
                     its own user (iam:CreateAccessKey); if AWS quarantined it \
                     (AWSCompromisedKeyQuarantine policies), it never will: an administrator \
                     creates the new key"
                    .to_string(),
                Some("LimitExceeded") => "LimitExceeded: the user already has two access keys, \
                     AWS's limit; delete the one that is not in use, then rerun"
                    .to_string(),
                Some("InvalidClientTokenId") => {
                    "InvalidClientTokenId: AWS does not know this key (deleted, or never \
                     existed)"
                        .to_string()
                }
                Some("SignatureDoesNotMatch") => {
                    "SignatureDoesNotMatch: the secret access key is not this key's".to_string()
                }
                Some(other) => other.to_string(),
                None => format!("HTTP {}", resp.status),
            };
            // AWS answers a refused request with a 4xx and processes nothing; a 5xx may come after
            // the key was made.
            return Err(if resp.status < 500 {
                RotateError::Refused(format!("AWS CreateAccessKey: {why}"))
            } else {
                RotateError::Unknown(format!("AWS CreateAccessKey: {why}"))
            });
        }
        let text = String::from_utf8_lossy(&resp.body);
        let field = |k: &str| {
            tag(&text, k).filter(|v| {
                !v.is_empty()
                    && v.len() <= 128
                    && !v.contains(|ch: char| ch.is_whitespace() || ch == '<')
            })
        };
        let (Some(new_id), Some(new_secret)) = (field("AccessKeyId"), field("SecretAccessKey"))
        else {
            return Err(RotateError::Unknown(
                "AWS CreateAccessKey: the answer lacks the new key".into(),
            ));
        };
        let user = field("UserName")
            .map(|u| short(&crate::scrub(&u, &[c.secret, secret, &new_secret]), 64));
        Ok(Minted {
            payload: serde_json::json!({
                "provider": "aws",
                "kind": "access_key",
                "access_key_id": new_id,
                "secret_access_key": new_secret,
                "user_name": user,
                "create_date": field("CreateDate"),
            }),
            secrets: vec![new_id.clone(), new_secret],
            summary: format!(
                "new AWS access key {}{}",
                keysweep_core::finding::redact(&new_id),
                user.map(|u| format!(" for user {u}")).unwrap_or_default()
            ),
        })
    }

    fn retirement(&self, req: &RotateRequest) -> Retirement {
        let grace = req.delete_after.unwrap_or_default();
        Retirement {
            steps: if grace.is_zero() {
                vec![(RetireStep::Delete, Duration::ZERO)]
            } else {
                vec![
                    (RetireStep::Deactivate, Duration::ZERO),
                    (RetireStep::Delete, grace),
                ]
            },
            old_id: Some(req.credential.secret.to_string()),
            keeps_old: false,
        }
    }

    fn rotation_calls(&self, req: &RotateRequest) -> Vec<String> {
        let mut calls = vec![
            "POST iam.amazonaws.com Action=CreateAccessKey, signed with the key \
             (for its own user)"
                .to_string(),
        ];
        match req.delete_after.filter(|d| !d.is_zero()) {
            None => calls.push(
                "once the new key is delivered: DeleteAccessKey on the old key (no grace period)"
                    .into(),
            ),
            Some(d) => {
                calls.push(
                    "once the new key is delivered: UpdateAccessKey Status=Inactive on the old \
                     key (reversible in the IAM console)"
                        .into(),
                );
                calls.push(format!(
                    "{} later, in a run given the new key: ListAccessKeys, then DeleteAccessKey \
                     on the old key unless it was made active again",
                    crate::duration_words(d)
                ));
            }
        }
        calls
    }

    fn retire(&self, cx: &Context, req: &RetireRequest) -> Retired {
        let g = &req.given;
        let (Kind::Pair, Some(secret)) = (kind(g), g.pair) else {
            return Retired::Failed("no secret access key to sign with".into());
        };
        if req.given_is_old {
            if req.step == RetireStep::Delete && req.done.contains(&RetireStep::Deactivate) {
                return Retired::NeedsReplacement(
                    "the old AWS key is deactivated and can no longer sign its own deletion: run \
                     `keysweep rotate aws` with the new key (the one delivered) to delete it"
                        .into(),
                );
            }
            return manage(cx, req.step, g.secret, secret, g.secret);
        }
        // Given the replacement: find the old key among its user's keys by the hash of its id.
        let Some(want) = req.old_id_sha256 else {
            return Retired::Failed("the journal does not say which key was replaced".into());
        };
        let resp = match call(
            cx,
            cx.base("aws", IAM),
            "iam",
            g.secret,
            secret,
            "Action=ListAccessKeys&Version=2010-05-08",
        ) {
            Ok(r) => r,
            Err(f) => return Retired::Failed(format!("AWS ListAccessKeys: {f}")),
        };
        if resp.status != 200 {
            return Retired::Failed(format!(
                "AWS ListAccessKeys: {} (the new key must be allowed iam:ListAccessKeys on its \
                 own user)",
                error_code(&resp).unwrap_or_else(|| format!("HTTP {}", resp.status))
            ));
        }
        let text = String::from_utf8_lossy(&resp.body);
        let old = members(&text).into_iter().find_map(|m| {
            let id = tag(m, "AccessKeyId")?;
            (keysweep_core::finding::sha256_hex(id.as_bytes()) == want)
                .then(|| (id, tag(m, "Status").unwrap_or_default()))
        });
        let Some((old_id, status)) = old else {
            return Retired::AlreadyDone("the old key is no longer listed for its user".into());
        };
        match req.step {
            RetireStep::Deactivate if status == "Inactive" => {
                Retired::AlreadyDone("already inactive".into())
            }
            RetireStep::Delete
                if status == "Active" && req.done.contains(&RetireStep::Deactivate) =>
            {
                Retired::Failed(
                    "the old key was made active again during its grace period, so it is not \
                     deleted (something may still use it): delete it in the IAM console once \
                     nothing does"
                        .into(),
                )
            }
            step => manage(cx, step, g.secret, secret, &old_id),
        }
    }

    fn verify(&self, cx: &Context, cred: &Credential) -> Verification {
        if kind(cred) == Kind::Secret {
            return Verification::with_detail(
                Status::NotChecked,
                "a secret access key alone cannot be checked: its access key id was not found next to it",
            );
        }
        let account = account_id(cred.secret);
        let offline = |detail: String| Verification {
            identity: account
                .as_ref()
                .map(|a| format!("account {a} (decoded from the key id)")),
            ..Verification::with_detail(Status::NotChecked, detail)
        };
        if let Some(a) = &account
            && cx.canaries.is_canary(a)
        {
            return offline(format!(
                "account {a} is a known canary-token account: not sent to AWS (using the key would \
                 alert its owner; --verify-canaries to check it anyway)"
            ));
        }
        match kind(cred) {
            Kind::KeyId => {
                return offline(
                    "no secret access key found next to it: nothing to sign with".into(),
                );
            }
            _ if !long_term(cred.secret) => {
                return offline(
                    "temporary or special-purpose key (not AKIA): checking it needs its session \
                     token"
                        .into(),
                );
            }
            _ => {}
        }
        let Some(secret) = cred.pair else {
            return offline("no secret access key".into());
        };
        let body = "Action=GetCallerIdentity&Version=2011-06-15";
        let base = cx.base("aws", STS);
        let mut resp = call(cx, base, "sts", cred.secret, secret, body);
        // AWS may refuse a second signature with the same key id within a few seconds as
        // SignatureDoesNotMatch (observed behaviour): one retry after a pause.
        if let Ok(r) = &resp
            && error_code(r).as_deref() == Some("SignatureDoesNotMatch")
        {
            cx.http.clock().sleep(Duration::from_secs(5));
            resp = call(cx, base, "sts", cred.secret, secret, body);
        }
        let resp = match resp {
            Ok(r) => r,
            Err(f) => return failed(&f),
        };
        let scrub = |t: &str| short(&crate::scrub(t, &[cred.secret, secret]), 160);
        if resp.status == 200 {
            let text = String::from_utf8_lossy(&resp.body);
            let Some(arn) = tag(&text, "Arn") else {
                return Verification::with_detail(Status::Error, "malformed response");
            };
            let acct = tag(&text, "Account").or(account);
            return Verification {
                identity: Some(match acct {
                    Some(a) => format!("{} (account {})", scrub(&arn), scrub(&a)),
                    None => scrub(&arn),
                }),
                ..Verification::new(Status::Live)
            };
        }
        let said = error_code(&resp);
        let status = match said.as_deref() {
            Some("InvalidClientTokenId") => Status::Invalid,
            Some("ExpiredToken") => Status::Expired,
            // The key id exists, but the secret next to it is not its secret.
            Some("SignatureDoesNotMatch") => Status::Invalid,
            _ => Status::Unknown,
        };
        let mut detail = said.unwrap_or_else(|| format!("HTTP {}", resp.status));
        if detail == "SignatureDoesNotMatch" {
            detail.push_str(": the secret key found next to the key id is not its secret");
        }
        let mut v = Verification::with_detail(status, detail);
        if status != Status::Unknown {
            v.identity = account.map(|a| format!("account {a} (decoded from the key id)"));
        }
        v
    }

    /// Deactivates the key with itself (`UpdateAccessKey Status=Inactive`, reversible by the owner);
    /// AWS allows it when the key's own policy grants `iam:UpdateAccessKey` on it.
    fn revoke(&self, cx: &Context, creds: &[Credential]) -> Vec<Revoked> {
        creds
            .iter()
            .map(|c| {
                let (Kind::Pair, Some(secret)) = (kind(c), c.pair) else {
                    return Revoked::Failed(self.manual_step(c).unwrap_or_default());
                };
                if !long_term(c.secret) {
                    return Revoked::Failed(self.manual_step(c).unwrap_or_default());
                }
                if account_id(c.secret).is_some_and(|a| cx.canaries.is_canary(&a)) {
                    return Revoked::Failed("a canary-token account: not sent to AWS".into());
                }
                let body = format!(
                    "Action=UpdateAccessKey&Version=2010-05-08&AccessKeyId={}&Status=Inactive",
                    c.secret
                );
                match call(cx, cx.base("aws", IAM), "iam", c.secret, secret, &body) {
                    Ok(r) if r.status == 200 => Revoked::Revoked,
                    Ok(r) => match error_code(&r).as_deref() {
                        Some("InvalidClientTokenId") => {
                            Revoked::AlreadyDead("InvalidClientTokenId".into())
                        }
                        Some("AccessDenied") => Revoked::Failed(
                            "AccessDenied: the key may not deactivate itself (no \
                             iam:UpdateAccessKey on its own user); deactivate it in the IAM \
                             console or with the account's admin credentials"
                                .into(),
                        ),
                        Some(other) => Revoked::Failed(other.to_string()),
                        None => Revoked::Failed(format!("HTTP {}", r.status)),
                    },
                    Err(f) => Revoked::Failed(f.to_string()),
                }
            })
            .collect()
    }

    fn manual_step(&self, cred: &Credential) -> Option<String> {
        if self.capabilities(cred).revoke {
            return None;
        }
        Some(
            "deactivate and delete the access key in the IAM console (temporary ASIA credentials: \
             revoke the role's active sessions), then review CloudTrail"
                .to_string(),
        )
    }
}

const SIGNING_FAILED: &str = "request signing failed";

const QUARANTINED: &str = "AWS has quarantined this key: the AWSCompromisedKeyQuarantine \
    policy attached to its user denies iam:CreateAccessKey, so the key cannot rotate itself. An \
    administrator creates the replacement (and reviews CloudTrail before detaching the policy)";

/// Whether an AccessDenied answer names one of AWS's compromised-key quarantine policies (AWS
/// names the policy behind an explicit deny). The message itself is never repeated.
fn quarantined(r: &Response) -> bool {
    String::from_utf8_lossy(&r.body).contains("AWSCompromisedKeyQuarantine")
}

/// `UpdateAccessKey Status=Inactive` or `DeleteAccessKey` on `target`, signed with `key_id`.
fn manage(cx: &Context, step: RetireStep, key_id: &str, secret: &str, target: &str) -> Retired {
    let (action, extra) = match step {
        RetireStep::Deactivate => ("UpdateAccessKey", "&Status=Inactive"),
        RetireStep::Delete => ("DeleteAccessKey", ""),
    };
    // Key ids are [A-Z0-9]; anything else did not come from AWS or the rule's shape.
    if !target.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Retired::Failed(format!("AWS {action}: not an access key id"));
    }
    let body = format!("Action={action}&Version=2010-05-08&AccessKeyId={target}{extra}");
    let resp = match call(cx, cx.base("aws", IAM), "iam", key_id, secret, &body) {
        Ok(r) => r,
        Err(f) => return Retired::Failed(format!("AWS {action}: {f}")),
    };
    if resp.status == 200 {
        return Retired::Done;
    }
    match error_code(&resp).as_deref() {
        Some("NoSuchEntity") => Retired::AlreadyDone("NoSuchEntity: the key is gone".into()),
        Some("AccessDenied") if quarantined(&resp) => Retired::Failed(format!(
            "AWS {action}: AccessDenied by AWS's compromised-key quarantine policy; an \
             administrator must {} the old key",
            step.as_str()
        )),
        Some("AccessDenied") => Retired::Failed(format!(
            "AWS {action}: AccessDenied (the key may not manage its user's keys); {} the old key \
             in the IAM console",
            step.as_str()
        )),
        Some("InvalidClientTokenId") => Retired::NeedsReplacement(format!(
            "AWS {action}: InvalidClientTokenId: the key this run was given can no longer sign \
             (deactivated or deleted): run with the new key"
        )),
        Some(other) => Retired::Failed(format!("AWS {action}: {other}")),
        None => Retired::Failed(format!("AWS {action}: HTTP {}", resp.status)),
    }
}

/// The `<member>` elements of a list answer.
fn members(xml: &str) -> Vec<&str> {
    xml.split("<member>")
        .skip(1)
        .filter_map(|m| m.split("</member>").next())
        .collect()
}

/// A minting call of the IAM query API: sent once, never retried (see `Http::send_once`).
fn call_once(
    cx: &Context,
    service: &str,
    key_id: &str,
    secret: &str,
    body: &str,
) -> Result<Response, crate::Failure> {
    signed_post(cx, cx.base("aws", IAM), service, key_id, secret, body, true)
}

/// One signed form POST of the query API.
fn call(
    cx: &Context,
    base: &str,
    service: &str,
    key_id: &str,
    secret: &str,
    body: &str,
) -> Result<Response, crate::Failure> {
    signed_post(cx, base, service, key_id, secret, body, false)
}

fn signed_post(
    cx: &Context,
    base: &str,
    service: &str,
    key_id: &str,
    secret: &str,
    body: &str,
    once: bool,
) -> Result<Response, crate::Failure> {
    let url = format!("{base}/");
    let headers = signature(&url, service, key_id, secret, body)
        .map_err(|_| crate::Failure::Network(SIGNING_FAILED))?;
    let build = |c: &reqwest::blocking::Client| {
        let mut req = c
            .post(&url)
            .header("content-type", FORM)
            .body(body.to_string());
        for (k, v) in &headers {
            req = req.header(k.as_str(), v.as_str());
        }
        req
    };
    if once {
        cx.http.send_once("aws", build)
    } else {
        cx.http.send("aws", build)
    }
}

/// The SigV4 headers (`authorization`, `x-amz-date`) for a form POST to `url`.
fn signature(
    url: &str,
    service: &str,
    key_id: &str,
    secret: &str,
    body: &str,
) -> Result<Vec<(String, String)>, String> {
    let identity: Identity = Credentials::new(key_id, secret, None, None, "keysweep").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|_| "signing parameters")?
        .into();
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| u.port().map_or(h.to_string(), |p| format!("{h}:{p}")))
        })
        .ok_or("no host")?;
    let signable = SignableRequest::new(
        "POST",
        url,
        [("host", host.as_str()), ("content-type", FORM)].into_iter(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(|_| "signable request")?;
    let (instructions, _) = sign(signable, &params).map_err(|_| "signing")?.into_parts();
    Ok(instructions
        .headers()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// The text of the first `<name>...</name>` element (AWS query API answers are small XML).
fn tag(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].trim().to_string())
}

/// The `<Code>` of an AWS error answer, if it is a plain code.
fn error_code(r: &Response) -> Option<String> {
    tag(&String::from_utf8_lossy(&r.body), "Code").and_then(|c| code(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_decode_offline() {
        // Published decodings of AWS key ids (key-id format write-ups).
        assert_eq!(
            account_id(&["ASIA", "Y34FZKBOKMUTVV7A"].concat()).unwrap(),
            "609629065308"
        );
        assert_eq!(
            account_id(&["AKIA", "RZPUZDIKGB2VALC4"].concat()).unwrap(),
            "123456789012"
        );
        assert_eq!(
            account_id(&["AKIA", "6RVFFB77RE7OLMKI"].concat()).unwrap(),
            "999999999999"
        );
        assert_eq!(
            account_id(&["ASIA", "QNZGKIQY56JQ7WML"].concat()).unwrap(),
            "029608264753"
        );
        // Old-format ids carry no account; junk is not decoded.
        assert_eq!(account_id(&["AKIA", "IOSFODNN7EXAMPLE"].concat()), None);
        assert_eq!(account_id("AKIA1"), None);
        assert_eq!(account_id(&["AKIA", "rzpuzdikgb2valc4"].concat()), None);
    }

    #[test]
    fn canary_list_is_overridable() {
        let c = Canaries::with(&["111122223333, 444455556666".into()], false).unwrap();
        assert!(c.is_canary("111122223333") && c.is_canary("444455556666"));
        assert!(c.is_canary(KNOWN_CANARY_ACCOUNTS[0]));
        let off = Canaries::with(&[], true).unwrap();
        assert!(!off.is_canary(KNOWN_CANARY_ACCOUNTS[0]));
        assert!(Canaries::with(&["12345".into()], false).is_err());
    }

    #[test]
    fn xml_fields() {
        let xml = "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/Alice</Arn><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>";
        assert_eq!(
            tag(xml, "Arn").unwrap(),
            "arn:aws:iam::123456789012:user/Alice"
        );
        assert_eq!(tag(xml, "Code"), None);
    }

    #[test]
    fn signature_has_the_sigv4_shape() {
        let h = signature(
            "https://sts.amazonaws.com/",
            "sts",
            &["AKIA", "RZPUZDIKGB2VALC4"].concat(),
            "0123456789012345678901234567890123456789",
            "Action=GetCallerIdentity&Version=2011-06-15",
        )
        .unwrap();
        let auth = &h.iter().find(|(k, _)| k == "authorization").unwrap().1;
        let expected = ["AWS4-HMAC-SHA256 Credential=", "AKIA", "RZPUZDIKGB2VALC4/"].concat();
        assert!(auth.starts_with(&expected), "{auth}");
        assert!(auth.contains("/us-east-1/sts/aws4_request"));
        assert!(auth.contains("SignedHeaders=content-type;host;x-amz-date"));
        assert!(h.iter().any(|(k, _)| k == "x-amz-date"));
    }
}
