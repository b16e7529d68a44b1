//! Sign-in throttling as a pure state machine: failures go in with their times, the answer is
//! whether an attempt may be made now and, if not, when. There is no clock inside, so the same
//! code runs in memory or replays the failures a database kept (server instances share no
//! memory, so the store's `login_failures` rows are the real state).
//!
//! Rule: 5 failures within 15 minutes lock the key for 15 minutes. A lockout that follows
//! another within a day lasts twice as long as the one before (15 min, 30 min, 1 h, … up to a
//! day). A successful sign-in clears everything.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::IpAddr;

use time::{Duration, OffsetDateTime};

use crate::email::EmailAddress;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures within `window` that trigger a lockout.
    pub max_failures: usize,
    pub window: Duration,
    /// The first lockout; each repeat doubles it, up to `max_lockout`.
    pub lockout: Duration,
    pub max_lockout: Duration,
    /// A lockout starting within this long after the previous one ended counts as a repeat.
    pub repeat_within: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window: Duration::minutes(15),
            lockout: Duration::minutes(15),
            max_lockout: Duration::days(1),
            repeat_within: Duration::days(1),
        }
    }
}

impl ThrottlePolicy {
    /// How far back the failures passed to [`ThrottleState::replay`] should go. A week covers
    /// a chain of lockouts long enough to reach `max_lockout`; an older chain is forgotten,
    /// which only shortens the next lockout.
    pub fn lookback(&self) -> Duration {
        Duration::weeks(1)
    }

    fn lockout_for(&self, nth: u32) -> Duration {
        // Doubling stops at the cap, so a long chain of repeats can neither overflow nor wrap
        // to a negative (that is, no) lockout.
        let mut d = self.lockout;
        for _ in 1..nth {
            if d >= self.max_lockout {
                break;
            }
            d = d.saturating_mul(2);
        }
        d.min(self.max_lockout)
    }
}

/// The answer to "may this key try to sign in now?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Allowed,
    Locked { retry_at: OffsetDateTime },
}

impl Attempt {
    pub fn is_allowed(self) -> bool {
        self == Attempt::Allowed
    }

    pub fn retry_at(self) -> Option<OffsetDateTime> {
        match self {
            Attempt::Allowed => None,
            Attempt::Locked { retry_at } => Some(retry_at),
        }
    }

    /// The stricter of two answers, for checking the account and the source address together.
    pub fn and(self, other: Attempt) -> Attempt {
        match (self.retry_at(), other.retry_at()) {
            (None, None) => Attempt::Allowed,
            (a, b) => Attempt::Locked {
                retry_at: a.max(b).expect("one of them is locked"),
            },
        }
    }
}

/// The throttling state of one key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThrottleState {
    /// Failures since the last lockout, oldest first, none older than the window.
    recent: VecDeque<OffsetDateTime>,
    locked_until: Option<OffsetDateTime>,
    /// Lockouts in the current chain of repeats.
    lockouts: u32,
}

impl ThrottleState {
    /// Rebuilds the state from stored failure times (any order). Failures that fall inside a
    /// lockout are ignored, as they are when recorded live.
    pub fn replay(
        policy: &ThrottlePolicy,
        failures: impl IntoIterator<Item = OffsetDateTime>,
    ) -> Self {
        let mut times: Vec<OffsetDateTime> = failures.into_iter().collect();
        times.sort();
        let mut state = Self::default();
        for at in times {
            state.record_failure(policy, at);
        }
        state
    }

    pub fn check(&self, now: OffsetDateTime) -> Attempt {
        match self.locked_until {
            Some(until) if now < until => Attempt::Locked { retry_at: until },
            _ => Attempt::Allowed,
        }
    }

    /// Records a failed sign-in at `at` and returns what the next attempt may do.
    pub fn record_failure(&mut self, policy: &ThrottlePolicy, at: OffsetDateTime) -> Attempt {
        if let locked @ Attempt::Locked { .. } = self.check(at) {
            return locked;
        }
        while self
            .recent
            .front()
            .is_some_and(|&t| at - t >= policy.window)
        {
            self.recent.pop_front();
        }
        self.recent.push_back(at);
        if self.recent.len() < policy.max_failures {
            return Attempt::Allowed;
        }
        let repeat = self
            .locked_until
            .is_some_and(|ended| at - ended <= policy.repeat_within);
        self.lockouts = if repeat {
            self.lockouts.saturating_add(1)
        } else {
            1
        };
        let until = at + policy.lockout_for(self.lockouts);
        self.locked_until = Some(until);
        self.recent.clear();
        Attempt::Locked { retry_at: until }
    }

