//! The `vigie` binary: thin entry point that parses the command line, sets up
//! telemetry and hands over to the command. Errors are printed once, in the
//! user's language, and the process exits non-zero.

mod cli;
mod client;
mod config;
mod generate;
mod i18n;
mod output;
mod server;

use clap::Parser;

use cli::{Cli, Command, InventoryCommand};
use i18n::Lang;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let lang = Lang::detect(cli.lang.as_deref());
    let is_server = matches!(cli.command, Command::Dev(_) | Command::Serve(_));
    // Servers log at info; client commands stay quiet so their output is clean.
    let telemetry = vigie_platform::telemetry::init("vigie", if is_server { "info" } else { "warn" });
    let result = run(cli.command, lang).await;
    telemetry.shutdown();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{} {error:#}", lang.pick("erreur :", "error:"));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, lang: Lang) -> anyhow::Result<()> {
    match command {
        Command::Dev(args) => server::dev::run(args, lang).await,
        Command::Serve(args) => server::serve::run(args, lang).await,
        Command::Inventory(command) => match command {
            InventoryCommand::Import { dir, client } => client::inventory::import(&client.endpoint, &dir, lang).await,
            InventoryCommand::Fragility {
                structure,
                network,
                at,
                format,
                client,
            } => {
                client::inventory::fragility(
                    &client.endpoint,
                    structure.as_deref(),
                    network.as_deref(),
                    at,
                    format,
                    lang,
                )
                .await
            }
            InventoryCommand::Rollup { by, at, format, client } => {
                client::inventory::rollup(&client.endpoint, by, at, format, lang).await
            }
            InventoryCommand::Generate {
                structures,
                seed,
                today,
                dir,
            } => generate::run(structures, seed, today, &dir, lang),
        },
    }
}
