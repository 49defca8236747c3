//! A refusal reaches its client whatever its length: a file with a thousand
//! bad rows, an identifier of a megabyte sent back in « introuvable ».

use tonic::Code;
use vigie_platform::grpc::client::{self, ClientOptions};
use vigie_platform::grpc::{GrpcLimits, ServeOptions};
use vigie_platform::words::message_for;

use crate::support::{self, Gate};

async fn client_of_a_plain_server() -> (support::Server, tonic::transport::Channel) {
    let limits = GrpcLimits::default();
    let server = support::serve(
        support::routes(&limits, Gate::closed()),
        ServeOptions { tls: None, limits },
    )
    .await;
    let channel = client::connect(&server.http(), &ClientOptions::default())
        .await
        .unwrap();
    (server, channel)
}

#[tokio::test]
async fn a_thousand_bad_rows_arrive_as_the_first_ones_and_a_count() {
    let (_server, channel) = client_of_a_plain_server().await;
    let status = support::refused(channel.clone(), "/vigie.test.Refuse/Lines", 1000).await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let french: Vec<&str> = status.message().lines().collect();
    let (last, rows) = french.split_last().unwrap();
    assert!(rows.len() >= 40, "as many rows as fit: {}", rows.len());
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(*row, format!("personnes.csv:{}: âge « deux cents » invalide", i + 1));
    }
    assert_eq!(*last, format!("… et {} autres lignes non affichées", 1000 - rows.len()));
    let english = message_for(&status, true);
    assert!(
        english.starts_with("people.csv:1: invalid age “deux cents”\npeople.csv:2:"),
        "{english}"
    );
    assert!(english.ends_with("more lines not shown"), "{english}");

    // A short refusal is untouched, and the connection still serves.
    let status = support::refused(channel, "/vigie.test.Refuse/Lines", 2).await;
    assert_eq!(
        status.message(),
        "personnes.csv:1: âge « deux cents » invalide\npersonnes.csv:2: âge « deux cents » invalide"
    );
}

#[tokio::test]
async fn an_identifier_of_a_megabyte_comes_back_cut() {
    let (_server, channel) = client_of_a_plain_server().await;
    let status = support::refused(channel.clone(), "/vigie.test.Refuse/Echo", 1 << 20).await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().starts_with("structure « éééé"), "{}", status.message());
    assert!(status.message().ends_with("é…"), "cut, not dropped");
    assert!(status.message().len() < 4096, "{}", status.message().len());
    assert!(message_for(&status, true).starts_with("structure “éééé"));
    // The server is still there for the next caller.
    assert_eq!(support::health(channel).await.unwrap(), support::SERVING);
}
