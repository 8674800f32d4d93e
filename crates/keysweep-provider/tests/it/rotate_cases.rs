//! Rotation, provider by provider, through the engine (journal, recovery file, sink, retirement
//! steps) against fakes that answer as each provider documents: Slack's `oauth.v2.exchange`,
//! GitHub's refresh of App user tokens, Google's token refresh, AWS IAM's access-key calls and
//! Twilio's Key resource. Each multi-step flow is also broken between "new secret minted" and "old
//! secret retired" (a dropped connection, a failing sink, a journal that ends after `minted`), and
//! the next run must finish it without minting twice and without losing the new secret.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keysweep_core::finding::sha256_hex;
use keysweep_provider::action::journal;
use keysweep_provider::action::rotate::{self, Adapter, Ended, Job, Options};
use keysweep_provider::action::sink::{self, Sink};
use keysweep_provider::{Client, Context, Credential, Provider, RotateRequest, registry};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::fake::{Fake, FakeClock, Reply, Req, context, policy};
use crate::tokens::{example, github_token};

/// A journal, a recovery directory and a file sink in a temporary directory.
struct Bench {
    _dir: tempfile::TempDir,
    journal: PathBuf,
    target: PathBuf,
}

impl Bench {
    fn new() -> Bench {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("state").join("journal.jsonl");
        let target = dir.path().join("delivered.json");
        Bench {
            _dir: dir,
            journal,
            target,
        }
    }

    fn sink(&self) -> Sink {
        Sink::File(self.target.clone())
    }

    fn delivered(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(&self.target).unwrap()).unwrap()
    }

    fn journal_text(&self) -> String {
        std::fs::read_to_string(&self.journal).unwrap_or_default()
    }

    fn phases(&self) -> Vec<String> {
        self.journal_text()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                match v.get("step").and_then(Value::as_str) {
                    Some(step) => format!("{}:{step}", v["phase"].as_str().unwrap()),
                    None => v["phase"].as_str().unwrap().to_string(),
                }
            })
            .collect()
    }

    fn recovery_files(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(sink::recovery_dir(&self.journal)) {
            Ok(d) => d.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// One run of `keysweep rotate ... --yes` at time `now`: the plan's adapter, the engine, the sink.
fn rotate_at(
    b: &Bench,
    cx: &Context,
    req: RotateRequest,
    sink: &Sink,
    now: OffsetDateTime,
) -> (Result<Ended, String>, String) {
    let p = registry::for_credential(&req.credential).expect("a credential of its rule's shape");
    assert!(
        p.capabilities(&req.credential).rotate,
        "{}",
        req.credential.rule_id
    );
    let job = Job {
        provider: p.name(),
        rule_id: req.credential.rule_id,
        secret: req.credential.secret,
        hide_env: &[],
        retirement: p.retirement(&req),
    };
    let opts = Options {
        journal: &b.journal,
        sink,
        now,
        lock_wait: Duration::ZERO,
    };
    let mut out = Vec::new();
    let r = rotate::run(
        &opts,
        &job,
        &Adapter {
            provider: &p,
            cx,
            req,
        },
        &mut out,
    );
    (r, String::from_utf8(out).unwrap())
}

fn rotate_now(b: &Bench, cx: &Context, req: RotateRequest) -> (Result<Ended, String>, String) {
    rotate_at(b, cx, req, &b.sink(), OffsetDateTime::now_utc())
}

fn cred<'a>(rule_id: &'a str, secret: &'a str, pair: Option<&'a str>) -> Credential<'a> {
    Credential {
        rule_id,
        secret,
        pair,
    }
}

/// Random characters from `alphabet`, so that no token appears whole in the source.
fn random(alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| alphabet[fastrand_index(alphabet.len())] as char)
        .collect()
}

fn fastrand_index(n: usize) -> usize {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEED: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);
    // xorshift: enough to make test tokens differ.
    let mut x = SEED.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as u64;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    (x % n as u64) as usize
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";

fn client<'a>(id: &'a str, secret: &'a str) -> Option<Client<'a>> {
    Some(Client { id, secret })
}

// ---- Slack: oauth.v2.exchange -------------------------------------------------------------------

/// `oauth.v2.exchange` as Slack documents it: client id, secret and the legacy token, form-encoded;
/// a token is exchanged once (`token_already_exchanged`).
fn slack_exchange(answer: fn(&Req) -> Option<Reply>) -> (Fake, String, String) {
    let access = ["xoxe.xoxb-1-", &random(ALNUM, 160)].concat();
    let refresh = ["xoxe-1-", &random(ALNUM, 140)].concat();
    let (a, r) = (access.clone(), refresh.clone());
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let fake = Fake::start(move |req| {
        assert_eq!(req.route(), "/slack/api/oauth.v2.exchange");
        if let Some(reply) = answer(req) {
            return reply;
        }
        let token = req.form("token").unwrap_or_default();
        let mut seen = seen.lock().unwrap();
        if seen.contains(&token) {
            return Reply::json(
                200,
                json!({"ok": false, "error": "token_already_exchanged"}),
            );
        }
        seen.push(token);
        if req.form("client_secret").as_deref() != Some("app-client-secret") {
            return Reply::json(200, json!({"ok": false, "error": "bad_client_secret"}));
        }
        Reply::json(
            200,
            json!({"ok": true, "access_token": a, "refresh_token": r, "expires_in": 43200,
                   "token_type": "bot", "team": {"id": "T0ACME"}}),
        )
    });
    (fake, access, refresh)
}

