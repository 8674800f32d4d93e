//! AWS: STS GetCallerIdentity signed with SigV4, the offline account id, the canary skip list, and
//! deactivation of the key with itself.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use keysweep_core::finding::Status;
use keysweep_provider::aws::{Canaries, KNOWN_CANARY_ACCOUNTS, account_id};
use keysweep_provider::{Credential, Provider, Revoked, registry, verify};

use crate::fake::{Fake, FakeClock, Reply, Req, context, policy};
use crate::tokens::example;

const IDENTITY: &str = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/Alice</Arn><UserId>AIDACKCEVSQ6C2EXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata></GetCallerIdentityResponse>";

fn error(code: &str) -> Reply {
    Reply::text(
        403,
        &format!("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>...</Message></Error><RequestId>x</RequestId></ErrorResponse>"),
    )
    .header("content-type", "text/xml")
}

fn scripted(replies: Vec<Reply>) -> Fake {
    let r = Arc::new(Mutex::new(replies));
    Fake::start(move |_| {
        let mut r = r.lock().unwrap();
        if r.is_empty() {
            Reply::empty(599)
        } else {
            r.remove(0)
        }
    })
}

/// A key id of the new format for `account` (the inverse of the offline decoding).
fn key_for(account: u64) -> String {
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let z: u128 = ((1u128 << 47) | (u128::from(account) << 7)) << 32 | 0x1234_5678;
    let body: String = (0..16)
        .rev()
        .map(|i| B32[((z >> (i * 5)) & 31) as usize] as char)
        .collect();
    format!("AKIA{body}")
}

fn is_signed(r: &Req, key_id: &str, service: &str) -> bool {
    let auth = r.header("authorization").unwrap_or("");
    auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={key_id}/"))
        && auth.contains(&format!("/us-east-1/{service}/aws4_request"))
        && auth.contains("Signature=")
        && r.header("x-amz-date").is_some()
        && r.header("content-type") == Some("application/x-www-form-urlencoded; charset=utf-8")
}

#[test]
fn key_pairs_are_verified_with_sts_and_never_send_the_secret_key() {
    let (key_id, secret) = example("aws-access-key");
    let secret = secret.unwrap();
    let fake = scripted(vec![
        Reply::text(200, IDENTITY).header("content-type", "text/xml"),
        error("InvalidClientTokenId"),
        error("ExpiredToken"),
        Reply::text(
            400,
            "<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>",
        ),
    ]);
    let cx = context(&fake, policy(), FakeClock::new());
    let cred = Credential {
        rule_id: "aws-access-key",
        secret: &key_id,
        pair: Some(&secret),
    };
    let v = verify::verify_one(&cx, &cred);
    assert_eq!(v.status, Status::Live);
    assert_eq!(
        v.identity.as_deref(),
        Some("arn:aws:iam::123456789012:user/Alice (account 123456789012)")
    );
    assert_eq!(verify::verify_one(&cx, &cred).status, Status::Invalid);
    assert_eq!(verify::verify_one(&cx, &cred).status, Status::Expired);
    let throttled = verify::verify_one(&cx, &cred);
    assert_eq!(
        (throttled.status, throttled.detail.as_deref()),
        (Status::Unknown, Some("Throttling"))
    );
    for r in fake.requests() {
        assert_eq!((r.method.as_str(), r.route()), ("POST", "/aws/"));
        assert_eq!(r.body, "Action=GetCallerIdentity&Version=2011-06-15");
        assert!(is_signed(&r, &key_id, "sts"), "{r:?}");
        assert!(
            !r.everything().contains(&secret),
            "the secret key is never sent, only its signature"
        );
    }
}

#[test]
fn a_spurious_signature_mismatch_is_retried_once_after_a_pause() {
    let (key_id, secret) = example("aws-access-key");
    let secret = secret.unwrap();
    let fake = scripted(vec![
        error("SignatureDoesNotMatch"),
        Reply::text(200, IDENTITY),
    ]);
    let clock = FakeClock::new();
    let cx = context(&fake, policy(), clock.clone());
    let cred = Credential {
        rule_id: "aws-access-key",
        secret: &key_id,
        pair: Some(&secret),
    };
    assert_eq!(verify::verify_one(&cx, &cred).status, Status::Live);
    assert!(
        clock
            .slept
            .lock()
            .unwrap()
            .contains(&Duration::from_secs(5))
    );
    let fake = scripted(vec![
        error("SignatureDoesNotMatch"),
        error("SignatureDoesNotMatch"),
    ]);
    let cx = context(&fake, policy(), FakeClock::new());
    let v = verify::verify_one(&cx, &cred);
    assert_eq!(v.status, Status::Invalid);
    assert!(v.detail.unwrap().contains("not its secret"));
    assert_eq!(fake.requests().len(), 2);
}

