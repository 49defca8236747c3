//! The streaming import: receive the files in chunks, then validate and apply
//! them while streaming progress back to the client.

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Response, Status, Streaming};
use tracing::Instrument;
use vigie_inventory_set::scope::ImportScope;
use vigie_inventory_set::CsvSetFiles;
use vigie_platform::words;
use vigie_platform::words::IntoStatus;
use vigie_proto::inventory::v1 as pb;
use vigie_proto::inventory::v1::import_progress::Phase;

use crate::app::{ImportPhase, Inventory};
use crate::error::InventoryError;

/// Upper bound of a whole CSV set received in memory. A generated set of
/// 100,000 structures is about 100 MiB.
const MAX_SET_BYTES: usize = 1024 * 1024 * 1024;
/// Row errors per `REJECTED` message.
const ERRORS_PER_MESSAGE: usize = 1_000;

/// Receives the set, then validates and applies it in a task that streams
/// progress; the final message is `DONE` with a summary or `REJECTED` with
/// every row error.
///
/// # Errors
/// `INVALID_ARGUMENT` for an unknown file name or a set that is too large.
pub async fn run(
    app: Inventory,
    scope: ImportScope,
    mut stream: Streaming<pb::ImportRequest>,
) -> Result<Response<ReceiverStream<Result<pb::ImportProgress, Status>>>, Status> {
    let mut files = CsvSetFiles::default();
    let mut received = 0usize;
    while let Some(message) = stream.message().await? {
        received += message.chunk.len();
        if received > MAX_SET_BYTES {
            return Err(words!(
                "jeu de fichiers trop volumineux (1 Gio au plus)",
                "file set too large (1 GiB at most)"
            )
            .into_status(tonic::Code::InvalidArgument));
        }
        let Some(target) = files.file_mut(&message.file_name) else {
            return Err(words!(
                "fichier « {} » inattendu (attendus : structures.csv, people.csv, functions.csv, holdings.csv)",
                "unexpected file “{}” (expected: structures.csv, people.csv, functions.csv, holdings.csv)",
                message.file_name
            )
            .into_status(tonic::Code::InvalidArgument));
        };
        target.extend_from_slice(&message.chunk);
    }

    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(
        async move {
            let progress_tx = tx.clone();
            let progress = move |phase: ImportPhase, done: u64, total: u64| {
                let phase = match phase {
                    ImportPhase::Validating => Phase::Validating,
                    ImportPhase::Applying => Phase::Applying,
                };
                // Progress is best effort: a full channel only skips a report.
                let _ = progress_tx.try_send(Ok(pb::ImportProgress {
                    phase: phase as i32,
                    done,
                    total,
                    ..Default::default()
                }));
            };
            let last = match app.import_within(files, &scope, progress).await {
                Err(InventoryError::Rejected(errors)) => {
                    // Every error reaches the client, in messages small enough
                    // for the default 4 MiB gRPC limit.
                    for chunk in errors.chunks(ERRORS_PER_MESSAGE) {
                        let message = pb::ImportProgress {
                            phase: Phase::Rejected as i32,
                            errors: chunk
                                .iter()
                                .map(|e| pb::ImportError::new(e.file.clone(), e.line, e.message.clone()))
                                .collect(),
                            ..Default::default()
                        };
                        if tx.send(Ok(message)).await.is_err() {
                            return;
                        }
                    }
                    return;
                }
                Ok(report) => Ok(pb::ImportProgress {
                    phase: Phase::Done as i32,
                    done: report.structures,
                    total: report.structures,
                    summary: Some(pb::ImportSummary {
                        structures: report.structures,
                        structures_created: report.created,
                        structures_updated: report.updated,
                        structures_unchanged: report.unchanged,
                        people: report.people,
                        functions: report.functions,
                        holdings: report.holdings,
                        events: report.events,
                    }),
                    errors: vec![],
                }),
                Err(other) => Err(Status::from(other)),
            };
            let _ = tx.send(last).await;
        }
        // The request's span (and its trace context) follows the work, so the
        // events appended carry the caller's `traceparent`.
        .instrument(tracing::Span::current()),
    );
    Ok(Response::new(ReceiverStream::new(rx)))
}
