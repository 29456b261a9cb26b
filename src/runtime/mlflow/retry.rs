//! Retries with exponential backoff and jitter, configured by MLflow's own
//! `MLFLOW_HTTP_REQUEST_*` variables, with MLflow 3.17's defaults and limits
//! (`mlflow/environment_variables.py`, `mlflow/utils/request_utils.py`).
//!
//! The schedule copies urllib3's `Retry` as MLflow uses it: the first retry is immediate,
//! retry `n > 1` waits `backoff_factor * 2^(n-1)` seconds plus up to `backoff_jitter` random
//! seconds, capped at 120 s.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// MLflow 3.17's default `MLFLOW_HTTP_REQUEST_MAX_RETRIES`.
pub const DEFAULT_MAX_RETRIES: u32 = 7;
/// MLflow 3.17's default `MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR`.
pub const DEFAULT_BACKOFF_FACTOR: f64 = 2.0;
/// MLflow 3.17's default `MLFLOW_HTTP_REQUEST_BACKOFF_JITTER`.
pub const DEFAULT_BACKOFF_JITTER: f64 = 1.0;
/// MLflow 3.17's default `MLFLOW_HTTP_REQUEST_TIMEOUT`, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 120;
/// MLflow refuses more retries than this (`_MLFLOW_HTTP_REQUEST_MAX_RETRIES_LIMIT`).
pub const MAX_RETRIES_LIMIT: u32 = 10;
/// MLflow refuses a larger factor (`_MLFLOW_HTTP_REQUEST_MAX_BACKOFF_FACTOR_LIMIT`).
pub const MAX_BACKOFF_FACTOR_LIMIT: f64 = 120.0;
/// urllib3's `Retry.DEFAULT_BACKOFF_MAX`: no single wait is longer.
pub const BACKOFF_MAX: Duration = Duration::from_secs(120);

/// HTTP statuses MLflow's client retries.
pub const RETRY_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];

/// How often and how patiently to retry.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Seconds; the base of the exponential backoff.
    pub backoff_factor: f64,
    /// Seconds of random jitter added to each backoff.
    pub backoff_jitter: f64,
    /// Timeout of one request.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: DEFAULT_MAX_RETRIES,
            backoff_factor: DEFAULT_BACKOFF_FACTOR,
            backoff_jitter: DEFAULT_BACKOFF_JITTER,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
        }
    }
}

fn parse<T: std::str::FromStr>(
    name: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<T>, String> {
    match lookup(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("`{name}` must be a number, not `{v}`")),
    }
}

/// An integer variable, read as MLflow reads it: Python's `int(value)`, which takes an
/// optional sign and digits with single `_` between them, and refuses `0.5`. A value MLflow
/// refuses would crash the training script's client after mlops accepted it.
fn parse_int(name: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<i64>, String> {
    let Some(v) = lookup(name).filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let t = v.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    let pythonic = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
    pythonic
        .then(|| t.replace('_', "").parse::<i64>().ok())
        .flatten()
        .map(Some)
        .ok_or_else(|| format!("`{name}` must be a whole number, as MLflow reads it, not `{v}`"))
}

impl RetryPolicy {
    /// Reads the `MLFLOW_HTTP_REQUEST_*` variables from the environment.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(&|k| std::env::var(k).ok())
    }

    /// Reads the variables through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        let d = Self::default();
        // Types from MLflow 3.17's `mlflow/environment_variables.py`: int, int, float, int.
        let max_retries = parse_int("MLFLOW_HTTP_REQUEST_MAX_RETRIES", lookup)?
            .map_or(Ok(d.max_retries), |n| {
                u32::try_from(n).map_err(|_| {
                    format!("`MLFLOW_HTTP_REQUEST_MAX_RETRIES` is {n}; MLflow allows 0 to {MAX_RETRIES_LIMIT}")
                })
            })?;
        #[allow(clippy::cast_precision_loss)]
        let backoff_factor = parse_int("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", lookup)?
            .map_or(d.backoff_factor, |n| n as f64);
        let backoff_jitter =
            parse::<f64>("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", lookup)?.unwrap_or(d.backoff_jitter);
        let timeout = match parse_int("MLFLOW_HTTP_REQUEST_TIMEOUT", lookup)? {
            None => d.timeout,
            Some(s) if s > 0 => Duration::from_secs(s.unsigned_abs().min(86_400)),
            Some(s) => {
                return Err(format!(
                    "`MLFLOW_HTTP_REQUEST_TIMEOUT` is {s}; it must be at least 1 second"
                ));
            }
        };
        if max_retries > MAX_RETRIES_LIMIT {
            return Err(format!(
                "`MLFLOW_HTTP_REQUEST_MAX_RETRIES` is {max_retries}; MLflow allows at most {MAX_RETRIES_LIMIT}"
            ));
        }
        if !(0.0..=MAX_BACKOFF_FACTOR_LIMIT).contains(&backoff_factor) {
            return Err(format!(
                "`MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR` is {backoff_factor}; MLflow allows 0 to {MAX_BACKOFF_FACTOR_LIMIT}"
            ));
        }
        if !(backoff_jitter.is_finite() && backoff_jitter >= 0.0) {
            return Err("`MLFLOW_HTTP_REQUEST_BACKOFF_JITTER` must be zero or more".to_owned());
        }
        Ok(Self {
            max_retries,
            backoff_factor,
            backoff_jitter,
            timeout,
        })
    }

    /// The wait before retry number `retry` (1-based), without jitter.
    pub fn base_delay(&self, retry: u32) -> Duration {
        if retry <= 1 {
            return Duration::ZERO;
        }
        let secs = self.backoff_factor * 2f64.powi(i32::try_from(retry.min(30)).unwrap_or(30) - 1);
        Duration::from_secs_f64(secs.min(BACKOFF_MAX.as_secs_f64()))
    }

    /// The wait before retry number `retry`, with jitter from `rng`.
    pub fn delay(&self, retry: u32, rng: &mut Jitter) -> Duration {
        if retry <= 1 {
            return Duration::ZERO;
        }
        let secs = self.base_delay(retry).as_secs_f64() + rng.next_f64() * self.backoff_jitter;
        Duration::from_secs_f64(secs.min(BACKOFF_MAX.as_secs_f64()))
    }

    /// The longest a call can take: every attempt timing out plus every wait at full jitter.
    pub fn budget(&self) -> Duration {
        let waits: f64 = (1..=self.max_retries)
            .map(|n| {
                if n <= 1 {
                    0.0
                } else {
                    (self.base_delay(n).as_secs_f64() + self.backoff_jitter)
                        .min(BACKOFF_MAX.as_secs_f64())
                }
            })
            .sum();
        Duration::from_secs_f64(waits) + self.timeout * (self.max_retries + 1)
    }
}

