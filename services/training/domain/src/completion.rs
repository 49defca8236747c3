//! What completing a training does to the inventory: each function the
//! training targets is raised to its goal level (never lowered), with the
//! evidence "training" and the completion date as last practice.
//!
//! The service puts [`raises`] in the `TrainingCompleted` event and the
//! inventory applies it; the plan applies the very same rule with
//! [`apply_completion`] to predict the fragility after the plan, so that the
//! prediction and what the inventory computes after the completions agree.

use crate::model::Training;
use chrono::NaiveDate;
use vigie_fragility_model::model::{Evidence, HoldingRecord, StructureInventory};

/// One function a completion raises, and the level it raises it to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Raise {
    /// Function code.
    pub function: String,
    /// Level the holding is raised to (at least; never lowered).
    pub level: u8,
}

/// The raises of completing `training`: every target function at its goal
/// level, sorted by function code. The prerequisite is not checked here: it
/// is a condition to enrol, and whoever completed the training has reached
/// its goal.
pub fn raises(training: &Training) -> Vec<Raise> {
    let mut raises: Vec<Raise> = training
        .targets
        .iter()
        .map(|t| Raise {
            function: t.function.clone(),
            level: t.goal_level,
        })
        .collect();
    raises.sort_unstable_by(|a, b| a.function.cmp(&b.function));
    raises
}

/// Applies a completion by `person_id` on `completed_on` to `inventory`,
/// with the inventory's own rule for a raise (its `apply_holding` with
/// `raise_only`), for each raise on a function the structure records:
///
/// - a holding below the raised level becomes that level, practised on
///   `completed_on`, with evidence [`Evidence::Training`];
/// - a holding already at or above it keeps its level and evidence, and its
///   last practice becomes the later of its own and `completed_on` (never
///   lowered either: the training is practice too);
/// - a missing holding is created at the raised level.
///
/// Idempotent (applying the same completion twice changes nothing the
/// second time) and order-independent between completions of the same date.
/// A person who is not among the structure's people, or a function the
/// structure does not record, is left alone, as the inventory does.
pub fn apply_completion(
    inventory: &mut StructureInventory,
    person_id: &str,
    raises: &[Raise],
    completed_on: NaiveDate,
) {
    if !inventory.people.iter().any(|p| p.id == person_id) {
        return;
    }
    for raise in raises {
        if !inventory.functions.iter().any(|f| f.code == raise.function) {
            continue;
        }
        let mut found = false;
        // Every record of the pair is raised: should a malformed inventory
        // hold duplicates, none of them keeps a stale level or date.
        for holding in inventory
            .holdings
            .iter_mut()
            .filter(|h| h.person_id == person_id && h.function == raise.function)
        {
            if holding.level >= raise.level {
                holding.last_practised = holding.last_practised.max(Some(completed_on));
            } else {
                holding.level = raise.level;
                holding.last_practised = Some(completed_on);
                holding.evidence = Evidence::Training;
            }
            found = true;
        }
        if !found {
            inventory.holdings.push(HoldingRecord {
                person_id: person_id.to_owned(),
                function: raise.function.clone(),
                level: raise.level,
                last_practised: Some(completed_on),
                evidence: Evidence::Training,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{date, training, Builder};
    use vigie_fragility_model::model::Role;

    fn raise(function: &str, level: u8) -> Raise {
        Raise {
            function: function.to_owned(),
            level,
        }
    }

    #[test]
    fn raises_are_every_target_at_its_goal_sorted_by_function() {
        let t = training(
            "T",
            None,
            &[("payroll", 1, 3), ("invoicing", 0, 2), ("accounting", 2, 4)],
        );
        assert_eq!(
            raises(&t),
            [raise("accounting", 4), raise("invoicing", 2), raise("payroll", 3)]
        );
        assert!(raises(&training("T", None, &[])).is_empty());
    }

    #[test]
    fn completion_raises_never_lowers_and_dates_the_practice() {
        let old = date(2025, 1, 10);
        let on = date(2027, 2, 1);
        let future = date(2027, 6, 1);
        let mut inv = Builder::new("S")
            .person("a", Role::Employee, None)
            .function("payroll", 3)
            .function("invoicing", 2)
            .function("accounting", 2)
            .function("scheduling", 3)
            .function("communication", 1)
            .holding("a", "payroll", 1, Some(old))
            .holding("a", "invoicing", 4, Some(old))
            .holding("a", "scheduling", 3, Some(future))
            .holding("a", "communication", 2, None)
            .build();
        let all = [
            raise("payroll", 3),
            raise("invoicing", 2),
            raise("accounting", 3),
            raise("scheduling", 3),
            raise("communication", 2),
        ];
        apply_completion(&mut inv, "a", &all, on);
        let h: Vec<(&str, u8, Option<NaiveDate>, Evidence)> = inv
            .holdings
            .iter()
            .map(|h| (h.function.as_str(), h.level, h.last_practised, h.evidence))
            .collect();
        assert_eq!(
            h,
            [
                // Raised: level, date and evidence from the training.
                ("payroll", 3, Some(on), Evidence::Training),
                // Already above: level and evidence kept, practice dated.
                ("invoicing", 4, Some(on), Evidence::Import),
                // Already at the level with a later date: nothing moves back.
                ("scheduling", 3, Some(future), Evidence::Import),
                // An undated holding gets the completion date.
                ("communication", 2, Some(on), Evidence::Import),
                // Missing: created.
                ("accounting", 3, Some(on), Evidence::Training),
            ]
        );
        // Idempotent.
        let once = inv.clone();
        apply_completion(&mut inv, "a", &all, on);
        assert_eq!(inv, once);
    }

    #[test]
    fn completions_of_the_same_day_commute() {
        let on = date(2027, 2, 1);
        let base = Builder::new("S")
            .person("a", Role::Employee, None)
            .function("payroll", 3)
            .holding("a", "payroll", 1, Some(date(2026, 1, 1)))
            .build();
        let mut one = base.clone();
        apply_completion(&mut one, "a", &[raise("payroll", 3)], on);
        apply_completion(&mut one, "a", &[raise("payroll", 4)], on);
        let mut other = base;
        apply_completion(&mut other, "a", &[raise("payroll", 4)], on);
        apply_completion(&mut other, "a", &[raise("payroll", 3)], on);
        assert_eq!(one, other);
        assert_eq!(one.holdings[0].level, 4);
        assert_eq!(one.holdings[0].evidence, Evidence::Training);
    }

    #[test]
    fn unknown_people_and_unrecorded_functions_are_left_alone() {
        let mut inv = Builder::new("S")
            .person("a", Role::Employee, None)
            .function("payroll", 3)
            .build();
        let before = inv.clone();
        apply_completion(&mut inv, "ghost", &[raise("payroll", 3)], date(2027, 1, 1));
        assert_eq!(inv, before);
        apply_completion(&mut inv, "a", &[raise("cantine", 3)], date(2027, 1, 1));
        assert_eq!(inv, before);
    }

    #[test]
    fn duplicate_holdings_are_all_raised() {
        let mut inv = Builder::new("S")
            .person("a", Role::Employee, None)
            .function("payroll", 3)
            .level("a", "payroll", 1)
            .level("a", "payroll", 2)
            .build();
        apply_completion(&mut inv, "a", &[raise("payroll", 3)], date(2027, 1, 1));
        assert!(inv
            .holdings
            .iter()
            .all(|h| h.level == 3 && h.evidence == Evidence::Training));
        assert_eq!(inv.holdings.len(), 2);
    }
}
