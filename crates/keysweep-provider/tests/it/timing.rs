//! Rate limits, retries and time budgets, on a clock that never sleeps: what used to cost seconds of
//! real waiting through the binary.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keysweep_core::finding::Status;
use keysweep_provider::{Credential, verify};
use serde_json::json;

use crate::fake::{Fake, FakeClock, Reply, context, policy};
use crate::tokens::example;

fn slack(secret: &str) -> Credential<'_> {
    Credential {
        rule_id: "slack-bot-token",
        secret,
        pair: None,
    }
}

fn two_slack_tokens() -> (String, String) {
    let (a, _) = example("slack-bot-token");
    // A second token of the same shape: the last character changed.
    let mut b = a.clone();
    let last = b.pop().unwrap();
    b.push(if last == 'a' { 'b' } else { 'a' });
    (a, b)
}

#[test]
fn retry_after_is_waited_on_the_clock_and_5xx_retried() {
    let (a, b) = two_slack_tokens();
    let calls: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let (a2, c2) = (a.clone(), calls.clone());
    let fake = Fake::start(move |r| {
        let tok = r
            .header("authorization")
            .unwrap_or("")
            .trim_start_matches("Bearer ")
            .to_string();
        let n = {
            let mut m = c2.lock().unwrap();
            let e = m.entry(tok.clone()).or_insert(0);
            *e += 1;
            *e
        };
        match (tok == a2, n) {
            (true, 1) => Reply::json(429, json!({"ok": false, "error": "ratelimited"}))
                .header("retry-after", "1"),
            (false, 1) => Reply::text(503, "unavailable"),
            _ => Reply::json(200, json!({"ok": true, "team_id": "T1", "user_id": "U1"})),
        }
    });
    let clock = FakeClock::new();
    let cx = context(&fake, policy(), clock.clone());
    let creds = [slack(&a), slack(&b)];
    let v = verify::verify_all(&cx, &creds);
    assert!(v.iter().all(|v| v.status == Status::Live), "{v:?}");
    assert_eq!(fake.requests().len(), 4);
    let slept = clock.slept.lock().unwrap().clone();
    assert!(
        slept.contains(&Duration::from_secs(1)),
        "Retry-After: 1 honoured: {slept:?}"
    );
    assert!(
        slept.contains(&Duration::from_millis(250)),
        "backoff before the 5xx retry: {slept:?}"
    );
}

#[test]
fn persistent_failures_become_unknown_or_error() {
    let (down, limited) = two_slack_tokens();
    let (d, l) = (down.clone(), limited.clone());
    let fake = Fake::start(move |r| {
        let tok = r
            .header("authorization")
            .unwrap_or("")
            .trim_start_matches("Bearer ");
        if tok == d {
            Reply::text(500, "boom")
        } else if tok == l {
            Reply::empty(429).header("retry-after", "3600")
        } else {
            Reply::text(200, "{\"ok\": tru")
        }
    });
    let clock = FakeClock::new();
    let cx = context(&fake, policy(), clock.clone());
    let v = verify::verify_one(&cx, &slack(&down));
    assert_eq!(
        (v.status, v.detail.as_deref()),
        (Status::Unknown, Some("HTTP 500"))
    );
    let v = verify::verify_one(&cx, &slack(&limited));
    assert_eq!(
        (v.status, v.detail.as_deref()),
        (Status::Unknown, Some("rate limited (retry after 3600s)"))
    );
    let count = |t: &str| {
        fake.requests()
            .iter()
            .filter(|r| r.header("authorization") == Some(&format!("Bearer {t}")))
            .count()
    };
    // 500: the first try and two retries. An hour's Retry-After: not waited for, not retried.
    assert_eq!((count(&down), count(&limited)), (3, 1));
    assert!(
        !clock
            .slept
            .lock()
            .unwrap()
            .contains(&Duration::from_secs(3600))
    );
    let (other, _) = example("slack-user-token");
    let v = verify::verify_one(
        &cx,
        &Credential {
            rule_id: "slack-user-token",
            secret: &other,
            pair: None,
        },
    );
    assert_eq!(
        (v.status, v.detail.as_deref()),
        (Status::Error, Some("malformed response"))
    );
}

#[test]
fn a_hang_times_out_and_is_retried_within_the_call_budget() {
    let fake = Fake::start(|_| Reply::hang());
    let mut p = policy();
    p.timeout = Duration::from_millis(100);
    p.max_retries = 1;
    let clock = FakeClock::new();
    let cx = context(&fake, p, clock.clone());
    let (tok, _) = example("slack-bot-token");
    let v = verify::verify_one(&cx, &slack(&tok));
    assert_eq!(
        (v.status, v.detail.as_deref()),
        (Status::Error, Some("timed out"))
    );
    assert_eq!(fake.requests().len(), 2);
}