/// A small xorshift64* generator for jitter; no cryptographic use.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    /// Seeded from the clock and the process id, so parallel jobs do not retry in lockstep.
    pub fn from_time_and_pid() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Self::seeded(nanos ^ (u64::from(std::process::id()) << 32))
    }

    /// A fixed seed (tests).
    pub fn seeded(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// A number in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn defaults_match_mlflow_3_17() {
        let p = RetryPolicy::from_lookup(&lookup(&[])).unwrap();
        assert_eq!(p, RetryPolicy::default());
        assert_eq!(p.max_retries, 7);
        // urllib3 schedule with factor 2: 0, 4, 8, 16, 32, 64, 120 (capped).
        let waits: Vec<u64> = (1..=7).map(|n| p.base_delay(n).as_secs()).collect();
        assert_eq!(waits, [0, 4, 8, 16, 32, 64, 120]);
    }

    #[test]
    fn env_overrides_and_limits() {
        let p = RetryPolicy::from_lookup(&lookup(&[
            ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2"),
            ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0"),
            ("MLFLOW_HTTP_REQUEST_TIMEOUT", "5"),
        ]))
        .unwrap();
        assert_eq!((p.max_retries, p.timeout), (2, Duration::from_secs(5)));
        assert_eq!(p.base_delay(2), Duration::ZERO);
        assert!(
            RetryPolicy::from_lookup(&lookup(&[("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "11")]))
                .is_err()
        );
        assert!(
            RetryPolicy::from_lookup(&lookup(&[("MLFLOW_HTTP_REQUEST_TIMEOUT", "x")])).is_err()
        );
        // As Python's int(): MLflow's client would crash on what mlops accepted.
        for bad in ["0.5", "1e3", "_1", "1__0", "", "+"] {
            let r = RetryPolicy::from_lookup(&|k| {
                (k == "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR").then(|| bad.to_owned())
            });
            assert_eq!(r.is_err(), !bad.is_empty(), "{bad}");
        }
        let e = RetryPolicy::from_lookup(&lookup(&[("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0.5")]))
            .unwrap_err();
        assert!(e.contains("whole number"), "{e}");
        let p = RetryPolicy::from_lookup(&lookup(&[
            ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", " +1_0 "),
            ("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0.25"),
        ]))
        .unwrap();
        assert_eq!((p.backoff_factor, p.backoff_jitter), (10.0, 0.25));
        assert!(
            RetryPolicy::from_lookup(&lookup(&[("MLFLOW_HTTP_REQUEST_TIMEOUT", "1.5")])).is_err()
        );
    }

    #[test]
    fn jitter_stays_in_range() {
        let p = RetryPolicy {
            backoff_jitter: 0.5,
            ..RetryPolicy::default()
        };
        let mut rng = Jitter::seeded(42);
        for n in 2..=7 {
            let d = p.delay(n, &mut rng);
            assert!(
                d >= p.base_delay(n) && d <= p.base_delay(n) + Duration::from_millis(500)
                    || d == BACKOFF_MAX
            );
        }
        let mut rng = Jitter::seeded(7);
        assert!(
            (0..1000)
                .map(|_| rng.next_f64())
                .all(|x| (0.0..1.0).contains(&x))
        );
    }
}