#[test]
fn slack_exchange_turns_a_long_lived_token_into_an_expiring_pair_once() {
    let b = Bench::new();
    let (fake, access, refresh) = slack_exchange(|_| None);
    let cx = context(&fake, policy(), FakeClock::new());
    let (old, _) = example("slack-bot-token");
    let req = RotateRequest {
        client: client("1234.5678", "app-client-secret"),
        ..RotateRequest::new(cred("slack-bot-token", &old, None))
    };
    let (r, out) = rotate_now(&b, &cx, req);
    assert_eq!(r, Ok(Ended::Acted), "{out}");
    let sent = &fake.requests()[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.form("client_id").as_deref(), Some("1234.5678"));
    assert_eq!(sent.form("token").as_deref(), Some(old.as_str()));
    assert!(sent.header("authorization").is_none());
    let got = b.delivered();
    assert_eq!(
        (
            got["kind"].as_str(),
            got["access_token"].as_str(),
            got["refresh_token"].as_str()
        ),
        (
            Some("exchange"),
            Some(access.as_str()),
            Some(refresh.as_str())
        )
    );
    assert_eq!(got["team_id"], "T0ACME");
    assert!(
        out.contains("exchanged for an expiring access token"),
        "{out}"
    );
    assert_eq!(b.phases(), ["started", "minted", "delivered", "finished"]);
    // A retry of the same command: the journal answers, Slack is not asked again.
    let (r, out) = rotate_now(&b, &cx, req);
    assert_eq!(r, Ok(Ended::NothingDue));
    assert!(out.contains("nothing to do"), "{out}");
    assert_eq!(fake.requests().len(), 1);
    for text in [b.journal_text(), out] {
        assert!(!text.contains(&old) && !text.contains(&access) && !text.contains(&refresh));
    }
}

#[test]
fn slack_exchange_errors_say_whether_anything_may_have_happened() {
    // Slack's documentation: after `internal_error` "it's possible some aspect of the operation
    // succeeded": unknown, never retried. `token_rotation_not_enabled`: refused, may be retried.
    let b = Bench::new();
    let (fake, _, _) = slack_exchange(|req| {
        let token = req.form("token").unwrap_or_default();
        Some(if token.starts_with("xoxb-") {
            Reply::json(200, json!({"ok": false, "error": "internal_error"}))
        } else {
            Reply::json(
                200,
                json!({"ok": false, "error": "token_rotation_not_enabled"}),
            )
        })
    });
    let cx = context(&fake, policy(), FakeClock::new());
    let (bot, _) = example("slack-bot-token");
    let req = |t| RotateRequest {
        client: client("1.2", "app-client-secret"),
        ..RotateRequest::new(cred("slack-bot-token", t, None))
    };
    let err = rotate_now(&b, &cx, req(&bot)).0.unwrap_err();
    assert!(
        err.contains("internal_error") && err.contains("console"),
        "{err}"
    );
    let err = rotate_now(&b, &cx, req(&bot)).0.unwrap_err();
    assert!(err.contains("answer was lost"), "{err}");
    assert_eq!(fake.requests().len(), 1);

    let (user, _) = example("slack-user-token");
    let ureq = RotateRequest {
        client: client("1.2", "app-client-secret"),
        ..RotateRequest::new(cred("slack-user-token", &user, None))
    };
    let err = rotate_now(&b, &cx, ureq).0.unwrap_err();
    assert!(err.contains("token_rotation_not_enabled"), "{err}");
    // Refused: nothing was minted, so the next run may ask again (once rotation is turned on).
    let _ = rotate_now(&b, &cx, ureq);
    assert_eq!(fake.requests().len(), 3);
    assert!(b.recovery_files().is_empty());
}

#[test]
fn a_slack_pair_that_missed_its_sink_is_delivered_by_the_next_run() {
    let b = Bench::new();
    let (fake, access, refresh) = slack_exchange(|_| None);
    let cx = context(&fake, policy(), FakeClock::new());
    let (old, _) = example("slack-bot-token");
    let req = RotateRequest {
        client: client("1.2", "app-client-secret"),
        ..RotateRequest::new(cred("slack-bot-token", &old, None))
    };
    let failing = Sink::Exec("cat >/dev/null; exit 3".into());
    let err = rotate_at(&b, &cx, req, &failing, OffsetDateTime::now_utc())
        .0
        .unwrap_err();
    assert!(
        err.contains("recovery file") && err.contains("Rerun"),
        "{err}"
    );
    let saved = b.recovery_files();
    assert_eq!(saved.len(), 1);
    assert!(
        std::fs::read_to_string(&saved[0])
            .unwrap()
            .contains(&refresh)
    );
    // The exchanged token is spent: the rerun delivers what was saved and asks Slack nothing.
    let (r, out) = rotate_now(&b, &cx, req);
    assert_eq!(r, Ok(Ended::Acted), "{out}");
    assert!(out.contains("did not deliver it"), "{out}");
    assert_eq!(b.delivered()["access_token"], access.as_str());
    assert_eq!(fake.requests().len(), 1);
    assert!(b.recovery_files().is_empty());
    assert_eq!(
        b.phases(),
        [
            "started",
            "minted",
            "step_failed:deliver",
            "delivered",
            "finished"
        ]
    );
}