#[test]
fn the_run_budget_stops_later_calls_at_once() {
    let fake = Fake::start(|_| Reply::json(429, json!({"ok": false})).header("retry-after", "30"));
    let mut p = policy();
    p.per_run = Some(Duration::from_secs(10));
    let clock = FakeClock::new();
    let cx = context(&fake, p, clock.clone());
    let (tok, _) = example("slack-bot-token");
    // The 30 s wait does not fit in the run's 10 s: rate limited, unknown, one request.
    let v = verify::verify_one(&cx, &slack(&tok));
    assert_eq!(v.status, Status::Unknown);
    assert_eq!(fake.requests().len(), 1);
    // Once the budget is spent, nothing more is sent.
    clock.sleep_for_test(Duration::from_secs(11));
    let v = verify::verify_one(&cx, &slack(&tok));
    assert_eq!(
        (v.status, v.detail.as_deref()),
        (
            Status::Unknown,
            Some("ran out of time (--verify-timeout or --verify-budget)")
        )
    );
    assert_eq!(fake.requests().len(), 1);
}

#[test]
fn github_exhausted_quota_waits_for_the_reset() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let fake = Fake::start(move |_| {
        if n2.fetch_add(1, Ordering::SeqCst) == 0 {
            let reset = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + 4;
            Reply::json(403, json!({"message": "API rate limit exceeded"}))
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", &reset.to_string())
        } else {
            Reply::json(200, json!({"login": "octo"}))
        }
    });
    let clock = FakeClock::new();
    let cx = context(&fake, policy(), clock.clone());
    let (pat, _) = example("github-pat");
    let v = verify::verify_one(
        &cx,
        &Credential {
            rule_id: "github-pat",
            secret: &pat,
            pair: None,
        },
    );
    assert_eq!(v.status, Status::Live);
    assert_eq!(n.load(Ordering::SeqCst), 2);
    let waited = clock.total_slept();
    assert!(
        waited >= Duration::from_secs(2) && waited <= Duration::from_secs(5),
        "{waited:?}"
    );
}

/// The Rust adapters' verifications meet the same failures as the rule-data ones: a rate limit
/// waited out on the clock, a 5xx retried then unknown, a body that is not what the provider sends,
/// and a hang.
#[test]
fn adapters_survive_rate_limits_5xx_garbage_and_hangs() {
    let aws_live = "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>";
    let cases: Vec<(&str, Reply)> = vec![
        (
            "slack-bot-token",
            Reply::json(200, json!({"ok": true, "team_id": "T1"})),
        ),
        ("github-pat", Reply::json(200, json!({"login": "octo"}))),
        (
            "gitlab-pat",
            Reply::json(
                200,
                json!({"id": 1, "revoked": false, "active": true, "scopes": ["api"]}),
            ),
        ),
        ("aws-access-key", Reply::text(200, aws_live)),
        (
            "discord-webhook-url",
            Reply::json(200, json!({"id": "1", "name": "hook"})),
        ),
    ];
    let mut hangs = Vec::new();
    for (rule, live) in cases {
        let (secret, pair) = example(rule);
        let cred = Credential {
            rule_id: rule,
            secret: &secret,
            pair: pair.as_deref(),
        };
        let n = Arc::new(AtomicUsize::new(0));
        let (n2, l2) = (n.clone(), live.clone());
        let fake = Fake::start(move |_| {
            if n2.fetch_add(1, Ordering::SeqCst) == 0 {
                Reply::empty(429).header("retry-after", "2")
            } else {
                l2.clone()
            }
        });
        let clock = FakeClock::new();
        let v = verify::verify_one(&context(&fake, policy(), clock.clone()), &cred);
        assert_eq!(v.status, Status::Live, "{rule}: {v:?}");
        assert!(
            clock
                .slept
                .lock()
                .unwrap()
                .contains(&Duration::from_secs(2)),
            "{rule}"
        );

        let fake = Fake::start(|_| Reply::text(502, "bad gateway"));
        let v = verify::verify_one(&context(&fake, policy(), FakeClock::new()), &cred);
        assert_eq!(
            (v.status, v.detail.as_deref()),
            (Status::Unknown, Some("HTTP 502")),
            "{rule}"
        );
        assert_eq!(fake.requests().len(), 3, "{rule}");

        let fake = Fake::start(|_| Reply::text(200, "<html>captive portal</html>"));
        let v = verify::verify_one(&context(&fake, policy(), FakeClock::new()), &cred);
        assert_eq!(v.status, Status::Error, "{rule}: {v:?}");

        hangs.push(std::thread::spawn(move || {
            let fake = Fake::start(|_| Reply::hang());
            let mut p = policy();
            p.timeout = Duration::from_millis(100);
            p.max_retries = 0;
            let cred = Credential {
                rule_id: rule,
                secret: &secret,
                pair: pair.as_deref(),
            };
            let v = verify::verify_one(&context(&fake, p, FakeClock::new()), &cred);
            assert_eq!(
                (v.status, v.detail.as_deref()),
                (Status::Error, Some("timed out")),
                "{rule}"
            );
        }));
    }
    for h in hangs {
        h.join().unwrap();
    }
}
