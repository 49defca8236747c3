//! Who holds a function is one rule (issue 15, item 2): the fragility index
//! and alerting's reminder recipients both follow `vigie_fragility_model::holding`
//! under the instance's `[fragility]` parameters, so changing `recency_days`
//! moves the index's holders and the reminders' recipients together.

use std::collections::BTreeSet;

use anyhow::{ensure, Result};
use chrono::NaiveDate;
use vigie_alerting::app::AlertingApp;
use vigie_alerting_domain::plan::RecipientKind;
use vigie_fragility_model::fragility::fixtures::Builder;
use vigie_fragility_model::fragility::{assess, FragilityParams};
use vigie_fragility_model::model::{Role, StructureInventory};
use vigie_platform::events::Envelope;
use vigie_proto::dates::date_to_pb;
use vigie_proto::inventory::v1 as inv;

use crate::harness::{aid, date, inventoried, Harness};

const FUNCTION: &str = "funding_applications";
/// J-7 of the call's deadline: the day the reminders are previewed, the
/// day holders are judged on.
const REMINDER_DAY: &str = "2027-03-07";
const DEADLINE: &str = "2027-03-14";

/// A structure of Rennes: a director who holds nothing, `H1` who last
/// practised the function 400 days before the reminder day (stale under the
/// default 365 days), and `H2` whose holding is undated (always recent).
fn inventory() -> StructureInventory {
    let stale = date("2026-01-31");
    let mut inventory = Builder::new("S1")
        .person("D1", "Direction", Role::Director, None)
        .person("H1", "Comptable", Role::Employee, None)
        .person("H2", "Trésorière", Role::Volunteer, None)
        .function(FUNCTION, 3)
        .holding("H1", FUNCTION, 3, Some(stale))
        .holds("H2", FUNCTION)
        .build();
    inventory.structure.network = "reseau-bretagne".to_owned();
    inventory.structure.region_code = "53".to_owned();
    inventory.structure.department_code = "35".to_owned();
    inventory.structure.commune_insee = "35238".to_owned();
    inventory
}

/// The `structure.inventoried` event of `inventory`, as the inventory
/// publishes it (the fields the read model keeps).
fn event(inventory: &StructureInventory) -> Envelope {
    let s = &inventory.structure;
    let structure = inv::Structure {
        structure_id: s.id.clone(),
        name: s.name.clone(),
        network: s.network.clone(),
        legal_form: s.legal_form.as_str().to_owned(),
        department_code: s.department_code.clone(),
        commune_insee: s.commune_insee.clone(),
        region_code: s.region_code.clone(),
        people: inventory
            .people
            .iter()
            .map(|p| inv::Person {
                person_id: p.id.clone(),
                display_name: p.display_name.clone(),
                role: p.role.as_str().to_owned(),
                end_date: p.end_date.map(date_to_pb),
                email: format!("{}@asso.example.org", p.id.to_lowercase()),
            })
            .collect(),
        holdings: inventory
            .holdings
            .iter()
            .map(|h| inv::Holding {
                person_id: h.person_id.clone(),
                function: h.function.clone(),
                level: u32::from(h.level),
                last_practised: h.last_practised.map(date_to_pb),
                ..Default::default()
            })
            .collect(),
        version: 1,
        ..Default::default()
    };
    inventoried(structure)
}

/// The holders of the function by the index, on `day`.
fn index_holders(inventory: &StructureInventory, day: NaiveDate, params: &FragilityParams) -> BTreeSet<String> {
    assess(inventory, day, params)
        .functions
        .iter()
        .filter(|f| f.code == FUNCTION)
        .flat_map(|f| f.holders.iter().cloned())
        .collect()
}

/// The people the call's J-7 reminder goes to as holders.
async fn reminded_holders(app: &AlertingApp) -> Result<BTreeSet<String>> {
    let day = date(REMINDER_DAY);
    Ok(app
        .preview(day, day, Some("S1"))
        .await?
        .iter()
        .filter(|a| a.alert.recipient.kind == RecipientKind::Holder)
        .filter_map(|a| a.alert.recipient.person_id.clone())
        .collect())
}

pub async fn the_recency_setting_moves_the_index_and_the_recipients_together(h: Harness) -> Result<()> {
    let inventory = inventory();
    h.feed_applied(&event(&inventory)).await?;
    h.import(&[aid(1, "Bretagne", "Région", DEADLINE)]).await?;
    let day = date(REMINDER_DAY);

    let default = FragilityParams::default();
    let longer = FragilityParams {
        recency_days: 400,
        ..FragilityParams::default()
    };
    let only_h2: BTreeSet<String> = BTreeSet::from(["H2".to_owned()]);
    let both: BTreeSet<String> = BTreeSet::from(["H1".to_owned(), "H2".to_owned()]);

    // The defaults: H1's practice is stale for both.
    ensure!(index_holders(&inventory, day, &default) == only_h2);
    let reminded = reminded_holders(&h.restarted().with_fragility(default)).await?;
    ensure!(reminded == only_h2, "default recency: {reminded:?}");

    // 400 days: H1 holds again, for the index and for the reminders alike.
    ensure!(index_holders(&inventory, day, &longer) == both);
    let reminded = reminded_holders(&h.restarted().with_fragility(longer)).await?;
    ensure!(reminded == both, "recency of 400 days: {reminded:?}");
    Ok(())
}