// ---- GitHub: App user tokens refreshed with ghr_ -------------------------------------------------

#[test]
fn github_refresh_tokens_yield_a_new_user_token_and_die() {
    let b = Bench::new();
    let (old, _) = example("github-refresh-token");
    let user = github_token("ghu", &random(ALNUM, 30));
    let next = github_token("ghr", &random(ALNUM, 30));
    let (u, n) = (user.clone(), next.clone());
    let spent = Arc::new(Mutex::new(Vec::<String>::new()));
    let fake = Fake::start(move |req| {
        assert_eq!(
            (req.method.as_str(), req.route()),
            ("POST", "/github/login/oauth/access_token")
        );
        // Without `Accept: application/json` GitHub answers form-encoded.
        assert_eq!(req.header("accept"), Some("application/json"));
        let token = req.form("refresh_token").unwrap_or_default();
        let mut spent = spent.lock().unwrap();
        if spent.contains(&token) || req.form("grant_type").as_deref() != Some("refresh_token") {
            // OAuth errors come with HTTP 200.
            return Reply::json(
                200,
                json!({"error": "bad_refresh_token", "error_description": "The refresh token passed is incorrect or expired."}),
            );
        }
        spent.push(token);
        Reply::json(
            200,
            json!({"access_token": u, "expires_in": 28800, "refresh_token": n,
                   "refresh_token_expires_in": 15811200, "scope": "", "token_type": "bearer"}),
        )
    });
    let cx = context(&fake, policy(), FakeClock::new());
    let req = RotateRequest {
        client: client("Iv1.8a61f9b3a7aba766", "app-client-secret"),
        ..RotateRequest::new(cred("github-refresh-token", &old, None))
    };
    let (r, out) = rotate_now(&b, &cx, req);
    assert_eq!(r, Ok(Ended::Acted), "{out}");
    let sent = &fake.requests()[0];
    assert_eq!(
        sent.form("client_id").as_deref(),
        Some("Iv1.8a61f9b3a7aba766")
    );
    assert_eq!(
        sent.form("client_secret").as_deref(),
        Some("app-client-secret")
    );
    let got = b.delivered();
    assert_eq!(got["access_token"], user.as_str());
    assert_eq!(got["refresh_token"], next.as_str());
    assert!(got["expires_at"].as_str().unwrap().ends_with('Z'));
    assert!(got["refresh_token_expires_at"].as_str().is_some());

    // The next scheduled run is given the new refresh token; an app of the device flow has no
    // client secret, and none is sent.
    let b2 = Bench::new();
    let req = RotateRequest {
        client: client("Iv1.8a61f9b3a7aba766", ""),
        ..RotateRequest::new(cred("github-refresh-token", &next, None))
    };
    assert_eq!(rotate_now(&b2, &cx, req).0, Ok(Ended::Acted));
    assert_eq!(fake.requests()[1].form("client_secret"), None);

    // A spent token is refused: nothing minted, recorded as failed, no recovery file.
    let b3 = Bench::new();
    let req = RotateRequest {
        client: client("Iv1.8a61f9b3a7aba766", "app-client-secret"),
        ..RotateRequest::new(cred("github-refresh-token", &old, None))
    };
    let err = rotate_now(&b3, &cx, req).0.unwrap_err();
    assert!(err.contains("bad_refresh_token"), "{err}");
    assert!(b3.journal_text().contains("\"failed\""));
    assert!(b3.recovery_files().is_empty());
}

#[test]
fn a_github_refresh_whose_answer_is_lost_is_not_repeated() {
    let b = Bench::new();
    let (old, _) = example("github-refresh-token");
    let fake = Fake::start(|_| Reply::close());
    let cx = context(&fake, policy(), FakeClock::new());
    let req = RotateRequest {
        client: client("Iv1.x", "s"),
        ..RotateRequest::new(cred("github-refresh-token", &old, None))
    };
    let err = rotate_now(&b, &cx, req).0.unwrap_err();
    assert!(err.contains("console"), "{err}");
    assert_eq!(fake.requests().len(), 1, "a minting call is sent once");
    assert!(rotate_now(&b, &cx, req).0.is_err());
    assert_eq!(fake.requests().len(), 1);
}

// ---- Google: access tokens from a refresh token --------------------------------------------------

