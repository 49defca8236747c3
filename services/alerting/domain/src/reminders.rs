//! Planning of deadline reminders in local time, and the send-log key.

use std::fmt;

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use crate::model::{Stage, StageKind, DEFAULT_TZ};

/// How long after its due time a reminder is still considered on time.
pub const LATE_GRACE: TimeDelta = TimeDelta::hours(1);

/// When reminders are sent before each stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderPolicy {
    /// Days before the stage's local date (default 30, 14, 7 and 2).
    pub offsets_days: Vec<u32>,
    /// Local hour of sending (default 09:00).
    pub local_hour: NaiveTime,
    /// Zone of the local hour (default `Europe/Paris`).
    pub timezone: Tz,
}

impl Default for ReminderPolicy {
    fn default() -> Self {
        ReminderPolicy {
            offsets_days: vec![30, 14, 7, 2],
            local_hour: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN),
            timezone: DEFAULT_TZ,
        }
    }
}

/// One reminder planned for a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlannedReminder {
    /// Days before the stage's local date.
    pub offset_days: u32,
    /// The instant of sending.
    pub due_at: DateTime<Utc>,
    /// The local date of sending, in the policy's zone.
    pub local_date: NaiveDate,
}

/// A reminder due now; `late` when it should have been sent more than [`LATE_GRACE`] ago (e.g. after an outage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueReminder {
    /// The planned reminder.
    pub reminder: PlannedReminder,
    /// Whether it is sent late.
    pub late: bool,
}

/// Resolves a local date-time in `tz` to UTC.
///
/// An ambiguous time (autumn change) takes the earlier instant; a time in a gap
/// (spring change) is shifted forward to the first valid local time after it
/// (e.g. 02:30 on the spring-forward night in Paris becomes 03:00 local).
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut candidate = local;
    for _ in 0..(24 * 60) {
        match tz.from_local_datetime(&candidate) {
            LocalResult::Single(dt) | LocalResult::Ambiguous(dt, _) => return dt.with_timezone(&Utc),
            LocalResult::None => candidate += TimeDelta::minutes(1),
        }
    }
    Utc.from_utc_datetime(&local)
}

/// The instant after which a stage's deadline has passed: its local time, or the end of its local day.
pub fn deadline_instant(stage: &Stage) -> DateTime<Utc> {
    match stage.time {
        Some(t) => resolve_local(stage.timezone, stage.date.and_time(t)),
        None => {
            let next = stage.date.checked_add_days(Days::new(1)).unwrap_or(stage.date);
            resolve_local(stage.timezone, next.and_time(NaiveTime::MIN))
        }
    }
}

/// Plans the reminders of a stage: J-n fires on local date D−n at the policy's local hour in the policy's zone.
///
/// Offsets are taken in decreasing order (earliest reminder first); duplicates are dropped.
pub fn planned_reminders(stage: &Stage, policy: &ReminderPolicy) -> Vec<PlannedReminder> {
    let mut offsets = policy.offsets_days.clone();
    offsets.sort_unstable_by(|a, b| b.cmp(a));
    offsets.dedup();
    offsets
        .into_iter()
        .filter_map(|offset_days| {
            let local_date = stage.date.checked_sub_days(Days::new(u64::from(offset_days)))?;
            let due_at = resolve_local(policy.timezone, local_date.and_time(policy.local_hour));
            Some(PlannedReminder {
                offset_days,
                due_at,
                local_date,
            })
        })
        .collect()
}

/// The reminders due at or before `now`, flagged late past [`LATE_GRACE`]; none once the deadline has passed.
///
/// The caller filters out those already in the send log.
pub fn due_now(planned: &[PlannedReminder], now: DateTime<Utc>, deadline_passed: bool) -> Vec<DueReminder> {
    if deadline_passed {
        return Vec::new();
    }
    planned
        .iter()
        .filter(|r| r.due_at <= now)
        .map(|r| DueReminder {
            reminder: *r,
            late: now - r.due_at > LATE_GRACE,
        })
        .collect()
}

/// The key of the send log: a second send with the same key is impossible.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SendKey {
    /// Who receives the reminder.
    pub recipient: String,
    /// The call.
    pub call_id: String,
    /// The stage of the call.
    pub stage_kind: StageKind,
    /// The stage's revision (a moved deadline is a new revision).
    pub revision: u32,
    /// Days before the stage.
    pub offset_days: u32,
    /// The channel (e.g. `email`).
    pub channel: String,
}

