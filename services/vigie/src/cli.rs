//! Command-line interface: one binary for servers (`dev`, `serve`) and for
//! people (`inventory …`). Help is in French, the language of its users;
//! human output follows `--lang` / `LANG`, machine output (`--format json|csv`)
//! is stable and language-independent.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Vigie — veille sur la fragilité numérique et les échéances de financement des structures de l'ESS.
#[derive(Debug, Parser)]
#[command(name = "vigie", version)]
pub struct Cli {
    /// Langue des messages : fr (défaut) ou en. Par défaut, déduite de LANG.
    #[arg(long, global = true, env = "VIGIE_LANG")]
    pub lang: Option<String>,
    /// La commande à exécuter.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lance toute la plateforme dans un seul processus (SQLite, événements internes) pour essayer ou développer.
    Dev(DevArgs),
    /// Lance un service seul, en production (PostgreSQL et NATS JetStream).
    Serve(ServeArgs),
    /// Inventaire : qui assure quelle fonction vitale, indice de fragilité.
    #[command(subcommand)]
    Inventory(InventoryCommand),
    /// Formation : catalogue, sessions, inscriptions, plans qui réduisent la fragilité.
    #[command(subcommand)]
    Training(TrainingCommand),
    /// Facilitation : facilitateurs numériques mobilisés pour les besoins internes des structures.
    #[command(subcommand)]
    Facilitation(FacilitationCommand),
    /// Données personnelles : effacer ou exporter ce que Vigie sait d'une personne (RGPD).
    #[command(subcommand)]
    People(PeopleCommand),
    /// Connexion auprès du fournisseur d'identité (Keycloak) : autorisation d'appareil, ou identifiants de client pour les intégrations.
    Login(LoginArgs),
    /// Oublie les jetons enregistrés pour un serveur.
    Logout(LogoutArgs),
}

/// Options shared by server commands.
#[derive(Debug, Args, Clone)]
pub struct ServerArgs {
    /// Fichier de configuration TOML (valeurs par défaut < fichier < variables VIGIE_* < options).
    #[arg(long, env = "VIGIE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Adresse d'écoute gRPC.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Émetteur OIDC (Keycloak : https://HÔTE/realms/ROYAUME), tel qu'il figure dans `iss` des jetons.
    #[arg(long, env = "VIGIE_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// Audience exigée dans `aud` des jetons (Keycloak : mappeur d'audience), p. ex. vigie.
    #[arg(long, env = "VIGIE_OIDC_AUDIENCE")]
    pub oidc_audience: Option<String>,
}

/// `vigie dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// Options communes aux serveurs.
    #[command(flatten)]
    pub server: ServerArgs,
    /// Répertoire des données SQLite (défaut : ./vigie-data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Charge une fédération de démonstration générée (si l'inventaire est vide).
    #[arg(long)]
    pub demo: bool,
}

/// `vigie serve <service>`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Le service à lancer.
    #[arg(value_enum)]
    pub service: ServiceName,
    /// Options communes aux serveurs.
    #[command(flatten)]
    pub server: ServerArgs,
    /// Base PostgreSQL du service, p. ex. postgres://vigie@db/inventory.
    #[arg(long, env = "VIGIE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Serveur NATS (JetStream activé), p. ex. nats://nats:4222.
    #[arg(long, env = "VIGIE_NATS_URL")]
    pub nats_url: Option<String>,
    /// Authentification des appels : « oidc » (avec --oidc-issuer et --oidc-audience)
    /// ou « none », qui doit être demandé explicitement.
    #[arg(long, value_enum, env = "VIGIE_AUTH")]
    pub auth: Option<AuthMode>,
}

/// Services that `vigie serve` can run.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ServiceName {
    /// Inventaire et indice de fragilité.
    Inventory,
    /// Formation.
    Training,
    /// Facilitation.
    Facilitation,
}

impl ServiceName {
    /// The service's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ServiceName::Inventory => "inventory",
            ServiceName::Training => "training",
            ServiceName::Facilitation => "facilitation",
        }
    }
}

