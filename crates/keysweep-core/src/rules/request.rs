//! Declarative provider requests: a rule of the embedded pack may describe its provider's read-only
//! verification call and its revocation call as data, when each is one HTTP request. This module only
//! parses and checks them; the provider crate sends them.
//!
//! Templates may name `{secret}` and `{pair}` (the companion secret); nothing else is substituted
//! (other braces, as in a GraphQL query, are literal). A request that names `{pair}` is sent only
//! when the finding has its companion. The URL is always one of the provider's compiled-in hosts (or
//! the user's `--endpoint` override) followed by `path`: a rule cannot name a host.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::finding::Status;

/// `[rule.verify]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySpec {
    #[serde(flatten)]
    pub request: RequestFields,
    /// Statuses that mean the credential works.
    pub live: Vec<u16>,
    /// Statuses that mean the credential is not accepted (invalid, revoked or expired: the provider
    /// does not say which).
    #[serde(default)]
    pub invalid: Vec<u16>,
    #[serde(default)]
    pub revoked: Vec<u16>,
    #[serde(default)]
    pub expired: Vec<u16>,
    /// Statuses that mean the credential works but may not make this call (a restricted key).
    #[serde(default)]
    pub restricted: Vec<u16>,
    /// A JSON pointer that must be `true` in a live answer (APIs that answer 200 to everything).
    #[serde(default)]
    pub ok: Option<String>,
    /// JSON pointers whose values, joined, name who the credential belongs to.
    #[serde(default)]
    pub identity: Vec<String>,
    /// Where the scopes are: a JSON pointer (array, or a space/comma separated string), or
    /// `header:NAME` for a comma-separated header.
    #[serde(default)]
    pub scopes: Option<String>,
    /// A JSON pointer to the expiry: an RFC 3339 date, a `YYYY-MM-DD` date or Unix seconds; `null`
    /// means "never" when `null_means_never` is set.
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub null_means_never: bool,
    /// A JSON pointer to the provider's own code for the answer (`/error/code`), shown as `detail`
    /// when it is short and plain.
    #[serde(default)]
    pub detail: Option<String>,
    /// What a code at `detail` means, overriding the status: `{ api_key_expired = "expired" }`.
    /// Values: live, invalid, revoked, expired, unknown.
    #[serde(default)]
    pub codes: BTreeMap<String, String>,
}

/// `[rule.revoke]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeSpec {
    #[serde(flatten)]
    pub request: RequestFields,
    /// Statuses that mean the credential is now revoked.
    #[serde(default)]
    pub revoked: Vec<u16>,
    /// Statuses that mean the request was accepted and will be processed (confirm by verifying).
    #[serde(default)]
    pub requested: Vec<u16>,
    /// Statuses that mean the credential was already dead.
    #[serde(default)]
    pub already_dead: Vec<u16>,
}

/// The request itself, shared by both tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestFields {
    pub method: String,
    /// Appended to the provider's base URL; `{secret}` and `{pair}` are percent-encoded.
    pub path: String,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// HTTP Basic credentials: `[user, password]` templates.
    #[serde(default)]
    pub basic: Option<[String; 2]>,
    /// A JSON body; string values are templates.
    #[serde(default)]
    pub json: Option<serde_json::Value>,
    /// A form body (`application/x-www-form-urlencoded`).
    #[serde(default)]
    pub form: BTreeMap<String, String>,
    /// One of the provider's `[api] hosts`, instead of its `base`.
    #[serde(default)]
    pub host: Option<String>,
    /// Prefixes of the secrets this request is for (a rule whose kinds differ); others are not sent.
    #[serde(default)]
    pub applies_to: Vec<String>,
}

/// A checked request with its answer mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSpec {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub basic: Option<(String, String)>,
    pub json: Option<serde_json::Value>,
    pub form: Vec<(String, String)>,
    pub host: Option<String>,
    pub applies_to: Vec<String>,
    pub answers: Answers,
}

