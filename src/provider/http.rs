//! The one HTTP client every adapter uses: rustls, a timeout per request, a global and a per-provider
//! limit on requests in flight, a minimum spacing between a provider's requests, `Retry-After` honoured
//! within bounds, and bounded retries on 5xx and network failures.
//!
//! Errors never carry a URL (a Slack webhook URL *is* a secret) nor any request header or body: a
//! failure is reduced to a category before it leaves this module.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::HeaderMap;

/// Requests in flight across all providers.
const GLOBAL_IN_FLIGHT: usize = 8;
/// Requests in flight to one provider.
const PROVIDER_IN_FLIGHT: usize = 4;
/// Minimum time between the starts of two requests to one provider.
const PROVIDER_SPACING: Duration = Duration::from_millis(20);
/// Retries after a 5xx answer or a network failure.
const MAX_RETRIES: u32 = 2;
/// Retries after a rate-limit answer.
const MAX_RATE_LIMIT_RETRIES: u32 = 3;
/// A `Retry-After` longer than this is not waited for: the secret is reported `unknown` instead.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
/// Responses are read up to this size; provider answers for these calls are small.
const MAX_BODY: u64 = 1 << 20;

/// A response, read whole.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Why a request produced no usable answer. Holds no URL, header or body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Timeout,
    Network(&'static str),
    /// Still rate limited after the allowed waits; the provider asked for this many seconds.
    RateLimited(Option<u64>),
    /// Still failing with this 5xx status after the allowed retries.
    Server(u16),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Timeout => f.write_str("timed out"),
            Failure::Network(what) => f.write_str(what),
            Failure::RateLimited(Some(s)) => write!(f, "rate limited (retry after {s}s)"),
            Failure::RateLimited(None) => f.write_str("rate limited"),
            Failure::Server(code) => write!(f, "HTTP {code}"),
        }
    }
}

/// A counting semaphore: std has none, and a channel of tokens would hide the intent.
struct Semaphore {
    free: Mutex<usize>,
    cv: Condvar,
}

impl Semaphore {
    fn new(n: usize) -> Semaphore {
        Semaphore {
            free: Mutex::new(n),
            cv: Condvar::new(),
        }
    }

    fn acquire(&self) -> Permit<'_> {
        let mut free = self.free.lock().unwrap();
        while *free == 0 {
            free = self.cv.wait(free).unwrap();
        }
        *free -= 1;
        Permit(self)
    }
}

struct Permit<'a>(&'a Semaphore);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap() += 1;
        self.0.cv.notify_one();
    }
}

struct ProviderGate {
    in_flight: Semaphore,
    next_start: Mutex<Instant>,
}

pub struct Http {
    client: Client,
    global: Semaphore,
    gates: Mutex<HashMap<&'static str, &'static ProviderGate>>,
    /// Base delay before retrying a 5xx or network failure (doubled each time).
    backoff: Duration,
}