    /// Whether this state no longer affects anything at `now` and may be dropped.
    pub fn is_idle(&self, policy: &ThrottlePolicy, now: OffsetDateTime) -> bool {
        let failures_expired = self.recent.back().is_none_or(|&t| now - t >= policy.window);
        let chain_expired = self
            .locked_until
            .is_none_or(|until| now - until > policy.repeat_within);
        failures_expired && chain_expired
    }
}

/// What failures are counted against: the account signed in to, and the address signing in
/// (which catches one source trying many accounts).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    Account(String),
    Address(IpAddr),
}

impl ThrottleKey {
    /// Keyed by the address as typed, whether or not an account has it, so that probing for
    /// accounts is throttled like guessing passwords.
    pub fn account(email: &EmailAddress) -> Self {
        ThrottleKey::Account(email.as_str().to_lowercase())
    }

    pub fn address(ip: IpAddr) -> Self {
        ThrottleKey::Address(ip)
    }

    /// The `login_failures.throttle_key` column value.
    pub fn storage_key(&self) -> String {
        match self {
            ThrottleKey::Account(email) => format!("account:{email}"),
            ThrottleKey::Address(ip) => format!("address:{ip}"),
        }
    }
}

impl fmt::Debug for ThrottleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThrottleKey::Account(_) => f.write_str("ThrottleKey::Account(<redacted>)"),
            ThrottleKey::Address(ip) => write!(f, "ThrottleKey::Address({ip})"),
        }
    }
}

