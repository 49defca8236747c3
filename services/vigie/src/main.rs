//! The `vigie` binary: thin entry point that parses the command line, sets up
//! telemetry and hands over to the command. Errors are printed once, in the
//! user's language, and the process exits non-zero.

mod admin;
mod cli;
mod client;
mod config;
mod dead_letters;
mod generate;
mod i18n;
mod login;
mod output;
mod server;

use clap::{ArgMatches, CommandFactory, FromArgMatches};

use cli::{Cli, Command, DeadLettersCommand, EventsCommand};
use i18n::Lang;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    let lang = i18n::detect(cli.lang.as_deref());
    let client = client_args(&matches);
    // --ca-cert, --client-cert, --client-key: TLS of every connection (https://).
    if let Some(args) = &client {
        client::set_tls(vigie_platform::grpc::tls::ClientTlsFiles {
            ca_cert: args.ca_cert.clone(),
            client_cert: args.client_cert.clone(),
            client_key: args.client_key.clone(),
        });
    }
    // --token / VIGIE_TOKEN first, else the token cached by `vigie login` for the endpoint.
    let token = match client {
        Some(cli::ClientArgs { token: Some(token), .. }) => Some(token),
        Some(args) => match login::cached_token(&args.endpoint, lang).await {
            Ok(token) => token,
            Err(error) => {
                eprintln!("{} {error:#}", lang.pick("erreur :", "error:"));
                return std::process::ExitCode::FAILURE;
            }
        },
        None => None,
    };
    client::set_token(token);
    let is_server = matches!(cli.command, Command::Dev(_) | Command::Serve(_));
    // Servers log at info; client commands stay quiet so their output is clean.
    // `vigie serve training` exports as `vigie-training`, so a trace that
    // crosses services shows which process did what (OTEL_SERVICE_NAME wins).
    let service_name = match &cli.command {
        Command::Serve(args) => format!("vigie-{}", args.service.name()),
        _ => "vigie".to_owned(),
    };
    let mut telemetry = vigie_platform::telemetry::init(&service_name, if is_server { "info" } else { "warn" });
    let result = run(cli.command, lang, &mut telemetry).await;
    telemetry.shutdown();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // `vigie … | head` closes the pipe early: that is not a failure.
        Err(error) if is_broken_pipe(&error) => std::process::ExitCode::SUCCESS,
        // An import that found problems in the file (listed on stdout): 2,
        // so a script tells a bad file from a failure to run.
        Err(error) if error.downcast_ref::<client::grants_import::ProblemsFound>().is_some() => {
            eprintln!("{error}");
            std::process::ExitCode::from(2)
        }
        Err(error) => {
            // Error chains may echo a URL given by the operator (sqlx,
            // figment): its password never reaches the terminal.
            let message = vigie_platform::redact::url(&format!("{error:#}"));
            eprintln!("{} {message}", lang.pick("erreur :", "error:"));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, lang: Lang, telemetry: &mut vigie_platform::telemetry::Telemetry) -> anyhow::Result<()> {
    match command {
        Command::Dev(args) => server::dev::run(args, lang, telemetry).await,
        Command::Serve(args) => server::serve::run(args, lang, telemetry).await,
        Command::Inventory(command) => client::inventory::run(command, lang).await,
        Command::Training(command) => client::training::run(command, lang).await,
        Command::Facilitation(command) => client::facilitation::run(command, lang).await,
        Command::Calls(command) => client::alerting::run_calls(command, lang).await,
        Command::Alerts(command) => client::alerting::run_alerts(command, lang).await,
        Command::Grants(command) => client::grants::run(command, lang).await,
        Command::People(command) => client::people::run(command, lang).await,
        Command::Events(EventsCommand::DeadLetters(DeadLettersCommand::List { store, format })) => {
            dead_letters::list(&store, format, lang).await
        }
        Command::Events(EventsCommand::DeadLetters(DeadLettersCommand::Replay {
            event_id,
            consumer,
            store,
            wait,
        })) => dead_letters::replay(&store, &consumer, &event_id, wait, lang).await,
        Command::Federation(command) => client::federation::run(command, lang).await,
        Command::Admin(command) => admin::run(command, lang).await,
        Command::Login(args) => {
            let request = login::Login {
                issuer: args.issuer,
                client_id: args.client_id,
                client_credentials: args.client_credentials,
                client_secret: args.client_secret,
                endpoint: args.endpoint,
            };
            login::login(request, lang).await
        }
        Command::Logout(args) => login::logout(&args.endpoint, lang),
        Command::Health(args) => {
            client::health::check(&args.client.endpoint, args.service.as_deref(), args.timeout, lang).await
        }
    }
}

/// The client options (`--endpoint`, `--token`, TLS files) of the command given, if it
/// is a client command: read once here, so every client command of every
/// service authenticates the same way.
fn client_args(matches: &ArgMatches) -> Option<cli::ClientArgs> {
    let mut leaf = matches;
    while let Some((_, sub)) = leaf.subcommand() {
        leaf = sub;
    }
    // Only client commands define `--endpoint` (it has a default value).
    let is_client = leaf.try_get_one::<String>("endpoint").ok().flatten().is_some();
    is_client
        .then(|| cli::ClientArgs::from_arg_matches(leaf).ok())
        .flatten()
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
