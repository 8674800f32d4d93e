//! The one HTTP client every adapter uses, one per run: rustls, a timeout per request, a global and a
//! per-provider limit on requests in flight, a minimum spacing between a provider's requests,
//! `Retry-After` honoured within bounds, bounded retries on 5xx and network failures, and a budget of
//! time per call and per run. Time is read and slept through a [`Clock`], so tests never sleep.
//!
//! Errors never carry a URL (a Slack webhook URL *is* a secret) nor any request header or body: a
//! failure is reduced to a category before it leaves this module.
//!
//! Proxies: plain-http requests (only ever to loopback: tests, local fakes) never go through a proxy,
//! since a proxy would see the credential in clear. https requests use `HTTPS_PROXY`/`https_proxy`
//! (and `ALL_PROXY`) when set, minus `NO_PROXY`; the proxy sees only the host name, TLS does the rest.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::HeaderMap;

/// Responses are read up to this size; provider answers for these calls are small.
const MAX_BODY: u64 = 1 << 20;

/// Reading the time and waiting: the system's, or a test's.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
    fn sleep(&self, d: Duration);
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d)
    }
}

/// Limits and waits. The defaults are what keysweep runs with.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Timeout of one request (connect and whole answer).
    pub timeout: Duration,
    /// Requests in flight across all providers.
    pub global_in_flight: usize,
    /// Requests in flight to one provider.
    pub provider_in_flight: usize,
    /// Minimum time between the starts of two requests to one provider.
    pub spacing: Duration,
    /// Retries after a 5xx answer or a network failure.
    pub max_retries: u32,
    /// Retries after a rate-limit answer.
    pub max_rate_limit_retries: u32,
    /// A `Retry-After` longer than this is not waited for.
    pub max_rate_limit_wait: Duration,
    /// Base delay before retrying a 5xx or network failure (doubled each time).
    pub backoff: Duration,
    /// All the time one call may take, its retries and waits included.
    pub per_call: Duration,
    /// All the time the calls of one run may take; later calls fail at once.
    pub per_run: Option<Duration>,
}

impl Policy {
    pub fn new(timeout: Duration) -> Policy {
        Policy {
            timeout,
            global_in_flight: 8,
            provider_in_flight: 4,
            spacing: Duration::from_millis(20),
            max_retries: 2,
            max_rate_limit_retries: 3,
            max_rate_limit_wait: Duration::from_secs(60),
            backoff: Duration::from_millis(250),
            per_call: timeout * 3 + Duration::from_secs(5),
            per_run: None,
        }
    }
}

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
    /// A category: DNS, connection, TLS, unreadable answer.
    Network(&'static str),
    /// Still rate limited after the allowed waits; the provider asked for this many seconds.
    RateLimited(Option<u64>),
    /// Still failing with this 5xx status after the allowed retries.
    Server(u16),
    /// The call's or the run's time budget ran out before an answer.
    OutOfTime,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Timeout => f.write_str("timed out"),
            Failure::Network(what) => f.write_str(what),
            Failure::RateLimited(Some(s)) => write!(f, "rate limited (retry after {s}s)"),
            Failure::RateLimited(None) => f.write_str("rate limited"),
            Failure::Server(code) => write!(f, "HTTP {code}"),
            Failure::OutOfTime => {
                f.write_str("ran out of time (--verify-timeout or --verify-budget)")
            }
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
            free: Mutex::new(n.max(1)),
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
    gates: Mutex<HashMap<&'static str, Arc<ProviderGate>>>,
    policy: Policy,
    clock: Arc<dyn Clock>,
    run_deadline: Option<Instant>,
}

impl Http {
    pub fn new(timeout: Duration) -> Result<Http, String> {
        Http::with(Policy::new(timeout), Arc::new(SystemClock))
    }