/// Throttling state for many keys, for a single process (tests, a single-instance
/// deployment); with several instances, replay each key's stored failures instead.
#[derive(Debug, Clone, Default)]
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    keys: HashMap<ThrottleKey, ThrottleState>,
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            keys: HashMap::new(),
        }
    }

    pub fn policy(&self) -> &ThrottlePolicy {
        &self.policy
    }

    pub fn check(&self, key: &ThrottleKey, now: OffsetDateTime) -> Attempt {
        self.keys
            .get(key)
            .map_or(Attempt::Allowed, |s| s.check(now))
    }

    /// The stricter answer over several keys (typically the account and the address).
    pub fn check_all<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k ThrottleKey>,
        now: OffsetDateTime,
    ) -> Attempt {
        keys.into_iter()
            .fold(Attempt::Allowed, |acc, k| acc.and(self.check(k, now)))
    }

    pub fn record_failure(&mut self, key: ThrottleKey, at: OffsetDateTime) -> Attempt {
        let policy = self.policy;
        self.keys
            .entry(key)
            .or_default()
            .record_failure(&policy, at)
    }

    pub fn record_success(&mut self, key: &ThrottleKey) {
        self.keys.remove(key);
    }

    /// Drops keys whose state no longer matters, so memory does not grow with every address
    /// that ever failed once.
    pub fn forget_idle(&mut self, now: OffsetDateTime) {
        let policy = self.policy;
        self.keys.retain(|_, s| !s.is_idle(&policy, now));
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn t0() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    fn mins(m: i64) -> OffsetDateTime {
        t0() + Duration::minutes(m)
    }

    fn acct() -> ThrottleKey {
        ThrottleKey::account(&EmailAddress::parse("Ada@Example.com").unwrap())
    }

    fn ip() -> ThrottleKey {
        ThrottleKey::address(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)))
    }

    /// Five failures one minute apart starting at `start`; returns the last answer.
    fn five(th: &mut LoginThrottle, key: &ThrottleKey, start: i64) -> Attempt {
        let mut last = Attempt::Allowed;
        for i in 0..5 {
            last = th.record_failure(key.clone(), mins(start + i));
        }
        last
    }

    #[test]
    fn fifth_failure_within_the_window_locks_for_15_minutes() {
        let mut th = LoginThrottle::default();
        for i in 0..4 {
            assert_eq!(th.record_failure(acct(), mins(i)), Attempt::Allowed);
            assert!(th.check(&acct(), mins(i)).is_allowed());
        }
        let locked = th.record_failure(acct(), mins(4));
        assert_eq!(locked, Attempt::Locked { retry_at: mins(19) });
        assert_eq!(th.check(&acct(), mins(10)).retry_at(), Some(mins(19)));
        assert!(!th
            .check(&acct(), mins(19) - Duration::seconds(1))
            .is_allowed());
        assert!(th.check(&acct(), mins(19)).is_allowed());
        assert!(
            th.check(&ip(), mins(10)).is_allowed(),
            "other keys are unaffected"
        );
    }

    #[test]
    fn failures_spread_beyond_the_window_never_lock() {
        let mut th = LoginThrottle::default();
        for i in 0..20 {
            assert!(
                th.record_failure(acct(), mins(i * 4)).is_allowed(),
                "failure {i}"
            );
        }
    }

    #[test]
    fn failures_during_a_lockout_do_not_extend_it() {
        let mut th = LoginThrottle::default();
        five(&mut th, &acct(), 0);
        assert_eq!(
            th.record_failure(acct(), mins(10)),
            Attempt::Locked { retry_at: mins(19) }
        );
        assert!(th.check(&acct(), mins(19)).is_allowed());
        // And they were not counted towards the next lockout.
        assert!(th.record_failure(acct(), mins(20)).is_allowed());
    }

    #[test]
    fn repeated_lockouts_back_off_exponentially_up_to_a_day() {
        let mut th = LoginThrottle::default();
        let mut start = 0;
        let mut lengths = Vec::new();
        for _ in 0..9 {
            let until = five(&mut th, &acct(), start).retry_at().unwrap();
            let locked_at = mins(start + 4);
            lengths.push((until - locked_at).whole_minutes());
            start = (until - t0()).whole_minutes();
        }
        assert_eq!(lengths, [15, 30, 60, 120, 240, 480, 960, 1440, 1440]);
    }

    #[test]
    fn lockout_lengths_stay_capped_for_any_number_of_repeats() {
        let p = ThrottlePolicy::default();
        assert_eq!(p.lockout_for(1), Duration::minutes(15));
        assert_eq!(p.lockout_for(3), Duration::hours(1));
        for n in [8, 9, 31, 32, 33, 64, u32::MAX] {
            assert_eq!(p.lockout_for(n), Duration::days(1), "lockout {n}");
        }
    }

    #[test]
    fn a_quiet_day_resets_the_backoff() {
        let mut th = LoginThrottle::default();
        five(&mut th, &acct(), 0); // locked until 19
        let second = five(&mut th, &acct(), 19).retry_at().unwrap();
        assert_eq!(second, mins(23 + 30));
        let after_a_day = 53 + 24 * 60 + 1;
        let third = five(&mut th, &acct(), after_a_day).retry_at().unwrap();
        assert_eq!(third, mins(after_a_day + 4 + 15));
    }

    #[test]
    fn success_clears_everything() {
        let mut th = LoginThrottle::default();
        five(&mut th, &acct(), 0);
        th.record_success(&acct());
        assert!(th.check(&acct(), mins(1)).is_allowed());
        assert!(th.is_empty());
        // The backoff starts over too.
        assert_eq!(five(&mut th, &acct(), 20).retry_at(), Some(mins(24 + 15)));
    }

    #[test]
    fn account_and_address_are_checked_together() {
        let mut th = LoginThrottle::default();
        five(&mut th, &ip(), 0);
        assert!(th.check(&acct(), mins(5)).is_allowed());
        assert_eq!(
            th.check_all([&acct(), &ip()], mins(5)),
            Attempt::Locked { retry_at: mins(19) }
        );
        five(&mut th, &acct(), 5); // locked until 24
        assert_eq!(
            th.check_all([&acct(), &ip()], mins(10)).retry_at(),
            Some(mins(24))
        );
        assert!(th.check_all([&acct(), &ip()], mins(24)).is_allowed());
    }

    #[test]
    fn replaying_stored_failures_gives_the_same_state() {
        let policy = ThrottlePolicy::default();
        let mut live = LoginThrottle::new(policy);
        let times: Vec<OffsetDateTime> = [0, 1, 2, 3, 4, 8, 19, 20, 21, 22, 23]
            .into_iter()
            .map(mins)
            .collect();
        let mut last = Attempt::Allowed;
        for &t in &times {
            last = live.record_failure(acct(), t);
        }
        assert_eq!(last, Attempt::Locked { retry_at: mins(53) });
        let mut shuffled = times.clone();
        shuffled.reverse();
        let replayed = ThrottleState::replay(&policy, shuffled);
        assert_eq!(
            replayed.check(mins(30)),
            Attempt::Locked { retry_at: mins(53) }
        );
        assert_eq!(replayed, live.keys[&acct()]);
    }

    #[test]
    fn idle_keys_are_forgotten() {
        let mut th = LoginThrottle::default();
        th.record_failure(ip(), mins(0));
        five(&mut th, &acct(), 0);
        th.forget_idle(mins(16));
        assert_eq!(th.len(), 1, "the address's lone failure is past the window");
        th.forget_idle(mins(19 + 24 * 60));
        assert_eq!(th.len(), 1, "the lockout chain still counts for repeats");
        th.forget_idle(mins(20 + 24 * 60));
        assert!(th.is_empty());
    }

    #[test]
    fn keys_normalise_and_do_not_print_the_email() {
        let a = ThrottleKey::account(&EmailAddress::parse("Ada@example.com").unwrap());
        assert_eq!(a, acct());
        assert_eq!(a.storage_key(), "account:ada@example.com");
        assert_eq!(ip().storage_key(), "address:192.0.2.7");
        assert!(!format!("{a:?}").contains("ada"));
    }
}
