//! `vigie people erase|export`: personal-data rights (docs/security.md,
//! "Personal data"; docs/cli.md).

use std::io::Write;

use serde_json::json;
use vigie_proto::dates::date_text;
use vigie_proto::inventory::v1 as pb;
use vigie_proto::inventory::v1::inventory_service_client::InventoryServiceClient;

use super::{connect, Answered};
use crate::cli::{Format, PeopleCommand};
use crate::i18n::Lang;

/// Runs a `vigie people` command.
///
/// # Errors
/// What the command failed on, in words for people.
pub async fn run(command: PeopleCommand, lang: Lang) -> anyhow::Result<()> {
    match command {
        PeopleCommand::Erase { person_id, yes, client } => erase(&client.endpoint, &person_id, yes, lang).await,
        PeopleCommand::Export {
            person_id,
            format,
            client,
        } => export(&client.endpoint, &person_id, format, lang).await,
    }
}

/// Erases a person everywhere (the inventory erases and publishes
/// `person.erased`, which training and facilitation apply). Refuses without
/// `--yes`: erasure cannot be undone.
///
/// # Errors
/// Missing `--yes`, connection or server errors.
pub async fn erase(endpoint: &str, person_id: &str, yes: bool, lang: Lang) -> anyhow::Result<()> {
    if !yes {
        anyhow::bail!(
            "l'effacement de « {person_id} » est irréversible : son nom, son courriel et ses compétences \
             disparaissent de l'inventaire, de la formation et de la facilitation. Relancez avec --yes pour confirmer \
             (exportez d'abord avec « vigie people export {person_id} --format json » si besoin)."
        );
    }
    let mut client = super::sized!(InventoryServiceClient::new(connect(endpoint, lang).await?));
    let response = client
        .erase_person(pb::ErasePersonRequest {
            person_id: person_id.to_owned(),
        })
        .await
        .answered(lang)?;
    let mut out = std::io::stdout().lock();
    if response.already_erased {
        writeln!(out, "Personne « {} » déjà effacée : rien à faire.", response.person_id)?;
    } else {
        writeln!(
            out,
            "Personne « {} » effacée (structure {}) ; la formation et la facilitation appliquent l'effacement.",
            response.person_id, response.structure_id
        )?;
    }
    Ok(())
}

/// Prints everything the inventory holds about a person.
///
/// # Errors
/// Connection or server errors.
pub async fn export(endpoint: &str, person_id: &str, format: Format, lang: Lang) -> anyhow::Result<()> {
    let mut client = super::sized!(InventoryServiceClient::new(connect(endpoint, lang).await?));
    let response = client
        .export_person(pb::ExportPersonRequest {
            person_id: person_id.to_owned(),
        })
        .await
        .answered(lang)?;
    let person = response.person.unwrap_or_default();
    let holdings: Vec<_> = response
        .holdings
        .iter()
        .map(|h| {
            json!({
                "function": h.function,
                "level": h.level,
                "last_practised": date_text(h.last_practised.as_ref()),
                "evidence": h.evidence,
            })
        })
        .collect();
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json | Format::Csv => {
            let value = json!({
                "person": {
                    "person_id": person.person_id,
                    "display_name": person.display_name,
                    "email": person.email,
                    "role": person.role,
                    "end_date": date_text(person.end_date.as_ref()),
                },
                "structure": {
                    "structure_id": response.structure_id,
                    "name": response.structure_name,
                    "network": response.network,
                },
                "holdings": holdings,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        }
        Format::Table => {
            writeln!(out, "Personne   : {} ({})", person.display_name, person.person_id)?;
            writeln!(out, "Courriel   : {}", person.email)?;
            writeln!(out, "Rôle       : {}", person.role)?;
            writeln!(out, "Fin        : {}", date_text(person.end_date.as_ref()))?;
            writeln!(
                out,
                "Structure  : {} — {} (réseau {})",
                response.structure_id, response.structure_name, response.network
            )?;
            for h in &response.holdings {
                writeln!(
                    out,
                    "  {} : niveau {} ({}, {})",
                    h.function,
                    h.level,
                    h.evidence,
                    date_text(h.last_practised.as_ref())
                )?;
            }
        }
    }
    Ok(())
}
