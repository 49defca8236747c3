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

use cli::{
    AlertsCommand, CallsCommand, CatalogCommand, Cli, Command, DeadLettersCommand, EventsCommand, FacilitationCommand,
    FacilitatorsCommand, FederationCommand, GrantsCommand, InventoryCommand, PeopleCommand, TrainingCommand,
};
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
        Command::Inventory(command) => match command {
            InventoryCommand::Import { dir, client } => client::inventory::import(&client.endpoint, &dir, lang).await,
            InventoryCommand::Template { out, from } => client::inventory_files::template(&out, from.as_deref(), lang),
            InventoryCommand::Export { out, network, client } => {
                client::inventory_files::export(&client.endpoint, &out, network.as_deref(), lang).await
            }
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
        Command::Training(command) => match command {
            TrainingCommand::Catalog(CatalogCommand::Import { dir, client }) => {
                client::training::import_catalog(&client.endpoint, &dir, lang).await
            }
            TrainingCommand::Catalog(CatalogCommand::Export { dir, client }) => {
                client::training::export_catalog(&client.endpoint, &dir, lang).await
            }
            TrainingCommand::Sessions {
                training,
                format,
                client,
            } => client::training::sessions(&client.endpoint, training.as_deref(), format, lang).await,
            TrainingCommand::Enrol {
                session,
                person,
                client,
            } => client::training::enrol(&client.endpoint, &session, &person, lang).await,
            TrainingCommand::Cancel {
                session,
                person,
                client,
            } => client::training::cancel(&client.endpoint, &session, &person, lang).await,
            TrainingCommand::Complete {
                session,
                person,
                on,
                client,
            } => client::training::complete(&client.endpoint, &session, &person, on, lang).await,
            TrainingCommand::Plan {
                structure,
                network,
                at,
                format,
                client,
            } => {
                client::training::plan(
                    &client.endpoint,
                    structure.as_deref(),
                    network.as_deref(),
                    at,
                    format,
                    lang,
                )
                .await
            }
        },
        Command::Facilitation(command) => run_facilitation(command, lang).await,
        Command::Calls(command) => run_calls(command, lang).await,
        Command::Alerts(command) => run_alerts(command, lang).await,
        Command::Grants(command) => run_grants(command, lang).await,
        Command::People(PeopleCommand::Erase { person_id, yes, client }) => {
            client::people::erase(&client.endpoint, &person_id, yes, lang).await
        }
        Command::People(PeopleCommand::Export {
            person_id,
            format,
            client,
        }) => client::people::export(&client.endpoint, &person_id, format, lang).await,
        Command::Events(EventsCommand::DeadLetters(DeadLettersCommand::List { store, format })) => {
            dead_letters::list(&store, format, lang).await
        }
        Command::Events(EventsCommand::DeadLetters(DeadLettersCommand::Replay {
            event_id,
            consumer,
            store,
            wait,
        })) => dead_letters::replay(&store, &consumer, &event_id, wait, lang).await,
        Command::Federation(FederationCommand::Rollup { by, format, client }) => {
            client::federation::rollup(&client.endpoint, by, format, lang).await
        }
        Command::Federation(FederationCommand::Regions { format, client }) => {
            client::federation::regions(&client.endpoint, format, lang).await
        }
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

async fn run_facilitation(command: FacilitationCommand, lang: Lang) -> anyhow::Result<()> {
    use client::facilitation as f;
    match command {
        FacilitationCommand::Facilitators(FacilitatorsCommand::Import { file, client }) => {
            f::import_facilitators(&client.endpoint, &file, lang).await
        }
        FacilitationCommand::Facilitators(FacilitatorsCommand::List { format, client }) => {
            f::facilitators(&client.endpoint, format, lang).await
        }
        FacilitationCommand::Request {
            structure,
            function,
            description,
            due,
            minutes,
            urgency,
            modality,
            client,
        } => {
            let help = f::Help {
                structure,
                function,
                description,
                due,
                minutes,
                urgency,
                modality,
            };
            f::request(&client.endpoint, help, lang).await
        }
        FacilitationCommand::Respond {
            request,
            accept,
            decline: _,
            client,
        } => f::respond(&client.endpoint, &request, accept, lang).await,
        FacilitationCommand::Proposals {
            structure,
            format,
            client,
        } => f::proposals(&client.endpoint, structure.as_deref(), format, lang).await,
        FacilitationCommand::Record {
            request,
            minutes,
            beneficiary,
            person,
            autonomy_after,
            autonomy_before,
            activity_type,
            place,
            themes,
            on,
            key,
            client,
        } => {
            let intervention = f::Intervention {
                request,
                minutes,
                beneficiary: beneficiary.code(),
                person,
                autonomy_after,
                autonomy_before,
                activity_type,
                place,
                themes: themes
                    .as_deref()
                    .map(|t| {
                        t.split(';')
                            .map(str::trim)
                            .filter(|t| !t.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                on,
                key,
            };
            f::record(&client.endpoint, intervention, lang).await
        }
        FacilitationCommand::Report { period, format, client } => {
            f::report(&client.endpoint, &period.network, period.from, period.to, format, lang).await
        }
        FacilitationCommand::Export { period, client } => {
            f::export(&client.endpoint, &period.network, period.from, period.to, lang).await
        }
    }
}

async fn run_calls(command: CallsCommand, lang: Lang) -> anyhow::Result<()> {
    use client::alerting as a;
    match command {
        CallsCommand::Import {
            source,
            file,
            format,
            client,
        } => a::import(&client.endpoint, &source, &file, format, lang).await,
        CallsCommand::Fetch { source, format, client } => a::fetch(&client.endpoint, &source, format, lang).await,
        CallsCommand::List {
            structure,
            closing_within,
            all,
            format,
            client,
        } => {
            a::list(
                &client.endpoint,
                structure.as_deref(),
                closing_within,
                all,
                format,
                lang,
            )
            .await
        }
        CallsCommand::Export { output, client } => a::export(&client.endpoint, output.as_deref(), lang).await,
    }
}

async fn run_grants(command: GrantsCommand, lang: Lang) -> anyhow::Result<()> {
    use client::grants as g;
    match command {
        GrantsCommand::List { scope, format, client } => g::list(&client.endpoint, &scope, format, lang).await,
        GrantsCommand::Record { grant, format, client } => g::record(&client.endpoint, &grant, format, lang).await,
        GrantsCommand::SetDate {
            structure,
            obligation,
            grant,
            due,
            label,
            client,
        } => {
            g::set_date(
                &client.endpoint,
                &structure,
                obligation.as_deref(),
                grant.as_deref(),
                due,
                label.as_deref(),
                lang,
            )
            .await
        }
        GrantsCommand::Ack {
            structure,
            key,
            undo,
            client,
        } => g::ack(&client.endpoint, &structure, &key, undo, lang).await,
        GrantsCommand::Obligations { scope, format, client } => {
            g::obligations(&client.endpoint, &scope, format, lang).await
        }
        GrantsCommand::Stats {
            network,
            format,
            client,
        } => g::stats(&client.endpoint, network.as_deref(), format, lang).await,
        // Issue 16, import of grants.
        GrantsCommand::Import {
            file,
            dry_run,
            network,
            client,
        } => client::grants_import::import(&client.endpoint, &file, dry_run, network.as_deref(), lang).await,
        GrantsCommand::Template { out } => client::grants_import::template(&out, lang),
    }
}

async fn run_alerts(command: AlertsCommand, lang: Lang) -> anyhow::Result<()> {
    use client::alerting as a;
    match command {
        AlertsCommand::Preview {
            from,
            to,
            structure,
            format,
            client,
        } => a::preview(&client.endpoint, from, to, structure.as_deref(), format, lang).await,
        AlertsCommand::Log {
            structure,
            limit,
            format,
            client,
        } => a::log(&client.endpoint, structure.as_deref(), limit, format, lang).await,
        AlertsCommand::Policy {
            network,
            offsets,
            hour,
            timezone,
            referent_name,
            referent_email,
            webhook_url,
            webhook_secret,
            draft_days,
            format,
            client,
        } => {
            let changes = a::PolicyChanges {
                offsets,
                hour,
                timezone,
                referent_name,
                referent_email,
                webhook_url,
                webhook_secret,
                draft_days,
            };
            a::policy(&client.endpoint, &network, changes, format, lang).await
        }
        AlertsCommand::Preferences {
            structure,
            network,
            themes,
            audiences,
            opt_out,
            opt_in: _,
            format,
            client,
        } => {
            let subscriber = a::Subscriber::from_args(structure, network);
            a::preferences(&client.endpoint, subscriber, themes, audiences, opt_out, format, lang).await
        }
        AlertsCommand::Ack {
            structure,
            call,
            status,
            client,
        } => a::ack(&client.endpoint, &structure, &call, status, lang).await,
        AlertsCommand::Feed {
            structure,
            network,
            revoke,
            client,
        } => {
            a::feed(
                &client.endpoint,
                a::Subscriber::from_args(structure, network),
                revoke,
                lang,
            )
            .await
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