    pub fn with(policy: Policy, clock: Arc<dyn Clock>) -> Result<Http, String> {
        let mut builder = Client::builder()
            .use_rustls_tls()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            .user_agent(concat!("keysweep/", env!("CARGO_PKG_VERSION")))
            // A redirect could carry a secret-bearing request to another host.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if let Some(proxy) = https_proxy() {
            builder = builder.proxy(proxy);
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {}", e.without_url()))?;
        let run_deadline = policy.per_run.map(|d| clock.now() + d);
        Ok(Http {
            client,
            global: Semaphore::new(policy.global_in_flight),
            gates: Mutex::new(HashMap::new()),
            policy,
            clock,
            run_deadline,
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The clock requests wait on (tests inject one that never sleeps).
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    fn gate(&self, provider: &'static str) -> Arc<ProviderGate> {
        let mut gates = self.gates.lock().unwrap();
        gates
            .entry(provider)
            .or_insert_with(|| {
                Arc::new(ProviderGate {
                    in_flight: Semaphore::new(self.policy.provider_in_flight),
                    next_start: Mutex::new(self.clock.now()),
                })
            })
            .clone()
    }

    /// Sends the request `build` makes (called again for each retry) to `provider`.
    pub fn send(
        &self,
        provider: &'static str,
        build: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Response, Failure> {
        self.send_with(provider, self.policy.max_retries, build)
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

    /// Sleeps `d` unless that would pass `deadline`.
    fn wait(&self, d: Duration, deadline: Instant) -> Result<(), Failure> {
        if self.clock.now() + d > deadline {
            return Err(Failure::OutOfTime);
        }
        self.clock.sleep(d);
        Ok(())
    }

    fn send_with(
        &self,
        provider: &'static str,
        max_retries: u32,
        build: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Response, Failure> {
        let p = &self.policy;
        let mut deadline = self.clock.now() + p.per_call;
        if let Some(run) = self.run_deadline {
            deadline = deadline.min(run);
        }
        if self.clock.now() >= deadline {
            return Err(Failure::OutOfTime);
        }
        let gate = self.gate(provider);
        let mut retries = 0;
        let mut rate_retries = 0;
        loop {
            let outcome = {
                let _p = gate.in_flight.acquire();
                // Waiting for this provider's turn must not hold a global slot that a request to
                // another provider could use.
                self.wait_turn(&gate, deadline)?;
                let _g = self.global.acquire();
                build(&self.client).send().map_err(classify).and_then(read)
            };
            match outcome {
                Ok(resp) => {
                    if let Some(wait) = rate_limit_wait(&resp) {
                        if rate_retries >= p.max_rate_limit_retries {
                            return Err(Failure::RateLimited(wait.map(|d| d.as_secs())));
                        }
                        let d = match wait {
                            Some(d) if d <= p.max_rate_limit_wait => d,
                            None => p.backoff * 4,
                            Some(d) => return Err(Failure::RateLimited(Some(d.as_secs()))),
                        };
                        rate_retries += 1;
                        // A wait past the budget is not started: the secret ran out of time, and
                        // says so (one secret can never wait 3 x Retry-After).
                        self.wait(d, deadline)?;
                        continue;
                    }
                    if resp.status >= 500 {
                        if retries < max_retries {
                            self.wait(p.backoff * 2u32.pow(retries), deadline)
                                .map_err(|_| Failure::Server(resp.status))?;
                            retries += 1;
                            continue;
                        }
                        return Err(Failure::Server(resp.status));
                    }
                    return Ok(resp);
                }
                Err(f) => {
                    if retries < max_retries && f != Failure::OutOfTime {
                        self.wait(p.backoff * 2u32.pow(retries), deadline)
                            .map_err(|_| f.clone())?;
                        retries += 1;
                        continue;
                    }
                    return Err(f);
                }
            }
        }
    }

    fn wait_turn(&self, gate: &ProviderGate, deadline: Instant) -> Result<(), Failure> {
        let start = {
            let mut next = gate.next_start.lock().unwrap();
            let now = self.clock.now();
            let start = (*next).max(now);
            *next = start + self.policy.spacing;
            start
        };
        let now = self.clock.now();
        if start > now {
            self.wait(start - now, deadline)?;
        }
        Ok(())
    }
}

/// The https proxy from the environment, if any, with `NO_PROXY` honoured.
fn https_proxy() -> Option<reqwest::Proxy> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let url = var("HTTPS_PROXY")
        .or_else(|| var("https_proxy"))
        .or_else(|| var("ALL_PROXY"))
        .or_else(|| var("all_proxy"))?;
    let proxy = reqwest::Proxy::https(url.trim()).ok()?;
    Some(proxy.no_proxy(reqwest::NoProxy::from_env()))
}

/// Reduces a reqwest error to a category: its text may name the URL (a webhook URL is a secret).
fn classify(e: reqwest::Error) -> Failure {
    use std::error::Error as _;
    let e = e.without_url();
    if e.is_timeout() {
        return Failure::Timeout;
    }
    // The cause chain tells DNS, TLS and refused connections apart; only its kind is kept.
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string().to_ascii_lowercase();
        if text.contains("dns") || text.contains("resolve") || text.contains("lookup") {
            return Failure::Network("DNS lookup failed");
        }
        if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
            return Failure::Network("TLS failed");
        }
        cause = c.source();
    }
    if e.is_connect() {
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
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(86_400.0)));
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
        // Nonsense is no wait at all, never a panic.
        assert_eq!(
            rate_limit_wait(&resp(429, &[("retry-after", "-5")])),
            Some(None)
        );
        assert_eq!(
            rate_limit_wait(&resp(429, &[("retry-after", "1e400")])),
            Some(None)
        );
    }

    /// A clock that only moves when slept on, and counts the sleeps.
    struct FakeClock {
        start: Instant,
        slept: Mutex<Duration>,
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            self.start + *self.slept.lock().unwrap()
        }
        fn sleep(&self, d: Duration) {
            *self.slept.lock().unwrap() += d;
        }
    }

