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
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(WORKERS.min(creds.len()).max(1))
        .thread_name(|i| format!("keysweep-verify-{i}"))
        .build();
    match pool {
        Ok(pool) => pool.install(|| creds.par_iter().map(|c| verify_one(cx, c)).collect()),
        Err(_) => creds.iter().map(|c| verify_one(cx, c)).collect(),
    }
}
