//! Verification of many credentials: each once, in parallel, bounded by the HTTP client's limits.

use keysweep_core::finding::Verification;

use crate::adapter::{Credential, Provider};
use crate::{Context, checked_now, registry};

/// Threads that wait on provider answers. They spend their time blocked on the network, so there are
/// more of them than cores; the HTTP client's limits bound what reaches each provider.
const WORKERS: usize = 8;

/// Verifies one credential, if its rule and shape allow it to be sent anywhere.
pub fn verify_one(cx: &Context, cred: &Credential) -> Verification {
    let v = match registry::for_credential(cred) {
        Some(p) if p.capabilities(cred).verify => p.verify(cx, cred),
        Some(p) => {
            // Checking would consume it (a refresh token), or there is no read-only call.
            let mut v = p.verify(cx, cred);
            if v.detail.is_none() {
                v.detail = Some("no read-only check".into());
            }
            v
        }
        None => registry::not_sent(cred),
    };
    checked_now(v)
}

/// Verifies each credential, in parallel; one verification per credential, in order.
pub fn verify_all(cx: &Context, creds: &[Credential]) -> Vec<Verification> {
    use rayon::prelude::*;
    let order = interleaved(creds);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(WORKERS.min(creds.len()).max(1))
        .thread_name(|i| format!("keysweep-verify-{i}"))
        .build();
    let run = |i: &usize| (*i, verify_one(cx, &creds[*i]));
    let done: Vec<(usize, Verification)> = match pool {
        Ok(pool) => pool.install(|| order.par_iter().map(run).collect()),
        Err(_) => order.iter().map(run).collect(),
    };
    let mut out: Vec<Option<Verification>> = vec![None; creds.len()];
    for (i, v) in done {
        out[i] = Some(v);
    }
    out.into_iter()
        .map(|v| v.expect("every credential is verified"))
        .collect()
}

/// The credentials' indexes with providers taken in turn: findings come sorted by rule, and asking
/// one provider about hundreds of secrets before the next would leave the workers waiting on that
/// provider's own limits while the others sit idle.
fn interleaved(creds: &[Credential]) -> Vec<usize> {
    let mut queues: Vec<(&str, std::collections::VecDeque<usize>)> = Vec::new();
    for (i, c) in creds.iter().enumerate() {
        let provider = registry::resolve(c.rule_id).map_or("", |r| r.name());
        match queues.iter_mut().find(|(p, _)| *p == provider) {
            Some((_, q)) => q.push_back(i),
            None => queues.push((provider, std::collections::VecDeque::from([i]))),
        }
    }
    let mut order = Vec::with_capacity(creds.len());
    while order.len() < creds.len() {
        for (_, q) in queues.iter_mut() {
            if let Some(i) = q.pop_front() {
                order.push(i);
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_are_taken_in_turn() {
        let a = ["xoxb-", "1"].concat();
        let c = |rule_id| Credential {
            rule_id,
            secret: &a,
            pair: None,
        };
        let creds = [
            c("slack-bot-token"),
            c("slack-bot-token"),
            c("slack-bot-token"),
            c("github-pat"),
            c("huggingface-token"),
        ];
        assert_eq!(interleaved(&creds), vec![0, 3, 4, 1, 2]);
    }
}
