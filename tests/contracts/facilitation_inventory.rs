//! The facilitation service and the inventory, each on its own database of
//! the same backend, exchanging the events `vigie` carries between them: the
//! inventory's assessments open proposals, an intervention that leaves a
//! colleague autonomous raises the holding and moves fragility.

use anyhow::{ensure, Context, Result};
use prost::Message;
use vigie_facilitation::app::InterventionInput;
use vigie_facilitation::events::INTERVENTION_RECORDED;
use vigie_facilitation::testing::{set, today, TestFacilitation};
use vigie_fragility_model::model::Evidence;
use vigie_inventory::events::{FRAGILITY_ASSESSED, STRUCTURE_INVENTORIED};
use vigie_platform::events::Outcome;
use vigie_proto::events::v1::FragilityAssessed;
use vigie_proto::inventory::v1::Band;

use crate::inventory;

pub async fn a_proposal_intervention_raises_the_inventory_and_moves_fragility(h: TestFacilitation) -> Result<()> {
    let inventory = inventory(h.backend(), today).await?;
    let generated = set(30, 7);
    inventory.import(&generated).await?;
    let places: Vec<(String, String)> = generated
        .inventories
        .iter()
        .map(|i| (i.structure.network.clone(), i.structure.department_code.clone()))
        .collect();
    h.app
        .import_facilitators(&vigie_facilitation::demo::facilitators(&places, today()))
        .await
        .map_err(|e| anyhow::anyhow!("demo facilitators: {e:?}"))?;
    // Every inventory event, in order, as the stream delivers them.
    let mut fragile = Vec::new();
    for envelope in inventory.outbox_all().await? {
        ensure!(envelope.event_type == STRUCTURE_INVENTORIED || envelope.event_type == FRAGILITY_ASSESSED);
        if envelope.event_type == FRAGILITY_ASSESSED {
            let event = FragilityAssessed::decode(envelope.payload.clone())?;
            let f = event.fragility.context("fragility")?;
            if f.band() == Band::Critical || f.band() == Band::High {
                fragile.push(f);
            }
        }
        h.feed(&envelope).await?;
    }
    ensure!(!fragile.is_empty(), "the generated set has fragile structures");
    let proposals = h.app.proposals(None).await?;
    ensure!(
        proposals.len() == fragile.len() && proposals.iter().all(|p| p.origin == "proposal"),
        "one proposal per fragile structure: {} for {}",
        proposals.len(),
        fragile.len()
    );

    // A proposal with a facilitator whose function has a single holder: a
    // colleague becomes autonomous on it.
    let mut chosen = None;
    for f in &fragile {
        let Some(p) = proposals
            .iter()
            .find(|p| p.structure_id == f.structure_id && p.facilitator_id.is_some())
        else {
            continue;
        };
        if !f.spof_functions.contains(&p.function) {
            continue;
        }
        let stored = inventory.app.structures(None).await?;
        let structure = stored
            .iter()
            .find(|s| s.inventory.structure.id == f.structure_id)
            .context("structure")?;
        let holders: Vec<&String> = f
            .functions
            .iter()
            .find(|e| e.code == p.function)
            .map(|e| e.holder_ids.iter().collect())
            .unwrap_or_default();
        if let Some(person) = structure
            .inventory
            .people
            .iter()
            .find(|person| !holders.contains(&&person.id) && person.end_date.is_none())
        {
            chosen = Some((f.clone(), p.clone(), person.id.clone()));
            break;
        }
    }
    let (before, proposal, person) = chosen.context("no single-holder proposal with a colleague to help")?;
    let outcome = h
        .app
        .record_intervention(InterventionInput {
            person_id: Some(person.clone()),
            autonomy_after: Some(3),
            request_id: proposal.request_id.clone(),
            minutes: 120,
            beneficiary: "internal".to_owned(),
            ..InterventionInput::default()
        })
        .await?;
    ensure!(outcome.autonomy_published && outcome.request.status == "closed");
    let events = h.outbox(INTERVENTION_RECORDED).await?;
    ensure!(events.len() == 1);
    let consumer = inventory.consumer("inventory-facilitation-intervention")?;
    ensure!(consumer.process(&events[0]).await? == Outcome::Applied);
    ensure!(consumer.process(&events[0]).await? == Outcome::Duplicate);

    let after = inventory.app.structures(None).await?;
    let structure = after
        .iter()
        .find(|s| s.inventory.structure.id == before.structure_id)
        .context("structure")?;
    let holding = structure
        .inventory
        .holdings
        .iter()
        .find(|x| x.person_id == person && x.function == proposal.function)
        .context("the holding was raised")?;
    ensure!(
        holding.level >= 3 && holding.evidence == Evidence::Facilitation,
        "{holding:?}"
    );
    // The inventory re-assessed: the function is no longer a single point of failure.
    let latest = inventory
        .outbox_all()
        .await?
        .into_iter()
        .rfind(|e| e.event_type == FRAGILITY_ASSESSED && e.subject == before.structure_id)
        .context("a new assessment")?;
    let now = FragilityAssessed::decode(latest.payload)?
        .fragility
        .context("fragility")?;
    ensure!(
        !now.spof_functions.contains(&proposal.function),
        "{} still a single point of failure: {now:?}",
        proposal.function
    );
    ensure!(now.score < before.score, "score {:?} → {:?}", before.score, now.score);
    Ok(())
}