/// How calls are authenticated.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Jetons d'accès OIDC (Keycloak ou tout émetteur conforme), vérifiés à chaque appel.
    Oidc,
    /// Aucune vérification (réseau de confiance uniquement).
    None,
}

/// Options shared by client commands.
#[derive(Debug, Args, Clone)]
pub struct ClientArgs {
    /// Adresse du serveur Vigie.
    #[arg(long, env = "VIGIE_ENDPOINT", default_value = "http://127.0.0.1:50051")]
    pub endpoint: String,
    /// Jeton d'accès OIDC envoyé en « authorization: Bearer » (serveurs en --auth oidc).
    #[arg(long, env = "VIGIE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// `vigie login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Émetteur OIDC (Keycloak : https://HÔTE/realms/ROYAUME).
    #[arg(long)]
    pub issuer: String,
    /// Client OAuth : vigie-cli (public, autorisation d'appareil) ou le client d'intégration.
    #[arg(long, default_value = "vigie-cli")]
    pub client_id: String,
    /// Identifiants de client (OAuth 2.0 client credentials) pour les intégrations, au lieu de l'autorisation d'appareil.
    #[arg(long)]
    pub client_credentials: bool,
    /// Secret du client (avec --client-credentials).
    #[arg(long, env = "VIGIE_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// Serveur Vigie pour lequel les jetons sont enregistrés.
    #[arg(
        long = "endpoint",
        id = "login_endpoint",
        env = "VIGIE_ENDPOINT",
        default_value = "http://127.0.0.1:50051"
    )]
    pub endpoint: String,
}

/// `vigie logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Serveur Vigie dont les jetons sont oubliés.
    #[arg(
        long = "endpoint",
        id = "login_endpoint",
        env = "VIGIE_ENDPOINT",
        default_value = "http://127.0.0.1:50051"
    )]
    pub endpoint: String,
}

/// Output formats.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum Format {
    /// Tableau lisible (défaut).
    #[default]
    Table,
    /// JSON, stable, pour les scripts.
    Json,
    /// CSV, stable, pour les tableurs.
    Csv,
}