impl RequestSpec {
    /// Whether any template names `{pair}`: then the request needs the finding's companion.
    pub fn needs_pair(&self) -> bool {
        let mut all = vec![self.path.as_str()];
        all.extend(self.query.iter().map(|(_, v)| v.as_str()));
        all.extend(self.headers.iter().map(|(_, v)| v.as_str()));
        all.extend(self.form.iter().map(|(_, v)| v.as_str()));
        if let Some((u, p)) = &self.basic {
            all.push(u);
            all.push(p);
        }
        let mut json = Vec::new();
        if let Some(j) = &self.json {
            json_templates(j, &mut json);
        }
        all.iter()
            .copied()
            .chain(json.iter().map(String::as_str))
            .any(|t| t.contains("{pair}"))
    }

    /// Whether this request is meant for `secret` (its `applies_to` prefixes).
    pub fn applies_to(&self, secret: &str) -> bool {
        self.applies_to.is_empty() || self.applies_to.iter().any(|p| secret.starts_with(p))
    }

    /// `METHOD /path` for documentation (`keysweep providers`).
    pub fn describe(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// What an answer means.
// One per rule, built once when the pack loads: the size of the larger variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Answers {
    Verify {
        live: Vec<u16>,
        invalid: Vec<u16>,
        revoked: Vec<u16>,
        expired: Vec<u16>,
        restricted: Vec<u16>,
        ok: Option<String>,
        identity: Vec<String>,
        scopes: Option<Scopes>,
        expires_at: Option<String>,
        null_means_never: bool,
        detail: Option<String>,
        codes: Vec<(String, Status)>,
    },
    Revoke {
        revoked: Vec<u16>,
        requested: Vec<u16>,
        already_dead: Vec<u16>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scopes {
    Pointer(String),
    Header(String),
}

impl VerifySpec {
    pub fn compile(&self) -> Result<RequestSpec, String> {
        if self.live.is_empty() {
            return Err("`live` needs at least one status".into());
        }
        for p in self
            .identity
            .iter()
            .chain(self.ok.iter())
            .chain(self.expires_at.iter())
            .chain(self.detail.iter())
        {
            pointer(p)?;
        }
        if !self.codes.is_empty() && self.detail.is_none() {
            return Err("`codes` needs `detail` (where the code is)".into());
        }
        let codes = self
            .codes
            .iter()
            .map(|(k, v)| {
                let st = match v.as_str() {
                    "live" => Status::Live,
                    "invalid" => Status::Invalid,
                    "revoked" => Status::Revoked,
                    "expired" => Status::Expired,
                    "unknown" => Status::Unknown,
                    other => return Err(format!("`codes.{k}`: unknown status {other:?}")),
                };
                Ok((k.clone(), st))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let scopes = match self.scopes.as_deref() {
            None => None,
            Some(s) => Some(match s.strip_prefix("header:") {
                Some(h) if !h.is_empty() => Scopes::Header(h.to_ascii_lowercase()),
                Some(_) => return Err("`scopes = \"header:\"` needs a header name".into()),
                None => Scopes::Pointer(pointer(s)?.to_string()),
            }),
        };
        let answers = Answers::Verify {
            live: self.live.clone(),
            invalid: self.invalid.clone(),
            revoked: self.revoked.clone(),
            expired: self.expired.clone(),
            restricted: self.restricted.clone(),
            ok: self.ok.clone(),
            identity: self.identity.clone(),
            scopes,
            expires_at: self.expires_at.clone(),
            null_means_never: self.null_means_never,
            detail: self.detail.clone(),
            codes,
        };
        let method = self.request.method()?;
        if method != Method::Get && method != Method::Post {
            return Err("a verification request must be GET or POST (read-only)".into());
        }
        self.request.compile(answers)
    }
}

impl RevokeSpec {
    pub fn compile(&self) -> Result<RequestSpec, String> {
        if self.revoked.is_empty() && self.requested.is_empty() {
            return Err("`revoked` or `requested` needs at least one status".into());
        }
        self.request.compile(Answers::Revoke {
            revoked: self.revoked.clone(),
            requested: self.requested.clone(),
            already_dead: self.already_dead.clone(),
        })
    }
}

fn pointer(p: &str) -> Result<&str, String> {
    if p.starts_with('/') {
        Ok(p)
    } else {
        Err(format!("JSON pointer {p:?} must start with `/`"))
    }
}

/// Checks that a template names only `{secret}` and `{pair}`. A placeholder is a brace around a
/// lowercase name; other braces (a GraphQL query's) are literal text.
fn template(t: &str) -> Result<(), String> {
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let name_len = after
            .bytes()
            .take_while(|b| b.is_ascii_lowercase() || *b == b'_')
            .count();
        if name_len > 0 && after.as_bytes().get(name_len) == Some(&b'}') {
            match &after[..name_len] {
                "secret" | "pair" => {}
                other => {
                    return Err(format!("unknown placeholder {{{other}}} in template {t:?}"));
                }
            }
        }
        rest = after;
    }
    Ok(())
}

fn json_templates(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|v| json_templates(v, out)),
        serde_json::Value::Object(o) => o.values().for_each(|v| json_templates(v, out)),
        _ => {}
    }
}

impl RequestFields {
    fn method(&self) -> Result<Method, String> {
        Ok(match self.method.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            other => return Err(format!("unsupported method {other:?}")),
        })
    }

    fn compile(&self, answers: Answers) -> Result<RequestSpec, String> {
        if !self.path.starts_with('/') || self.path.contains("://") || self.path.contains('#') {
            return Err("`path` must start with `/` and name no host".into());
        }
        let mut all: Vec<String> = vec![self.path.clone()];
        all.extend(self.query.values().cloned());
        all.extend(self.headers.values().cloned());
        all.extend(self.form.values().cloned());
        if let Some([u, p]) = &self.basic {
            all.push(u.clone());
            all.push(p.clone());
        }
        if let Some(j) = &self.json {
            json_templates(j, &mut all);
        }
        for t in &all {
            template(t)?;
        }
        if !all.iter().any(|t| t.contains("{secret}")) {
            return Err("the request never carries `{secret}`".into());
        }
        if self.json.is_some() && !self.form.is_empty() {
            return Err("a request has a `json` or a `form` body, not both".into());
        }
        for name in self.headers.keys() {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(format!("bad header name {name:?}"));
            }
        }
        Ok(RequestSpec {
            method: self.method()?,
            path: self.path.clone(),
            query: self.query.clone().into_iter().collect(),
            headers: self.headers.clone().into_iter().collect(),
            basic: self.basic.clone().map(|[u, p]| (u, p)),
            json: self.json.clone(),
            form: self.form.clone().into_iter().collect(),
            host: self.host.clone(),
            applies_to: self.applies_to.clone(),
            answers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verify(toml: &str) -> Result<RequestSpec, String> {
        toml::from_str::<VerifySpec>(toml)
            .map_err(|e| e.to_string())?
            .compile()
    }

    #[test]
    fn a_request_must_carry_the_secret_and_name_no_host() {
        assert!(
            verify(
                "method='GET'\npath='/me'\nheaders={Authorization='Bearer {secret}'}\nlive=[200]"
            )
            .is_ok()
        );
        assert!(verify("method='GET'\npath='/me'\nlive=[200]").is_err());
        assert!(
            verify("method='GET'\npath='https://evil.example/x?{secret}'\nlive=[200]").is_err()
        );
        assert!(verify("method='GET'\npath='/x/{secret}/{host}'\nlive=[200]").is_err());
        assert!(verify("method='DELETE'\npath='/x/{secret}'\nlive=[200]").is_err());
        assert!(verify("method='GET'\npath='/x/{secret}'\nlive=[]").is_err());
    }

    #[test]
    fn graphql_braces_are_text_and_pairs_are_noticed() {
        let q = verify(
            "method='POST'\npath='/graphql'\nheaders={Authorization='{secret}'}\njson={query='{ viewer { id } }'}\nlive=[200]",
        )
        .unwrap();
        assert!(!q.needs_pair());
        let p =
            verify("method='GET'\npath='/a/{pair}.json'\nbasic=['{pair}','{secret}']\nlive=[200]")
                .unwrap();
        assert!(p.needs_pair());
        assert!(
            verify("method='GET'\npath='/x'\nheaders={A='{secret}'}\ndetail='/code'\ncodes={x='gone'}\nlive=[200]")
                .is_err()
        );
        let scoped = verify(
            "method='GET'\npath='/x'\nheaders={A='{secret}'}\napplies_to=['tskey-api-']\nlive=[200]",
        )
        .unwrap();
        assert!(scoped.applies_to(&["tskey-api-", "abc"].concat()));
        assert!(!scoped.applies_to(&["tskey-client-", "abc"].concat()));
    }
}