#[test]
fn canary_accounts_are_never_called_and_the_list_is_a_setting() {
    let (_, secret) = example("aws-access-key");
    let secret = secret.unwrap();
    let canary = key_for(KNOWN_CANARY_ACCOUNTS[0].parse().unwrap());
    assert_eq!(
        account_id(&canary).as_deref(),
        Some(KNOWN_CANARY_ACCOUNTS[0])
    );
    let fake = Fake::start(|_| Reply::text(200, IDENTITY));
    let mut cx = context(&fake, policy(), FakeClock::new());
    let cred = Credential {
        rule_id: "aws-access-key",
        secret: &canary,
        pair: Some(&secret),
    };
    let v = verify::verify_one(&cx, &cred);
    assert_eq!(v.status, Status::NotChecked);
    assert!(v.detail.as_deref().unwrap().contains("canary"), "{v:?}");
    assert!(
        v.identity
            .as_deref()
            .unwrap()
            .contains(KNOWN_CANARY_ACCOUNTS[0])
    );
    let p = registry::for_credential(&cred).unwrap();
    assert!(matches!(
        p.revoke(&cx, &[cred]).remove(0),
        Revoked::Failed(_)
    ));
    assert!(fake.requests().is_empty(), "a canary key never reaches AWS");

    // An account the user lists is skipped too; --verify-canaries calls AWS anyway.
    let mine = key_for(111_122_223_333);
    cx.canaries = Canaries::with(&["111122223333".into()], false).unwrap();
    let cred = Credential {
        secret: &mine,
        ..cred
    };
    assert_eq!(verify::verify_one(&cx, &cred).status, Status::NotChecked);
    assert!(fake.requests().is_empty());
    cx.canaries = Canaries::with(&["111122223333".into()], true).unwrap();
    assert_eq!(verify::verify_one(&cx, &cred).status, Status::Live);
    assert_eq!(fake.requests().len(), 1);
}

#[test]
fn key_ids_alone_report_their_account_offline() {
    let (key_id, _) = example("aws-access-key-id");
    let fake = Fake::start(|_| Reply::text(200, IDENTITY));
    let cx = context(&fake, policy(), FakeClock::new());
    let v = verify::verify_one(
        &cx,
        &Credential {
            rule_id: "aws-access-key-id",
            secret: &key_id,
            pair: None,
        },
    );
    assert_eq!(v.status, Status::NotChecked);
    let account = account_id(&key_id).unwrap();
    assert_eq!(
        v.identity,
        Some(format!("account {account} (decoded from the key id)"))
    );
    let (secret, _) = example("aws-secret-access-key");
    let v = verify::verify_one(
        &cx,
        &Credential {
            rule_id: "aws-secret-access-key",
            secret: &secret,
            pair: None,
        },
    );
    assert_eq!(v.status, Status::NotChecked);
    assert!(fake.requests().is_empty());
}

#[test]
fn revocation_deactivates_the_key_with_itself() {
    let (key_id, secret) = example("aws-access-key");
    let secret = secret.unwrap();
    let fake = scripted(vec![
        Reply::text(
            200,
            "<UpdateAccessKeyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata></UpdateAccessKeyResponse>",
        ),
        error("AccessDenied"),
        error("InvalidClientTokenId"),
    ]);
    let cx = context(&fake, policy(), FakeClock::new());
    let cred = Credential {
        rule_id: "aws-access-key",
        secret: &key_id,
        pair: Some(&secret),
    };
    let p = registry::for_credential(&cred).unwrap();
    assert_eq!(p.revoke(&cx, &[cred]), vec![Revoked::Revoked]);
    assert!(
        matches!(p.revoke(&cx, &[cred]).remove(0), Revoked::Failed(w) if w.contains("iam:UpdateAccessKey"))
    );
    assert!(matches!(
        p.revoke(&cx, &[cred]).remove(0),
        Revoked::AlreadyDead(_)
    ));
    for r in fake.requests() {
        assert_eq!(
            r.body,
            format!(
                "Action=UpdateAccessKey&Version=2010-05-08&AccessKeyId={key_id}&Status=Inactive"
            )
        );
        assert!(is_signed(&r, &key_id, "iam"), "{r:?}");
    }
}