impl Http {
    pub fn new(timeout: Duration) -> anyhow::Result<Http> {
        let client = Client::builder()
            .use_rustls_tls()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("keysweep/", env!("CARGO_PKG_VERSION")))
            // A redirect could carry a secret-bearing request to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the HTTP client: {}", e.without_url()))?;
        Ok(Http {
            client,
            global: Semaphore::new(GLOBAL_IN_FLIGHT),
            gates: Mutex::new(HashMap::new()),
            backoff: Duration::from_millis(250),
        })
    }

    fn gate(&self, provider: &'static str) -> &'static ProviderGate {
        let mut gates = self.gates.lock().unwrap();
        // One small allocation per provider for the life of the process; leaking it lets permits
        // borrow the gate without tying them to the map's lock.
        gates.entry(provider).or_insert_with(|| {
            Box::leak(Box::new(ProviderGate {
                in_flight: Semaphore::new(PROVIDER_IN_FLIGHT),
                next_start: Mutex::new(Instant::now()),
            }))
        })
    }

    /// Sends the request `build` makes (called again for each retry) to `provider`.
    pub fn send(
        &self,
        provider: &'static str,
        build: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Response, Failure> {
        self.send_with(provider, MAX_RETRIES, build)
    }

    /// As [`Http::send`], but a 5xx or a network failure is not retried: for calls that mint a
    /// secret and retire the old one, where a lost answer must not be followed by a second attempt
    /// (it would fail, and the first attempt's new secret would be gone). Rate-limit answers, which
    /// mean the request was not processed, are still waited out.
    pub fn send_once(
        &self,
        provider: &'static str,
        build: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Response, Failure> {
        self.send_with(provider, 0, build)
    }

    fn send_with(
        &self,
        provider: &'static str,
        max_retries: u32,
        build: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Response, Failure> {
        let gate = self.gate(provider);
        let mut retries = 0;
        let mut rate_retries = 0;
        loop {
            let outcome = {
                let _p = gate.in_flight.acquire();
                let _g = self.global.acquire();
                wait_turn(gate);
                build(&self.client).send().map_err(classify).and_then(read)
            };
            match outcome {
                Ok(resp) => {
                    if let Some(wait) = rate_limit_wait(&resp) {
                        let secs = wait.map(|d| d.as_secs());
                        match wait {
                            Some(d)
                                if d <= MAX_RATE_LIMIT_WAIT
                                    && rate_retries < MAX_RATE_LIMIT_RETRIES =>
                            {
                                rate_retries += 1;
                                std::thread::sleep(d);
                                continue;
                            }
                            None if rate_retries < MAX_RATE_LIMIT_RETRIES => {
                                rate_retries += 1;
                                std::thread::sleep(self.backoff * 4);
                                continue;
                            }
                            _ => return Err(Failure::RateLimited(secs)),
                        }
                    }
                    if resp.status >= 500 {
                        if retries < max_retries {
                            std::thread::sleep(self.backoff * 2u32.pow(retries));
                            retries += 1;
                            continue;
                        }
                        return Err(Failure::Server(resp.status));
                    }
                    return Ok(resp);
                }
                Err(f) => {
                    if retries < max_retries {
                        std::thread::sleep(self.backoff * 2u32.pow(retries));
                        retries += 1;
                        continue;
                    }
                    return Err(f);
                }
            }
        }
    }
}

fn wait_turn(gate: &ProviderGate) {
    let start = {
        let mut next = gate.next_start.lock().unwrap();
        let now = Instant::now();
        let start = (*next).max(now);
        *next = start + PROVIDER_SPACING;
        start
    };
    let now = Instant::now();
    if start > now {
        std::thread::sleep(start - now);
    }
}

/// Reduces a reqwest error to a category: its text may name the URL (a webhook URL is a secret).
fn classify(e: reqwest::Error) -> Failure {
    let e = e.without_url();
    if e.is_timeout() {
        Failure::Timeout
    } else if e.is_connect() {
        Failure::Network("connection failed")
    } else if e.is_body() || e.is_decode() {
        Failure::Network("unreadable response")
    } else {
        Failure::Network("request failed")
    }
}

fn read(resp: reqwest::blocking::Response) -> Result<Response, Failure> {
    use std::io::Read;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let mut body = Vec::new();
    resp.take(MAX_BODY)
        .read_to_end(&mut body)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => Failure::Timeout,
            _ => Failure::Network("unreadable response"),
        })?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// `Some(wait)` when the answer says "slow down": 429, or GitHub's 403 with an exhausted quota or a
/// `Retry-After`. The wait comes from `Retry-After` (seconds) or `x-ratelimit-reset` (epoch seconds);
/// `Some(None)` when the answer gives no time.
fn rate_limit_wait(resp: &Response) -> Option<Option<Duration>> {
    let retry_after = resp
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let exhausted = resp.header("x-ratelimit-remaining").map(str::trim) == Some("0");
    let limited = resp.status == 429
        || (resp.status == 403 && (exhausted || resp.header("retry-after").is_some()));
    if !limited {
        return None;
    }
    if retry_after.is_some() {
        return Some(retry_after);
    }
    let reset = resp
        .header("x-ratelimit-reset")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|epoch| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            Duration::from_secs(epoch.saturating_sub(now))
        });
    Some(reset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, headers: &[(&'static str, &'static str)]) -> Response {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, v.parse().unwrap());
        }
        Response {
            status,
            headers: h,
            body: Vec::new(),
        }
    }

    #[test]
    fn rate_limit_signals() {
        assert_eq!(rate_limit_wait(&resp(200, &[])), None);
        assert_eq!(
            rate_limit_wait(&resp(429, &[("retry-after", "3")])),
            Some(Some(Duration::from_secs(3)))
        );
        assert_eq!(rate_limit_wait(&resp(429, &[])), Some(None));
        assert_eq!(rate_limit_wait(&resp(403, &[])), None);
        assert!(rate_limit_wait(&resp(403, &[("x-ratelimit-remaining", "0")])).is_some());
        assert_eq!(
            rate_limit_wait(&resp(403, &[("retry-after", "7")])),
            Some(Some(Duration::from_secs(7)))
        );
    }

    #[test]
    fn failures_name_no_url() {
        assert_eq!(Failure::Server(503).to_string(), "HTTP 503");
        assert_eq!(
            Failure::RateLimited(Some(90)).to_string(),
            "rate limited (retry after 90s)"
        );
    }
}
