//! The two downloads of the import page: `/reseaux/<network>/modele.xlsx`
//! (the template to fill in) and `/reseaux/<network>/inventaire.xlsx` (the
//! network's inventory now, re-importable unchanged). Same reach as the
//! page ([`super::import::coordinator`]); attachments, never cached.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use vigie_proto::inventory::v1::{GetStructureRequest, ListStructuresRequest};
use vigie_workbook::export::{Flavour, SetBuilder};

use super::import::coordinator;
use super::or_error_page;
use crate::error::PageError;
use crate::Console;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A workbook to download: attachment, never cached.
pub(super) fn download(bytes: Vec<u8>, file_name: &str) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(XLSX)),
            (CONTENT_DISPOSITION, disposition),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response()
}

/// The network's name as it may appear in a file name.
fn file_part(network: &str) -> String {
    network
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(64)
        .collect()
}

fn internal(error: impl std::fmt::Display) -> PageError {
    PageError::Internal(error.to_string())
}

/// A workbook to fill, for the coordinators of `network` only (the pages
/// it goes with are theirs): `write`'s bytes, downloaded as `name`.
pub(super) async fn blank_workbook(
    console: &Console,
    headers: &HeaderMap,
    network: &str,
    write: fn() -> Result<Vec<u8>, vigie_workbook::WriteError>,
    name: &str,
) -> Response {
    let result = async {
        coordinator(console, headers, network).await?;
        let bytes = write().map_err(internal)?;
        Ok::<_, PageError>(download(bytes, name))
    }
    .await;
    or_error_page(console, headers, result)
}

/// `GET /reseaux/<network>/modele.xlsx`.
pub async fn template(
    State(console): State<Arc<Console>>,
    Path(network): Path<String>,
    headers: HeaderMap,
) -> Response {
    blank_workbook(
        &console,
        &headers,
        &network,
        vigie_workbook::template,
        "modele-inventaire.xlsx",
    )
    .await
}

/// `GET /reseaux/<network>/inventaire.xlsx`: ListStructures of the network,
/// then GetStructure one by one (the person's token: what she may read).
pub async fn export(State(console): State<Arc<Console>>, Path(network): Path<String>, headers: HeaderMap) -> Response {
    let result = async {
        let (_, mut clients) = coordinator(&console, &headers, &network).await?;
        let list = clients
            .inventory
            .list_structures(ListStructuresRequest {
                network: network.clone(),
            })
            .await?
            .into_inner();
        let mut set = SetBuilder::new(Flavour::Workbook);
        for summary in list.structures {
            let structure = clients
                .inventory
                .get_structure(GetStructureRequest {
                    structure_id: summary.structure_id,
                })
                .await?
                .into_inner();
            set.add(&structure);
        }
        let bytes = vigie_workbook::write_workbook(&set.finish()).map_err(internal)?;
        Ok::<_, PageError>(download(bytes, &format!("inventaire-{}.xlsx", file_part(&network))))
    }
    .await;
    or_error_page(&console, &headers, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_safe_characters_only() {
        assert_eq!(file_part("reseau-ain_2"), "reseau-ain_2");
        assert_eq!(file_part("a\"; b/../c"), "abc");
    }
}