    /// A server that answers every request with 429 and `Retry-After: 60`.
    fn always_limited() -> (String, Arc<Mutex<u32>>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let hits = Arc::new(Mutex::new(0));
        let h = hits.clone();
        std::thread::spawn(move || {
            for s in listener.incoming() {
                let Ok(mut s) = s else { continue };
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                *h.lock().unwrap() += 1;
                let _ = s.write_all(
                    b"HTTP/1.1 429 Too Many\r\nretry-after: 60\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        (url, hits)
    }

    #[test]
    fn retry_after_never_outlasts_the_budget() {
        let (url, hits) = always_limited();
        let clock = Arc::new(FakeClock {
            start: Instant::now(),
            slept: Mutex::new(Duration::ZERO),
        });
        // The old policy: three waits of 60 s for one secret, three minutes in all.
        let mut policy = Policy::new(Duration::from_secs(10));
        policy.per_call = Duration::from_secs(10);
        policy.per_run = Some(Duration::from_secs(25));
        let http = Http::with(policy, clock.clone()).unwrap();
        let r = http.send("t", |c| c.get(&url));
        assert_eq!(r.unwrap_err(), Failure::OutOfTime);
        assert!(*clock.slept.lock().unwrap() < Duration::from_secs(10));
        assert_eq!(*hits.lock().unwrap(), 1);
        // Within the budget the waits are made, up to the limit of retries.
        let mut policy = Policy::new(Duration::from_secs(10));
        policy.per_call = Duration::from_secs(200);
        let http = Http::with(policy, clock.clone()).unwrap();
        let before = *clock.slept.lock().unwrap();
        assert_eq!(
            http.send("t", |c| c.get(&url)).unwrap_err(),
            Failure::RateLimited(Some(60))
        );
        assert!(*clock.slept.lock().unwrap() - before >= Duration::from_secs(180));
    }

    #[test]
    fn the_run_budget_stops_later_calls_at_once() {
        let (url, hits) = always_limited();
        let clock = Arc::new(FakeClock {
            start: Instant::now(),
            slept: Mutex::new(Duration::ZERO),
        });
        let mut policy = Policy::new(Duration::from_secs(10));
        policy.per_call = Duration::from_secs(100);
        policy.per_run = Some(Duration::from_secs(70));
        let http = Http::with(policy, clock.clone()).unwrap();
        assert_eq!(
            http.send("t", |c| c.get(&url)).unwrap_err(),
            Failure::OutOfTime
        );
        clock.sleep(Duration::from_secs(71));
        let n = *hits.lock().unwrap();
        assert_eq!(
            http.send("t", |c| c.get(&url)).unwrap_err(),
            Failure::OutOfTime
        );
        assert_eq!(
            *hits.lock().unwrap(),
            n,
            "a call past the run budget was sent"
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