impl fmt::Display for SendKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/r{}/J-{}/{}",
            self.recipient,
            self.call_id,
            self.stage_kind.code(),
            self.revision,
            self.offset_days,
            self.channel
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::date;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.from_utc_datetime(&date(y, m, d).and_hms_opt(h, min, 0).unwrap())
    }

    fn plan(deadline: NaiveDate) -> Vec<PlannedReminder> {
        planned_reminders(
            &Stage::on_date(StageKind::Submission, deadline),
            &ReminderPolicy::default(),
        )
    }

    fn offset(p: &[PlannedReminder], n: u32) -> PlannedReminder {
        *p.iter().find(|r| r.offset_days == n).unwrap()
    }

    #[test]
    fn deadline_2027_03_14_in_paris_fires_j7_on_03_07_at_09_local() {
        let j7 = offset(&plan(date(2027, 3, 14)), 7);
        assert_eq!(j7.local_date, date(2027, 3, 7));
        assert_eq!(j7.due_at, utc(2027, 3, 7, 8, 0));
    }

    #[test]
    fn spring_dst_change() {
        // J-30 before the 2027-03-28 change: winter time, 08:00 UTC.
        let before = offset(&plan(date(2027, 4, 20)), 30);
        assert_eq!(before.local_date, date(2027, 3, 21));
        assert_eq!(before.due_at, utc(2027, 3, 21, 8, 0));
        // J-2 after it: summer time, 07:00 UTC.
        let after = offset(&plan(date(2027, 4, 20)), 2);
        assert_eq!(after.due_at, utc(2027, 4, 18, 7, 0));
    }

    #[test]
    fn autumn_dst_change() {
        // The change is on 2027-10-31: J-2 before it in summer time, J-30 of a later deadline after it.
        let summer = offset(&plan(date(2027, 11, 1)), 2);
        assert_eq!(summer.due_at, utc(2027, 10, 30, 7, 0));
        let winter = offset(&plan(date(2027, 11, 30)), 2);
        assert_eq!(winter.due_at, utc(2027, 11, 28, 8, 0));
    }

    #[test]
    fn local_hour_in_dst_gap_shifts_forward() {
        let policy = ReminderPolicy {
            local_hour: NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
            ..Default::default()
        };
        let p = planned_reminders(&Stage::on_date(StageKind::Submission, date(2027, 4, 4)), &policy);
        // 2027-03-28 02:30 does not exist in Paris: 03:00 CEST = 01:00 UTC.
        assert_eq!(offset(&p, 7).due_at, utc(2027, 3, 28, 1, 0));
    }

    #[test]
    fn deadline_with_local_time() {
        let mut stage = Stage::on_date(StageKind::Submission, date(2027, 3, 14));
        stage.time = NaiveTime::from_hms_opt(12, 0, 0);
        let p = planned_reminders(&stage, &ReminderPolicy::default());
        assert_eq!(offset(&p, 7).due_at, utc(2027, 3, 7, 8, 0));
        assert_eq!(deadline_instant(&stage), utc(2027, 3, 14, 11, 0));
        let all_day = Stage::on_date(StageKind::Submission, date(2027, 3, 14));
        assert_eq!(deadline_instant(&all_day), utc(2027, 3, 14, 23, 0));
    }

    #[test]
    fn late_reminders_after_an_outage_are_flagged() {
        let p = plan(date(2027, 3, 14));
        let now = utc(2027, 3, 12, 8, 30); // down since before J-7, back after J-2's time
        let due = due_now(&p, now, false);
        let got: Vec<(u32, bool)> = due.iter().map(|d| (d.reminder.offset_days, d.late)).collect();
        assert_eq!(got, vec![(30, true), (14, true), (7, true), (2, false)]);
    }

    #[test]
    fn none_once_the_deadline_has_passed() {
        let p = plan(date(2027, 3, 14));
        assert!(due_now(&p, utc(2027, 3, 15, 8, 0), true).is_empty());
    }

    #[test]
    fn send_key_display_and_order() {
        let k = SendKey {
            recipient: "p1".into(),
            call_id: "c1".into(),
            stage_kind: StageKind::Submission,
            revision: 2,
            offset_days: 7,
            channel: "email".into(),
        };
        assert_eq!(k.to_string(), "p1/c1/submission/r2/J-7/email");
        let mut k2 = k.clone();
        k2.offset_days = 2;
        assert!(k2 < k);
    }
}