#[test]
fn google_refresh_mints_an_access_token_every_run_and_keeps_the_refresh_token() {
    let b = Bench::new();
    let (refresh, _) = example("google-oauth-refresh-token");
    let count = Arc::new(Mutex::new(0));
    let c = count.clone();
    let fake = Fake::start(move |req| {
        assert_eq!(
            (req.method.as_str(), req.route()),
            ("POST", "/google/token")
        );
        if req.form("client_secret").as_deref() != Some("oauth-client-secret") {
            return Reply::json(401, json!({"error": "invalid_client"}));
        }
        if req
            .form("refresh_token")
            .is_none_or(|t| t.contains("revoked"))
        {
            return Reply::json(
                400,
                json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}),
            );
        }
        let mut n = c.lock().unwrap();
        *n += 1;
        Reply::json(
            200,
            json!({"access_token": format!("ya29.{}{}", "a0AfH6SMBx", "x".repeat(40 + *n)),
                   "expires_in": 3599, "scope": "https://www.googleapis.com/auth/drive.readonly",
                   "token_type": "Bearer"}),
        )
    });
    let cx = context(&fake, policy(), FakeClock::new());
    let req = RotateRequest {
        client: client("1234-abc.apps.googleusercontent.com", "oauth-client-secret"),
        ..RotateRequest::new(cred("google-oauth-refresh-token", &refresh, None))
    };
    assert_eq!(rotate_now(&b, &cx, req).0, Ok(Ended::Acted));
    let first = b.delivered()["access_token"].as_str().unwrap().to_string();
    assert_eq!(rotate_now(&b, &cx, req).0, Ok(Ended::Acted));
    let second = b.delivered()["access_token"].as_str().unwrap().to_string();
    assert_ne!(first, second, "every run delivers a fresh access token");
    assert_eq!(b.delivered()["token_type"], "Bearer");
    let sent = &fake.requests()[0];
    assert_eq!(sent.form("grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(
        sent.form("client_id").as_deref(),
        Some("1234-abc.apps.googleusercontent.com")
    );
    assert_eq!(
        sent.form("refresh_token").as_deref(),
        Some(refresh.as_str())
    );
    // Wrong client secret: refused with Google's error code, nothing delivered.
    let b2 = Bench::new();
    let bad = RotateRequest {
        client: client("1234-abc.apps.googleusercontent.com", "wrong"),
        ..req
    };
    let err = rotate_now(&b2, &cx, bad).0.unwrap_err();
    assert!(err.contains("invalid_client"), "{err}");
    assert!(!b2.target.exists());
}

// ---- AWS: CreateAccessKey, UpdateAccessKey, DeleteAccessKey, ListAccessKeys ----------------------

/// IAM's access-key API for one user, as AWS documents it: the Query API (form POST, SigV4), XML
/// answers, at most two keys per user, `NoSuchEntity` for a key that is gone, and the signing key
/// must exist and be active.
#[derive(Default)]
struct Iam {
    /// Access key id -> (secret, status).
    keys: BTreeMap<String, (String, String)>,
    /// An action whose requests are dropped without an answer, and how many more times.
    drop: Option<(String, usize)>,
    /// CreateAccessKey is denied by AWS's compromised-key quarantine policy.
    quarantined: bool,
    created: Vec<String>,
}

fn iam_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::text(
        status,
        &format!("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>4f2c</RequestId></ErrorResponse>"),
    )
    .header("content-type", "text/xml")
}