/// `vigie people …` (docs/security.md, « Personal data »).
#[derive(Debug, Subcommand)]
pub enum PeopleCommand {
    /// Efface une personne de tous les services (inventaire, formation, facilitation) : irréversible, exige --yes.
    Erase {
        /// Identifiant de la personne.
        person_id: String,
        /// Confirme l'effacement (irréversible : sans --yes, rien n'est effacé).
        #[arg(long)]
        yes: bool,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Exporte tout ce que l'inventaire détient sur une personne.
    Export {
        /// Identifiant de la personne.
        person_id: String,
        /// Format de sortie (json pour une copie exploitable).
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// `vigie inventory …`.
#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// Importe un jeu CSV (structures.csv, people.csv, functions.csv, holdings.csv) : tout ou rien.
    Import {
        /// Répertoire contenant les fichiers CSV.
        dir: PathBuf,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Affiche l'indice de fragilité des structures (ou d'une seule).
    Fragility {
        /// Une seule structure, avec le détail par fonction.
        #[arg(long)]
        structure: Option<String>,
        /// Seulement ce réseau.
        #[arg(long)]
        network: Option<String>,
        /// Date d'évaluation AAAA-MM-JJ (p. ex. « après la fin de ces contrats »). Défaut : aujourd'hui.
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Agrège la fragilité par réseau, région, département ou pour toute l'instance.
    Rollup {
        /// Regroupement.
        #[arg(long, value_enum, default_value_t)]
        by: RollupByArg,
        /// Date d'évaluation AAAA-MM-JJ. Défaut : aujourd'hui.
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Génère un inventaire synthétique réaliste (jeu CSV) pour les démonstrations et les mesures.
    Generate {
        /// Nombre de structures.
        #[arg(long, default_value_t = 100)]
        structures: usize,
        /// Graine : même graine, mêmes fichiers.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Date de référence des contrats et des pratiques (défaut : aujourd'hui).
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
        /// Répertoire de sortie (créé si besoin).
        dir: PathBuf,
    },
}

/// Grouping of `vigie inventory rollup`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum RollupByArg {
    /// Toute l'instance.
    Instance,
    /// Par réseau (défaut).
    #[default]
    Network,
    /// Par région.
    Region,
    /// Par département.
    Department,
}

/// `vigie training …`.
#[derive(Debug, Subcommand)]
pub enum TrainingCommand {
    /// Catalogue des formations.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Liste les sessions et leurs places restantes.
    Sessions {
        /// Seulement cette formation.
        #[arg(long)]
        training: Option<String>,
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Inscrit une personne à une session (liste d'attente si complète).
    Enrol {
        /// Session.
        #[arg(long)]
        session: String,
        /// Personne (identifiant de l'inventaire).
        #[arg(long)]
        person: String,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Annule une inscription ; la première personne en attente prend la place.
    Cancel {
        /// Session.
        #[arg(long)]
        session: String,
        /// Personne.
        #[arg(long)]
        person: String,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Enregistre qu'une personne a suivi la session : ses compétences montent dans l'inventaire.
    Complete {
        /// Session.
        #[arg(long)]
        session: String,
        /// Personne.
        #[arg(long)]
        person: String,
        /// Date de fin de formation AAAA-MM-JJ (défaut : dernier jour de la session).
        #[arg(long)]
        on: Option<chrono::NaiveDate>,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Plan de formation d'une structure (ou d'un réseau) et fragilité prévue après le plan.
    Plan {
        /// La structure.
        #[arg(long, conflicts_with = "network", required_unless_present = "network")]
        structure: Option<String>,
        /// Le réseau : quelles formations organiser, où, pour combien de personnes.
        #[arg(long)]
        network: Option<String>,
        /// Date d'évaluation AAAA-MM-JJ (défaut : aujourd'hui).
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// `vigie training catalog …`.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Importe trainings.csv et sessions.csv d'un répertoire : tout ou rien.
    Import {
        /// Répertoire contenant trainings.csv et sessions.csv.
        dir: PathBuf,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Exporte le catalogue (trainings.csv, sessions.csv) dans un répertoire, réimportable tel quel.
    Export {
        /// Répertoire de sortie (créé si besoin).
        dir: PathBuf,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// `vigie facilitation …`.
#[derive(Debug, Subcommand)]
pub enum FacilitationCommand {
    /// Facilitateurs (conseillers numériques, médiateurs, coordinateurs, référents, pairs de confiance).
    #[command(subcommand)]
    Facilitators(FacilitatorsCommand),
    /// Demande d'aide d'une structure : proposée au facilitateur le mieux placé ayant encore du temps cette semaine.
    Request {
        /// La structure qui demande de l'aide.
        #[arg(long)]
        structure: String,
        /// La fonction vitale concernée (code du catalogue, p. ex. payroll).
        #[arg(long)]
        function: String,
        /// Le besoin, en quelques mots.
        #[arg(long)]
        description: String,
        /// Échéance AAAA-MM-JJ.
        #[arg(long)]
        due: Option<chrono::NaiveDate>,
        /// Durée estimée en minutes (défaut : 120), réservée sur le temps interne de la semaine.
        #[arg(long)]
        minutes: Option<u32>,
        /// Urgence : low, normal (défaut) ou high.
        #[arg(long)]
        urgency: Option<String>,
        /// Modalité souhaitée : on_site (sur place : les facilitateurs dont le territoire couvre la structure passent devant), remote (à distance) ou either (défaut, indifférent).
        #[arg(long, value_parser = ["on_site", "remote", "either"])]
        modality: Option<String>,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Réponse du facilitateur : accepter, ou décliner (la demande passe au suivant).
    Respond {
        /// La demande.
        #[arg(long)]
        request: String,
        /// Accepter la demande.
        #[arg(long, conflicts_with = "decline", required_unless_present = "decline")]
        accept: bool,
        /// Décliner la demande.
        #[arg(long)]
        decline: bool,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Demandes ouvertes et propositions proactives (structures fragiles), avec leur facilitateur.
    Proposals {
        /// Seulement cette structure.
        #[arg(long)]
        structure: Option<String>,
        /// Format de sortie : table (défaut) ou json.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Enregistre une intervention (comptée une seule fois).
    Record {
        /// La demande ou proposition concernée.
        #[arg(long)]
        request: String,
        /// Durée en minutes.
        #[arg(long)]
        minutes: u32,
        /// Bénéficiaire : internal (fonction interne de la structure) ou external (personne extérieure).
        #[arg(long, value_enum)]
        beneficiary: BeneficiaryArg,
        /// Membre de la structure accompagné (besoin interne).
        #[arg(long)]
        person: Option<String>,
        /// Autonomie de cette personne sur la fonction après l'intervention (0 à 4) ; à 3 ou plus, l'inventaire est mis à jour.
        #[arg(long, requires = "person", value_parser = clap::value_parser!(u32).range(0..=4))]
        autonomy_after: Option<u32>,
        /// Autonomie de cette personne sur la fonction avant l'intervention (0 à 4).
        #[arg(long, requires = "person", value_parser = clap::value_parser!(u32).range(0..=4))]
        autonomy_before: Option<u32>,
        /// Type d'activité (vocabulaire du CRA) : individuel (défaut) ou collectif.
        #[arg(long = "type", value_parser = ["individuel", "collectif"])]
        activity_type: Option<String>,
        /// Lieu (vocabulaire du CRA) : lieu_activite, domicile (locaux de la structure), a_distance ou autre (défaut).
        #[arg(long, value_parser = ["lieu_activite", "domicile", "a_distance", "autre"])]
        place: Option<String>,
        /// Thématiques du CRA séparées par « ; » (p. ex. « bureautique;email »).
        #[arg(long)]
        themes: Option<String>,
        /// Date de l'intervention AAAA-MM-JJ (défaut : aujourd'hui).
        #[arg(long)]
        on: Option<chrono::NaiveDate>,
        /// Clé d'idempotence (défaut : déduite de la demande et des valeurs).
        #[arg(long)]
        key: Option<String>,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Mesures d'un réseau sur une période : par facilitateur, minutes sur les besoins internes et auprès des bénéficiaires extérieurs, délais médians de réponse et de résolution (en heures) ; structures fragiles jamais aidées.
    Report {
        /// Le réseau.
        #[arg(long)]
        network: String,
        /// Début de la période AAAA-MM-JJ (inclus).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Fin de la période AAAA-MM-JJ (incluse).
        #[arg(long)]
        to: chrono::NaiveDate,
        /// Format de sortie : table (défaut), csv (deux tableaux séparés par une ligne vide) ou json.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Export CSV des interventions d'un réseau sur une période, une ligne par intervention, dans le vocabulaire du compte rendu d'activité (CRA) des médiateurs numériques.
    Export {
        /// Le réseau.
        #[arg(long)]
        network: String,
        /// Début de la période AAAA-MM-JJ (inclus).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Fin de la période AAAA-MM-JJ (incluse).
        #[arg(long)]
        to: chrono::NaiveDate,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// `vigie facilitation facilitators …`.
#[derive(Debug, Subcommand)]
pub enum FacilitatorsCommand {
    /// Importe un fichier facilitators.csv : tout ou rien.
    Import {
        /// Le fichier CSV.
        file: PathBuf,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Liste les facilitateurs et leur temps réservé aux besoins internes.
    List {
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// Beneficiary of `vigie facilitation record`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum BeneficiaryArg {
    /// Une fonction interne de la structure.
    Internal,
    /// Une personne extérieure (public de la médiation).
    External,
}

impl BeneficiaryArg {
    /// The code of the API.
    pub fn code(self) -> &'static str {
        match self {
            BeneficiaryArg::Internal => "internal",
            BeneficiaryArg::External => "external",
        }
    }
}
