//! The servers' own words follow `--lang`: a refusal reads in French by
//! default and in English with `--lang en`, for a unary call and for a
//! client-streaming one; a client that knows nothing of the English metadata
//! still gets the French message.

use anyhow::{ensure, Result};
use vigie_e2e::VigieServer;
use vigie_proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use vigie_proto::inventory::v1::ImportRequest;

async fn dev(data_dir: &std::path::Path) -> Result<VigieServer> {
    let dir = data_dir.to_str().unwrap_or_default().to_owned();
    VigieServer::start(&["dev", "--listen", "127.0.0.1:0", "--data-dir", dir.as_str()], &[]).await
}

#[tokio::test]
async fn server_messages_follow_the_language_of_the_cli() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = dev(dir.path()).await?;

    // NOT_FOUND.
    let unknown = ["inventory", "fragility", "--structure", "NULLE-PART"];
    let french = server.cli(&unknown).await?;
    ensure!(
        !french.success
            && french
                .stderr
                .contains("introuvable : structure « NULLE-PART » introuvable"),
        "French by default: {french:?}"
    );
    let english = server.cli(&[&["--lang", "en"], &unknown[..]].concat()).await?;
    ensure!(
        !english.success && english.stderr.contains("not found: structure “NULLE-PART” not found"),
        "English with --lang en: {english:?}"
    );
    ensure!(!english.stderr.contains("introuvable"), "no French left: {english:?}");

    // INVALID_ARGUMENT, checked by the server only.
    let bad_zone = ["alerts", "policy", "--network", "reseau-a", "--timezone", "Mars/Olympe"];
    let french = server.cli(&bad_zone).await?;
    ensure!(
        !french.success
            && french
                .stderr
                .contains("demande invalide : fuseau « Mars/Olympe » inconnu : attendu un nom IANA"),
        "French by default: {french:?}"
    );
    let english = server.cli(&[&["--lang", "en"], &bad_zone[..]].concat()).await?;
    ensure!(
        !english.success
            && english
                .stderr
                .contains("invalid request: unknown time zone “Mars/Olympe”: expected an IANA name"),
        "English with --lang en: {english:?}"
    );

    // A client-streaming call, by a plain gRPC client: the status message
    // stays French, the English words ride in the metadata.
    let mut client = InventoryServiceClient::connect(server.endpoint.clone()).await?;
    let files = tokio_stream::iter([ImportRequest {
        file_name: "intrus.csv".to_owned(),
        chunk: b"a,b\n".to_vec(),
    }]);
    let status = match client.import(files).await {
        Ok(response) => anyhow::bail!("an unexpected file is refused, got {:?}", response.get_ref()),
        Err(status) => status,
    };
    ensure!(status.code() == tonic::Code::InvalidArgument, "{status:?}");
    ensure!(
        status.message().starts_with("fichier « intrus.csv » inattendu"),
        "{status:?}"
    );
    let english = vigie_platform::words::english_message(&status);
    ensure!(
        english
            .as_deref()
            .is_some_and(|e| e.starts_with("unexpected file “intrus.csv” (expected: structures.csv")),
        "English in vigie-message-en-bin: {english:?}"
    );
    Ok(())
}
