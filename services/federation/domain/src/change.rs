//! When a region publishes off schedule: on a *significant* change.
//!
//! Activity counters (grants won, refused and their amounts included) move
//! every day and score statistics drift with every assessment; they wait for
//! the scheduled snapshot. A change in who is where (structures, bands), in a
//! risk (deadline, reporting duty, director dependency, orphan or
//! single-holder functions), a group appearing or disappearing, or a new
//! threshold, is news for the national view and goes out at once. A cell
//! turning suppressed or published counts as a change, as its value does.

use crate::secrecy::{PublishedGroup, PublishedSnapshot};

/// Whether `next` differs significantly from the last published `previous`
/// (always true when nothing was published yet).
pub fn significant(previous: Option<&PublishedSnapshot>, next: &PublishedSnapshot) -> bool {
    let Some(previous) = previous else {
        return true;
    };
    previous.threshold != next.threshold
        || groups_differ(&previous.networks, &next.networks)
        || groups_differ(&previous.departments, &next.departments)
}

fn groups_differ(a: &[PublishedGroup], b: &[PublishedGroup]) -> bool {
    // Groups are sorted by key: a different length or key order is a group
    // that appeared or disappeared.
    a.len() != b.len() || a.iter().zip(b).any(|(x, y)| x.key != y.key || risk_differs(x, y))
}

fn risk_differs(a: &PublishedGroup, b: &PublishedGroup) -> bool {
    a.structures != b.structures
        || a.bands != b.bands
        || a.deadline_at_risk != b.deadline_at_risk
        || a.reporting_at_risk != b.reporting_at_risk
        || a.director_dependent != b.director_dependent
        || a.functions != b.functions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrecy::{Cell, PublishedFunction};

    fn group(key: &str) -> PublishedGroup {
        PublishedGroup {
            key: key.into(),
            structures: Cell::shown(8),
            bands: [
                Cell::shown(0),
                Cell::shown(5),
                Cell::hidden(),
                Cell::hidden(),
                Cell::shown(0),
            ],
            functions: vec![PublishedFunction {
                function: "payroll".into(),
                orphan: Cell::shown(0),
                single_holder: Cell::shown(6),
            }],
            ..Default::default()
        }
    }

    fn snapshot() -> PublishedSnapshot {
        PublishedSnapshot {
            threshold: 5,
            networks: vec![group("n1"), group("n2")],
            departments: vec![group("69")],
        }
    }

    /// Applies `edit` to a copy of the snapshot and says whether it is significant.
    fn after(edit: impl FnOnce(&mut PublishedSnapshot)) -> bool {
        let before = snapshot();
        let mut next = before.clone();
        edit(&mut next);
        significant(Some(&before), &next)
    }

    #[test]
    fn first_snapshot_is_always_significant() {
        assert!(significant(None, &snapshot()));
    }

    #[test]
    fn identical_snapshot_is_not() {
        assert!(!after(|_| {}));
    }

    #[test]
    fn activity_and_score_statistics_alone_wait_for_the_schedule() {
        assert!(!after(|s| {
            let g = &mut s.networks[0];
            g.reminders_sent = Cell::shown(40);
            g.reminders_acknowledged = Cell::hidden();
            g.minutes_internal = Cell::shown(600);
            g.minutes_external = Cell::shown(60);
            g.training_completions = Cell::shown(9);
            g.grants_won = Cell::shown(12);
            g.grants_refused = Cell::hidden();
            g.amount_granted_euros = Cell::shown(250_000);
            g.score_mean = Some(42.5);
            g.score_q1 = Some(30.0);
            g.score_median = Some(41.0);
            g.score_q3 = Some(55.0);
        }));
    }

    #[test]
    fn risk_figures_are_significant() {
        assert!(after(|s| s.networks[0].structures = Cell::shown(9)));
        assert!(
            after(|s| s.departments[0].bands[2] = Cell::shown(0)),
            "a suppressed flag that flips counts"
        );
        assert!(after(|s| s.networks[1].deadline_at_risk = Cell::shown(5)));
        assert!(after(|s| s.networks[1].reporting_at_risk = Cell::shown(6)));
        assert!(after(|s| s.departments[0].reporting_at_risk = Cell::hidden()));
        assert!(after(|s| s.networks[1].director_dependent = Cell::hidden()));
        assert!(after(|s| s.networks[0].functions[0].orphan = Cell::hidden()));
        assert!(after(|s| s.networks[0].functions[0].single_holder = Cell::shown(7)));
        assert!(after(|s| s.networks[0].functions.push(PublishedFunction {
            function: "treasury".into(),
            ..Default::default()
        })));
        assert!(after(|s| s.threshold = 6));
    }

    #[test]
    fn groups_appearing_or_disappearing_are_significant() {
        assert!(after(|s| {
            s.networks.pop();
        }));
        assert!(after(|s| s.departments.push(group("73"))));
        assert!(after(|s| s.networks[1].key = "n3".into()), "same count, another group");
    }
}
