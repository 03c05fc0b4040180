//! Deadlines: a budget of time per form of care, counted from submission and
//! paused while the request is back with the doctor for revision.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::FormOfCare;

/// How long each form of care may take. Configurable per region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlinePolicy {
    pub emergency_minutes: i64,
    pub urgent_minutes: i64,
    pub planned_minutes: i64,
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        DeadlinePolicy {
            emergency_minutes: 2 * 60,
            urgent_minutes: 24 * 60,
            planned_minutes: 14 * 24 * 60,
        }
    }
}

impl DeadlinePolicy {
    pub fn budget(&self, form: FormOfCare) -> Duration {
        Duration::minutes(match form {
            FormOfCare::Emergency => self.emergency_minutes,
            FormOfCare::Urgent => self.urgent_minutes,
            FormOfCare::Planned => self.planned_minutes,
        })
    }
}

/// The running clock of one request. The stored deadline is always
/// `started_at + budget + paused`, so it can be indexed and sorted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineClock {
    pub started_at: DateTime<Utc>,
    pub budget_seconds: i64,
    /// Total time spent paused in completed pauses.
    pub paused_seconds: i64,
    /// Set while paused.
    pub paused_at: Option<DateTime<Utc>>,
}

impl DeadlineClock {
    pub fn start(now: DateTime<Utc>, budget: Duration) -> Self {
        DeadlineClock {
            started_at: now,
            budget_seconds: budget.num_seconds(),
            paused_seconds: 0,
            paused_at: None,
        }
    }

    /// The moment the answer is due, with the completed pauses added.
    pub fn deadline(&self) -> DateTime<Utc> {
        self.started_at + Duration::seconds(self.budget_seconds + self.paused_seconds)
    }

    pub fn is_paused(&self) -> bool {
        self.paused_at.is_some()
    }

    pub fn pause(&mut self, now: DateTime<Utc>) {
        if self.paused_at.is_none() {
            self.paused_at = Some(now);
        }
    }

    pub fn resume(&mut self, now: DateTime<Utc>) {
        if let Some(since) = self.paused_at.take() {
            self.paused_seconds += (now - since).num_seconds().max(0);
        }
    }

    /// Time already used against the budget at `now` (pauses excluded).
    pub fn elapsed(&self, now: DateTime<Utc>) -> Duration {
        let until = self.paused_at.unwrap_or(now);
        (until - self.started_at) - Duration::seconds(self.paused_seconds)
    }

    /// Time left at `now`; negative when overdue. Frozen while paused.
    pub fn remaining(&self, now: DateTime<Utc>) -> Duration {
        Duration::seconds(self.budget_seconds) - self.elapsed(now)
    }

    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.remaining(now) < Duration::zero()
    }

    /// Share of the budget used, 0.0 – 1.0 and beyond when overdue.
    pub fn fraction_used(&self, now: DateTime<Utc>) -> f64 {
        if self.budget_seconds <= 0 {
            return 1.0;
        }
        self.elapsed(now).num_seconds() as f64 / self.budget_seconds as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    #[test]
    fn pause_moves_the_deadline_by_the_time_spent_paused() {
        let mut c = DeadlineClock::start(t(0), Duration::hours(24));
        assert_eq!(c.deadline(), t(24));
        c.pause(t(10));
        // While paused, the remaining time does not shrink.
        assert_eq!(c.remaining(t(10)), c.remaining(t(100)));
        assert!(!c.is_overdue(t(100)));
        c.resume(t(15));
        assert_eq!(c.deadline(), t(29));
        assert!(c.is_overdue(t(30)));
        assert!(!c.is_overdue(t(28)));
    }

    #[test]
    fn defaults_match_the_product() {
        let p = DeadlinePolicy::default();
        assert_eq!(p.budget(FormOfCare::Emergency), Duration::hours(2));
        assert_eq!(p.budget(FormOfCare::Urgent), Duration::hours(24));
        assert_eq!(p.budget(FormOfCare::Planned), Duration::days(14));
    }
}