fn iam_ok(action: &str, result: &str) -> Reply {
    Reply::text(
        200,
        &format!("<{action}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">{result}<ResponseMetadata><RequestId>7a62</RequestId></ResponseMetadata></{action}Response>"),
    )
    .header("content-type", "text/xml")
}

/// The key id a request is signed with (`Credential=<id>/<date>/us-east-1/iam/aws4_request`).
fn signer(r: &Req) -> String {
    let auth = r.header("authorization").unwrap_or("");
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=")
            && auth.contains("/us-east-1/iam/aws4_request"),
        "{auth}"
    );
    auth["AWS4-HMAC-SHA256 Credential=".len()..]
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

fn new_key_id() -> String {
    [
        "AKIA",
        &random(b"QRSTUVWXYZ", 1),
        &random(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 15),
    ]
    .concat()
}

fn iam(state: Arc<Mutex<Iam>>) -> Fake {
    Fake::start(move |r| {
        assert_eq!((r.method.as_str(), r.route()), ("POST", "/aws/"));
        let mut s = state.lock().unwrap();
        let action = r.form("Action").unwrap_or_default();
        if let Some((a, n)) = &mut s.drop
            && *a == action
            && *n > 0
        {
            *n -= 1;
            return Reply::close();
        }
        let by = signer(r);
        for (id, (secret, _)) in &s.keys {
            assert!(
                !r.everything().contains(secret.as_str()),
                "{id}'s secret was sent"
            );
        }
        match s.keys.get(&by) {
            Some((_, status)) if status == "Active" => {}
            _ => {
                return iam_error(
                    403,
                    "InvalidClientTokenId",
                    "The security token included in the request is invalid.",
                );
            }
        }
        let target = r.form("AccessKeyId");
        match action.as_str() {
            "CreateAccessKey" => {
                if s.quarantined {
                    return iam_error(
                        403,
                        "AccessDenied",
                        &format!(
                            "User: arn:aws:iam::123456789012:user/deploy is not authorized to perform: iam:CreateAccessKey on resource: user deploy with an explicit deny in an identity-based policy: arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2 ({by})"
                        ),
                    );
                }
                if s.keys.len() >= 2 {
                    return iam_error(
                        409,
                        "LimitExceeded",
                        "Cannot exceed quota for AccessKeysPerUser: 2",
                    );
                }
                let (id, secret) = (new_key_id(), random(ALNUM, 40));
                s.keys.insert(id.clone(), (secret.clone(), "Active".into()));
                s.created.push(id.clone());
                iam_ok(
                    "CreateAccessKey",
                    &format!(
                        "<CreateAccessKeyResult><AccessKey><UserName>deploy</UserName><AccessKeyId>{id}</AccessKeyId><Status>Active</Status><SecretAccessKey>{secret}</SecretAccessKey><CreateDate>2026-11-30T10:00:00Z</CreateDate></AccessKey></CreateAccessKeyResult>"
                    ),
                )
            }
            "UpdateAccessKey" | "DeleteAccessKey" => {
                let target = target.expect("AccessKeyId");
                if !s.keys.contains_key(&target) {
                    return iam_error(
                        404,
                        "NoSuchEntity",
                        "The Access Key with id X cannot be found",
                    );
                }
                if action == "DeleteAccessKey" {
                    s.keys.remove(&target);
                } else {
                    let status = r.form("Status").expect("Status");
                    s.keys.get_mut(&target).unwrap().1 = status;
                }
                iam_ok(&action, "")
            }
            "ListAccessKeys" => {
                let members: String = s
                    .keys
                    .iter()
                    .map(|(id, (_, status))| format!("<member><UserName>deploy</UserName><AccessKeyId>{id}</AccessKeyId><Status>{status}</Status><CreateDate>2026-11-01T10:00:00Z</CreateDate></member>"))
                    .collect();
                iam_ok(
                    "ListAccessKeys",
                    &format!(
                        "<ListAccessKeysResult><UserName>deploy</UserName><AccessKeyMetadata>{members}</AccessKeyMetadata><IsTruncated>false</IsTruncated></ListAccessKeysResult>"
                    ),
                )
            }
            other => panic!("unexpected IAM action {other}"),
        }
    })
}

/// The user's one key (the rule's example) in a fresh fake IAM.
fn aws_setup() -> (String, String, Arc<Mutex<Iam>>, Fake) {
    let (id, secret) = example("aws-access-key");
    let secret = secret.unwrap();
    let state = Arc::new(Mutex::new(Iam::default()));
    state
        .lock()
        .unwrap()
        .keys
        .insert(id.clone(), (secret.clone(), "Active".into()));
    let fake = iam(state.clone());
    (id, secret, state, fake)
}

fn actions(fake: &Fake) -> Vec<(String, String)> {
    fake.requests()
        .iter()
        .map(|r| (r.form("Action").unwrap_or_default(), signer(r)))
        .collect()
}

fn aws_req<'a>(id: &'a str, secret: &'a str, grace: Duration) -> RotateRequest<'a> {
    RotateRequest {
        delete_after: Some(grace),
        ..RotateRequest::new(cred("aws-access-key", id, Some(secret)))
    }
}

const WEEK: Duration = Duration::from_secs(7 * 86_400);

#[test]
fn aws_rotation_deactivates_at_once_and_deletes_after_the_grace_period() {
    let b = Bench::new();
    let (old, old_secret, state, fake) = aws_setup();
    let cx = context(&fake, policy(), FakeClock::new());
    let now = OffsetDateTime::now_utc();
    let (r, out) = rotate_at(&b, &cx, aws_req(&old, &old_secret, WEEK), &b.sink(), now);
    assert_eq!(r, Ok(Ended::Acted), "{out}");
    let new = state.lock().unwrap().created[0].clone();
    let new_secret = state.lock().unwrap().keys[&new].0.clone();
    let got = b.delivered();
    assert_eq!(got["access_key_id"], new.as_str());
    assert_eq!(got["secret_access_key"], new_secret.as_str());
    assert_eq!(got["user_name"], "deploy");
    // The old key made the new one, then was deactivated, signing both itself.
    assert_eq!(
        actions(&fake),
        [
            ("CreateAccessKey".into(), old.clone()),
            ("UpdateAccessKey".into(), old.clone())
        ]
    );
    assert_eq!(
        fake.requests()[1].form("Status").as_deref(),
        Some("Inactive")
    );
    assert_eq!(state.lock().unwrap().keys[&old].1, "Inactive");
    assert!(out.contains("due at"), "{out}");
    assert_eq!(
        b.phases(),
        ["started", "minted", "delivered", "retired:deactivate"]
    );

    // A day later nothing is due; a week and a day later, the old key cannot sign its deletion.
    let day = Duration::from_secs(86_400);
    let (r, _) = rotate_at(
        &b,
        &cx,
        aws_req(&old, &old_secret, WEEK),
        &b.sink(),
        now + day,
    );
    assert_eq!(r, Ok(Ended::NothingDue));
    let (r, out) = rotate_at(
        &b,
        &cx,
        aws_req(&old, &old_secret, WEEK),
        &b.sink(),
        now + WEEK + day,
    );
    assert_eq!(r, Ok(Ended::NeedsReplacement));
    assert!(out.contains("with the new key"), "{out}");
    assert_eq!(fake.requests().len(), 2, "nothing was sent");

    // The next scheduled run is given the new key: it finds the old key by the hash of its id,
    // deletes it, and rotates the new key in turn.
    let (r, out) = rotate_at(
        &b,
        &cx,
        aws_req(&new, &new_secret, WEEK),
        &b.sink(),
        now + WEEK + day,
    );
    assert_eq!(r, Ok(Ended::Acted), "{out}");
    let newer = state.lock().unwrap().created[1].clone();
    assert_eq!(
        actions(&fake)[2..],
        [
            ("ListAccessKeys".into(), new.clone()),
            ("DeleteAccessKey".into(), new.clone()),
            ("CreateAccessKey".into(), new.clone()),
            ("UpdateAccessKey".into(), new.clone()),
        ]
    );
    assert_eq!(
        fake.requests()[3].form("AccessKeyId").as_deref(),
        Some(old.as_str())
    );
    let keys: Vec<(String, String)> = state
        .lock()
        .unwrap()
        .keys
        .iter()
        .map(|(k, v)| (k.clone(), v.1.clone()))
        .collect();
    assert_eq!(keys.len(), 2);
    assert!(keys.contains(&(new.clone(), "Inactive".into())));
    assert!(keys.contains(&(newer.clone(), "Active".into())));
    assert_eq!(b.delivered()["access_key_id"], newer.as_str());
    let rot = journal::rotations(&b.journal).unwrap();
    assert_eq!(
        rot.by_old[&sha256_hex(old.as_bytes())].state,
        journal::RotState::Finished(journal::Outcome::Retired)
    );
    // Secrets appear in the journal only as hashes; key ids neither.
    let text = b.journal_text();
    for s in [&old, &old_secret, &new, &new_secret, &newer] {
        assert!(!text.contains(s.as_str()));
    }
}

#[test]
fn a_dropped_connection_between_mint_and_retire_is_finished_by_the_next_run() {
    let b = Bench::new();
    let (old, old_secret, state, fake) = aws_setup();
    // The deactivation never gets an answer (the call and both retries).
    state.lock().unwrap().drop = Some(("UpdateAccessKey".into(), 3));
    let cx = context(&fake, policy(), FakeClock::new());
    let err = rotate_now(&b, &cx, aws_req(&old, &old_secret, WEEK))
        .0
        .unwrap_err();
    assert!(
        err.contains("NOT deactivated") && err.contains("next run"),
        "{err}"
    );
    let new = state.lock().unwrap().created[0].clone();
    assert_eq!(
        b.delivered()["access_key_id"],
        new.as_str(),
        "the new key is safe"
    );
    assert_eq!(state.lock().unwrap().keys[&old].1, "Active");
    // The retry deactivates without minting again.
    let (r, out) = rotate_now(&b, &cx, aws_req(&old, &old_secret, WEEK));
    assert_eq!(r, Ok(Ended::Acted), "{out}");
    assert_eq!(state.lock().unwrap().keys[&old].1, "Inactive");
    assert_eq!(state.lock().unwrap().created.len(), 1);
    assert_eq!(
        b.phases(),
        [
            "started",
            "minted",
            "delivered",
            "step_failed:deactivate",
            "retired:deactivate"
        ]
    );
}

#[test]
fn a_journal_that_ends_after_minted_is_delivered_then_retired_without_a_second_key() {
    let b = Bench::new();
    let (old, old_secret, state, fake) = aws_setup();
    let cx = context(&fake, policy(), FakeClock::new());
    let failing = Sink::Exec("cat >/dev/null; exit 1".into());
    let err = rotate_at(
        &b,
        &cx,
        aws_req(&old, &old_secret, WEEK),
        &failing,
        OffsetDateTime::now_utc(),
    )
    .0
    .unwrap_err();
    assert!(err.contains("NOT delivered"), "{err}");
    // Nothing was retired: the old key still works while the new one waits.
    assert_eq!(state.lock().unwrap().keys[&old].1, "Active");
    // The run "died" right after recording the mint: cut the journal there.
    let text = b.journal_text();
    let cut: Vec<&str> = text.lines().take(2).collect();
    std::fs::write(&b.journal, cut.join("\n") + "\n").unwrap();
    assert_eq!(b.phases(), ["started", "minted"]);
    let (r, out) = rotate_now(&b, &cx, aws_req(&old, &old_secret, WEEK));
    assert_eq!(r, Ok(Ended::Acted), "{out}");
    let new = state.lock().unwrap().created[0].clone();
    assert_eq!(state.lock().unwrap().created.len(), 1, "minted once");
    assert_eq!(b.delivered()["access_key_id"], new.as_str());
    assert_eq!(state.lock().unwrap().keys[&old].1, "Inactive");
    assert!(b.recovery_files().is_empty());
}

#[test]
fn a_delivered_key_given_to_the_next_run_finishes_a_rotation_whose_delivery_was_not_recorded() {
    let b = Bench::new();
    let (old, old_secret, state, fake) = aws_setup();
    let cx = context(&fake, policy(), FakeClock::new());
    let failing = Sink::Exec("exit 1".into());
    let _ = rotate_at(
        &b,
        &cx,
        aws_req(&old, &old_secret, WEEK),
        &failing,
        OffsetDateTime::now_utc(),
    );
    // The owner delivered the recovery file by hand and removed it.
    for f in b.recovery_files() {
        std::fs::remove_file(f).unwrap();
    }
    // With the old key, keysweep cannot tell the new one reached anyone: it retires nothing.
    let err = rotate_now(&b, &cx, aws_req(&old, &old_secret, WEEK))
        .0
        .unwrap_err();
    assert!(err.contains("run again with the new credential"), "{err}");
    assert_eq!(state.lock().unwrap().keys[&old].1, "Active");
    // Given the new key (which shows it was delivered), it deactivates the old one.
    let new = state.lock().unwrap().created[0].clone();
    let new_secret = state.lock().unwrap().keys[&new].0.clone();
    let (r, out) = rotate_now(&b, &cx, aws_req(&new, &new_secret, WEEK));
    assert_eq!(r, Ok(Ended::Acted), "{out}");
    assert_eq!(state.lock().unwrap().keys[&old].1, "Inactive");
    assert_eq!(state.lock().unwrap().created.len(), 1);
}

#[test]
fn no_grace_period_deletes_the_old_key_at_once_with_itself() {
    let b = Bench::new();
    let (old, old_secret, state, fake) = aws_setup();
    let cx = context(&fake, policy(), FakeClock::new());
    let (r, out) = rotate_now(&b, &cx, aws_req(&old, &old_secret, Duration::ZERO));
    assert_eq!(r, Ok(Ended::Acted), "{out}");
    assert_eq!(
        actions(&fake),
        [
            ("CreateAccessKey".into(), old.clone()),
            ("DeleteAccessKey".into(), old.clone())
        ]
    );
    assert!(!state.lock().unwrap().keys.contains_key(&old));
    assert_eq!(
        b.phases(),
        [
            "started",
            "minted",
            "delivered",
            "retired:delete",
            "finished"
        ]
    );
}

#[test]
fn a_key_made_active_again_during_its_grace_period_is_not_deleted() {
    let b = Bench::new();
    let (old, old_secret, state, fake) = aws_setup();
    let cx = context(&fake, policy(), FakeClock::new());
    let now = OffsetDateTime::now_utc();
    assert_eq!(
        rotate_at(&b, &cx, aws_req(&old, &old_secret, WEEK), &b.sink(), now).0,
        Ok(Ended::Acted)
    );
    // Something still needed the old key: the owner turned it back on.
    state.lock().unwrap().keys.get_mut(&old).unwrap().1 = "Active".into();
    let new = state.lock().unwrap().created[0].clone();
    let new_secret = state.lock().unwrap().keys[&new].0.clone();
    let later = now + WEEK + Duration::from_secs(60);
    let err = rotate_at(&b, &cx, aws_req(&new, &new_secret, WEEK), &b.sink(), later)
        .0
        .unwrap_err();
    assert!(err.contains("made active again"), "{err}");
    assert!(state.lock().unwrap().keys.contains_key(&old));
    assert_eq!(actions(&fake).last().unwrap().0, "ListAccessKeys");
}

#[test]
fn a_quarantined_key_cannot_rotate_itself_and_says_so() {
    let b = Bench::new();
    let (old, old_secret, state, fake) = aws_setup();
    state.lock().unwrap().quarantined = true;
    let cx = context(&fake, policy(), FakeClock::new());
    let err = rotate_now(&b, &cx, aws_req(&old, &old_secret, WEEK))
        .0
        .unwrap_err();
    assert!(
        err.contains("quarantined") && err.contains("administrator"),
        "{err}"
    );
    // AWS's own message (which names the user and account) is not repeated.
    assert!(!err.contains("arn:aws:iam::123456789012"), "{err}");
    assert!(state.lock().unwrap().created.is_empty());
    assert_eq!(fake.requests().len(), 1);
    assert!(
        b.journal_text().contains("\"failed\""),
        "refused: a later run may try again"
    );
    assert!(!b.target.exists());

    // Two keys already: AWS's limit, and the message says what to do.
    let b = Bench::new();
    let (old, old_secret, state, fake) = aws_setup();
    state
        .lock()
        .unwrap()
        .keys
        .insert(new_key_id(), (random(ALNUM, 40), "Inactive".into()));
    let cx = context(&fake, policy(), FakeClock::new());
    let err = rotate_now(&b, &cx, aws_req(&old, &old_secret, WEEK))
        .0
        .unwrap_err();
    assert!(err.contains("two access keys"), "{err}");
}

// ---- Twilio: the Key resource with a Main key ---------------------------------------------------

struct TwilioState {
    account: String,
    main: (String, String),
    /// SID -> secret.
    keys: BTreeMap<String, String>,
    drop_deletes: usize,
    created: Vec<String>,
}

fn twilio(state: Arc<Mutex<TwilioState>>) -> Fake {
    Fake::start(move |r| {
        let mut s = state.lock().unwrap();
        let keys_path = format!("/twilio/2010-04-01/Accounts/{}/Keys", s.account);
        // Only the Main key may touch /Keys; a Standard key gets 401 (code 20003).
        let main = (s.main.0.clone(), s.main.1.clone());
        if r.basic() != Some(main) {
            return Reply::json(
                401,
                json!({"code": 20003, "message": "Authenticate", "status": 401}),
            );
        }
        match (r.method.as_str(), r.route()) {
            ("POST", p) if p == format!("{keys_path}.json") => {
                let sid = ["SK", &random(HEX, 32)].concat();
                let secret = random(ALNUM, 32);
                s.keys.insert(sid.clone(), secret.clone());
                s.created.push(sid.clone());
                Reply::json(
                    201,
                    json!({"sid": sid, "friendly_name": r.form("FriendlyName"), "secret": secret,
                           "date_created": "Mon, 30 Nov 2026 10:00:00 +0000",
                           "date_updated": "Mon, 30 Nov 2026 10:00:00 +0000"}),
                )
            }
            ("GET", p) if p == format!("{keys_path}.json") => {
                let keys: Vec<Value> = s
                    .keys
                    .keys()
                    .map(|sid| json!({"sid": sid, "friendly_name": "k"}))
                    .collect();
                Reply::json(200, json!({"keys": keys, "next_page_uri": null, "page": 0}))
            }
            ("DELETE", p) if p.starts_with(&format!("{keys_path}/")) => {
                if s.drop_deletes > 0 {
                    s.drop_deletes -= 1;
                    return Reply::close();
                }
                let sid = p[keys_path.len() + 1..]
                    .trim_end_matches(".json")
                    .to_string();
                match s.keys.remove(&sid) {
                    Some(_) => Reply::empty(204),
                    None => Reply::json(404, json!({"code": 20404, "status": 404})),
                }
            }
            other => panic!("unexpected Twilio request {other:?}"),
        }
    })
}

fn twilio_setup() -> (String, String, Arc<Mutex<TwilioState>>, Fake) {
    let (secret, sid) = example("twilio-api-key-secret");
    let sid = sid.unwrap();
    let state = Arc::new(Mutex::new(TwilioState {
        account: ["AC", &random(HEX, 32)].concat(),
        main: (["SK", &random(HEX, 32)].concat(), random(ALNUM, 32)),
        keys: BTreeMap::new(),
        drop_deletes: 0,
        created: Vec::new(),
    }));
    state
        .lock()
        .unwrap()
        .keys
        .insert(sid.clone(), secret.clone());
    let fake = twilio(state.clone());
    (secret, sid, state, fake)
}

#[test]
fn twilio_keys_are_created_by_the_main_key_and_the_old_one_deleted_even_after_a_dropped_answer() {
    let b = Bench::new();
    let (secret, sid, state, fake) = twilio_setup();
    state.lock().unwrap().drop_deletes = 3;
    let (account, main) = {
        let s = state.lock().unwrap();
        (s.account.clone(), s.main.clone())
    };
    let cx = context(&fake, policy(), FakeClock::new());
    let req = RotateRequest {
        account: Some(&account),
        manager: client(&main.0, &main.1),
        name: Some("billing-worker"),
        ..RotateRequest::new(cred("twilio-api-key-secret", &secret, Some(&sid)))
    };
    let err = rotate_now(&b, &cx, req).0.unwrap_err();
    assert!(err.contains("NOT deleted"), "{err}");
    let new = state.lock().unwrap().created[0].clone();
    let got = b.delivered();
    assert_eq!(got["api_key_sid"], new.as_str());
    assert_eq!(got["account_sid"], account.as_str());
    assert_eq!(
        got["api_key_secret"],
        state.lock().unwrap().keys[&new].as_str()
    );
    assert_eq!(
        fake.requests()[0].form("FriendlyName").as_deref(),
        Some("billing-worker")
    );
    // The next run deletes the old key and mints nothing.
    let (r, out) = rotate_now(&b, &cx, req);
    assert_eq!(r, Ok(Ended::Acted), "{out}");
    assert!(!state.lock().unwrap().keys.contains_key(&sid));
    assert_eq!(state.lock().unwrap().created.len(), 1);
    let last = fake.requests().pop().unwrap();
    assert_eq!(
        (last.method.as_str(), last.route().to_string()),
        (
            "DELETE",
            format!("/twilio/2010-04-01/Accounts/{account}/Keys/{sid}.json")
        )
    );
}

#[test]
fn twilio_grace_period_keeps_both_keys_until_a_later_run_given_the_new_one() {
    let b = Bench::new();
    let (secret, sid, state, fake) = twilio_setup();
    let (account, main) = {
        let s = state.lock().unwrap();
        (s.account.clone(), s.main.clone())
    };
    let cx = context(&fake, policy(), FakeClock::new());
    let hour = Duration::from_secs(3_600);
    let req = |secret, sid| RotateRequest {
        account: Some(&account),
        manager: client(&main.0, &main.1),
        delete_after: Some(hour),
        ..RotateRequest::new(cred("twilio-api-key-secret", secret, Some(sid)))
    };
    let now = OffsetDateTime::now_utc();
    assert_eq!(
        rotate_at(&b, &cx, req(&secret, &sid), &b.sink(), now).0,
        Ok(Ended::Acted)
    );
    assert_eq!(
        state.lock().unwrap().keys.len(),
        2,
        "both keys work during the grace period"
    );
    let new = state.lock().unwrap().created[0].clone();
    let new_secret = state.lock().unwrap().keys[&new].clone();
    let (r, _) = rotate_at(&b, &cx, req(&new_secret, &new), &b.sink(), now + hour / 2);
    assert_eq!(r, Ok(Ended::NothingDue));
    let (r, out) = rotate_at(&b, &cx, req(&new_secret, &new), &b.sink(), now + hour * 2);
    assert_eq!(r, Ok(Ended::Acted), "{out}");
    let keys = state.lock().unwrap().keys.clone();
    assert!(!keys.contains_key(&sid), "the old key is gone");
    assert!(
        keys.contains_key(&new),
        "the key in use is kept until its own grace period ends"
    );
    let methods: Vec<String> = fake.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["POST", "GET", "DELETE", "POST"]);
}

#[test]
fn a_standard_key_cannot_create_keys_and_nothing_is_minted() {
    let b = Bench::new();
    let (secret, sid, state, fake) = twilio_setup();
    let account = state.lock().unwrap().account.clone();
    let cx = context(&fake, policy(), FakeClock::new());
    let req = RotateRequest {
        account: Some(&account),
        ..RotateRequest::new(cred("twilio-api-key-secret", &secret, Some(&sid)))
    };
    let err = rotate_now(&b, &cx, req).0.unwrap_err();
    assert!(err.contains("Main API key"), "{err}");
    assert!(state.lock().unwrap().created.is_empty());
    assert!(b.recovery_files().is_empty());
}
