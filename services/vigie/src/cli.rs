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
    /// Appels à projets : import depuis les portails de financement, liste des échéances, export.
    #[command(subcommand)]
    Calls(CallsCommand),
    /// Rappels d'échéances : aperçu, journal des envois, politique des réseaux, préférences, accusés, agendas.
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// Subventions : candidatures, subventions obtenues et obligations de compte rendu qui en découlent.
    #[command(subcommand)]
    Grants(GrantsCommand),
    /// Fédération : agrégats des régions (jamais de personnes ni de structures), par région, réseau, département ou fonction.
    #[command(subcommand)]
    Federation(FederationCommand),
    /// Données personnelles : effacer ou exporter ce que Vigie sait d'une personne (RGPD).
    #[command(subcommand)]
    People(PeopleCommand),
    /// Événements : lettres mortes (événements qu'un consommateur a écartés), liste et rejeu.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Administration : republier l'état courant d'un service (resync) pour un consommateur ajouté ou restauré.
    #[command(subcommand)]
    Admin(crate::admin::AdminCommand),
    /// Connexion auprès du fournisseur d'identité (Keycloak) : autorisation d'appareil, ou identifiants de client pour les intégrations.
    Login(LoginArgs),
    /// Oublie les jetons enregistrés pour un serveur.
    Logout(LogoutArgs),
    /// Vérifie qu'un serveur Vigie répond (grpc.health.v1) ; code de sortie 0 s'il sert, 1 sinon.
    /// Sert aux contrôles de santé des conteneurs (l'image n'a ni shell ni grpcurl).
    Health(HealthArgs),
}

/// `vigie health`.
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Service dont l'état est demandé, p. ex. vigie.inventory.v1.InventoryService (défaut : le processus).
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,
    /// Délai maximal de la réponse, en secondes.
    #[arg(long, default_value_t = 3, value_name = "SECONDES")]
    pub timeout: u64,
    /// Adresse du serveur et options de connexion.
    #[command(flatten)]
    pub client: ClientArgs,
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
    /// TLS du serveur gRPC : chaîne de certificats PEM (le certificat du serveur d'abord). Avec --tls-key.
    #[arg(long, env = "VIGIE_TLS_CERT", value_name = "FICHIER")]
    pub tls_cert: Option<PathBuf>,
    /// TLS du serveur gRPC : clé privée PEM du certificat.
    #[arg(long, env = "VIGIE_TLS_KEY", value_name = "FICHIER")]
    pub tls_key: Option<PathBuf>,
    /// TLS mutuel : certificat PEM de l'autorité qui signe les certificats des clients ; un client sans certificat valide est refusé.
    #[arg(long, env = "VIGIE_TLS_CLIENT_CA", value_name = "FICHIER")]
    pub tls_client_ca: Option<PathBuf>,
    /// Point de collecte Prometheus (GET /metrics) sur cette adresse, p. ex. 0.0.0.0:9464 : retard de l'outbox et des consommateurs, lettres mortes, rappels, durée des appels. Chiffres d'exploitation sans donnée personnelle ; sans authentification, à garder hors du réseau public.
    #[arg(long, value_name = "ADRESSE")]
    pub metrics_listen: Option<SocketAddr>,
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
    /// Adresse d'écoute de la console web (boucle locale seulement ; port 0 : un port libre).
    #[arg(
        long,
        env = "VIGIE_CONSOLE_LISTEN",
        value_name = "ADRESSE",
        default_value = "127.0.0.1:8080"
    )]
    pub console_listen: SocketAddr,
    /// Avec OIDC : la console signe les personnes auprès de l'émetteur, avec ce client (Keycloak : vigie-console) ;
    /// son adresse de retour est http://ADRESSE-DE-LA-CONSOLE/connexion/retour. Sans lui, la console est désactivée avec OIDC.
    #[arg(long, env = "VIGIE_OIDC_CLIENT_ID", value_name = "CLIENT")]
    pub oidc_client_id: Option<String>,
    /// Avec --oidc-client-id : fichier contenant le secret du client (client confidentiel).
    #[arg(long, env = "VIGIE_OIDC_CLIENT_SECRET_FILE", value_name = "FICHIER")]
    pub oidc_client_secret_file: Option<PathBuf>,
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
    /// Options d'authentification et de TLS vers NATS.
    #[command(flatten)]
    pub nats: NatsArgs,
    /// Authentification des appels : « oidc » (avec --oidc-issuer et --oidc-audience)
    /// ou « none », qui doit être demandé explicitement.
    #[arg(long, value_enum, env = "VIGIE_AUTH")]
    pub auth: Option<AuthMode>,
    /// Avec « federation » : instance nationale, qui reçoit les agrégats des régions
    /// (flux VIGIE_NATIONAL) au lieu de publier ceux de sa région.
    #[arg(long)]
    pub national: bool,
    /// Options de « vigie serve console ».
    #[command(flatten)]
    pub console: Box<ConsoleArgs>,
}

/// Flags of `vigie serve console` (the web console, docs/console.md): where
/// the services are, its public URL, its OIDC client.
#[derive(Debug, Args, Clone, Default)]
pub struct ConsoleArgs {
    /// Console : adresse gRPC des services (https://HÔTE:PORT, ou http://127.0.0.1:PORT en local).
    #[arg(long, env = "VIGIE_SERVICES_ENDPOINT", value_name = "URL")]
    pub services_endpoint: Option<String>,
    /// Console : adresse gRPC de l'inventaire, si elle diffère de --services-endpoint.
    #[arg(long, env = "VIGIE_INVENTORY_ENDPOINT", value_name = "URL")]
    pub inventory_endpoint: Option<String>,
    /// Console : adresse gRPC des alertes, si elle diffère de --services-endpoint.
    #[arg(long, env = "VIGIE_ALERTING_ENDPOINT", value_name = "URL")]
    pub alerting_endpoint: Option<String>,
    /// Console : adresse gRPC de la formation, si elle diffère de --services-endpoint.
    #[arg(long, env = "VIGIE_TRAINING_ENDPOINT", value_name = "URL")]
    pub training_endpoint: Option<String>,
    /// Console : adresse gRPC de la facilitation, si elle diffère de --services-endpoint.
    #[arg(long, env = "VIGIE_FACILITATION_ENDPOINT", value_name = "URL")]
    pub facilitation_endpoint: Option<String>,
    /// Console : son adresse publique, telle que la voient les navigateurs (https://console.example.org) ;
    /// l'adresse de retour OIDC en est <URL>/connexion/retour. Par défaut, http://ADRESSE-D-ÉCOUTE en boucle locale.
    #[arg(long, env = "VIGIE_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Console : identifiant de son client OIDC (Keycloak : vigie-console).
    #[arg(long, env = "VIGIE_OIDC_CLIENT_ID", value_name = "CLIENT")]
    pub oidc_client_id: Option<String>,
    /// Console : fichier contenant le secret de son client OIDC (client confidentiel) ; sans lui, client public (PKCE seul).
    #[arg(long, env = "VIGIE_OIDC_CLIENT_SECRET_FILE", value_name = "FICHIER")]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// Console : certificat PEM de l'autorité (privée) qui a signé le certificat des services (adresse https://).
    #[arg(long, env = "VIGIE_CA_CERT", value_name = "FICHIER")]
    pub ca_cert: Option<PathBuf>,
    /// Console : TLS mutuel vers les services, certificat client PEM (avec --client-key).
    #[arg(long, env = "VIGIE_CLIENT_CERT", value_name = "FICHIER")]
    pub client_cert: Option<PathBuf>,
    /// Console : TLS mutuel vers les services, clé privée PEM du certificat client.
    #[arg(long, env = "VIGIE_CLIENT_KEY", value_name = "FICHIER")]
    pub client_key: Option<PathBuf>,
}

/// NATS authentication and TLS flags of `vigie serve` (docs/security.md).
#[derive(Debug, Args, Clone, Default)]
pub struct NatsArgs {
    /// Fichier d'identifiants NATS (.creds : JWT et graine, tel que l'écrit nsc).
    #[arg(long, env = "VIGIE_NATS_CREDS", value_name = "FICHIER")]
    pub nats_creds: Option<PathBuf>,
    /// Fichier contenant la graine nkey de l'utilisateur NATS (SU…).
    #[arg(long, env = "VIGIE_NATS_NKEY", value_name = "FICHIER")]
    pub nats_nkey: Option<PathBuf>,
    /// Certificat(s) de l'autorité qui signe le certificat du serveur NATS (PEM) ; impose TLS.
    #[arg(long, env = "VIGIE_NATS_TLS_CA", value_name = "FICHIER")]
    pub nats_tls_ca: Option<PathBuf>,
    /// Certificat client (PEM) pour un serveur NATS qui vérifie ses clients (avec --nats-tls-key).
    #[arg(long, env = "VIGIE_NATS_TLS_CERT", value_name = "FICHIER")]
    pub nats_tls_cert: Option<PathBuf>,
    /// Clé privée (PEM) du certificat client NATS.
    #[arg(long, env = "VIGIE_NATS_TLS_KEY", value_name = "FICHIER")]
    pub nats_tls_key: Option<PathBuf>,
    /// Refuse un serveur NATS sans TLS (implicite avec tls://, --nats-tls-ca ou --nats-tls-cert).
    #[arg(long, env = "VIGIE_NATS_REQUIRE_TLS")]
    pub nats_require_tls: bool,
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
    /// Alertes (appels à projets et échéances).
    Alerting,
    /// Fédération : publie les agrégats de la région (ou, avec --national, reçoit ceux des régions).
    Federation,
    /// Console web (pages HTML) : cliente des services, connexion OIDC (--oidc-issuer, --oidc-client-id).
    Console,
}

impl ServiceName {
    /// The service's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ServiceName::Inventory => "inventory",
            ServiceName::Training => "training",
            ServiceName::Facilitation => "facilitation",
            ServiceName::Alerting => "alerting",
            ServiceName::Federation => "federation",
            ServiceName::Console => "console",
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
    /// Adresse du serveur Vigie : https://HÔTE:PORT (TLS), ou http://127.0.0.1:PORT en local.
    #[arg(long, env = "VIGIE_ENDPOINT", default_value = "http://127.0.0.1:50051")]
    pub endpoint: String,
    /// Jeton d'accès OIDC envoyé en « authorization: Bearer » (serveurs en --auth oidc).
    /// Jamais envoyé en clair hors de la boucle locale : un serveur distant s'adresse en https://.
    #[arg(long, env = "VIGIE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Certificat PEM de l'autorité (privée) qui a signé le certificat du serveur, pour une adresse https://
    /// (par défaut : autorités du système et autorités publiques).
    #[arg(long, env = "VIGIE_CA_CERT", value_name = "FICHIER")]
    pub ca_cert: Option<PathBuf>,
    /// TLS mutuel : certificat client PEM présenté au serveur (avec --client-key).
    #[arg(long, env = "VIGIE_CLIENT_CERT", value_name = "FICHIER")]
    pub client_cert: Option<PathBuf>,
    /// TLS mutuel : clé privée PEM du certificat client.
    #[arg(long, env = "VIGIE_CLIENT_KEY", value_name = "FICHIER")]
    pub client_key: Option<PathBuf>,
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

/// `vigie federation …` (docs/federation.md).
#[derive(Debug, Subcommand)]
pub enum FederationCommand {
    /// Sommes des derniers agrégats reçus des régions (rôle federation-admin).
    Rollup {
        /// Regroupement.
        #[arg(long, value_enum, default_value_t)]
        by: FederationBy,
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Régions connues, avec la date de leurs données et leur fraîcheur.
    Regions {
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// Grouping of `vigie federation rollup`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum FederationBy {
    /// Par région (défaut).
    #[default]
    Region,
    /// Par réseau, dans chaque région.
    Network,
    /// Par département.
    Department,
    /// Par fonction vitale (orphelines, une seule personne).
    Function,
}

impl FederationBy {
    /// The value as written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            FederationBy::Region => "region",
            FederationBy::Network => "network",
            FederationBy::Department => "department",
            FederationBy::Function => "function",
        }
    }
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

/// `vigie events …` (docs/events.md, « Dead letters »).
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Lettres mortes : événements écartés pour une erreur permanente (charge utile illisible, schéma inconnu…) ; les erreurs passagères sont réessayées sans fin et n'y arrivent jamais.
    #[command(subcommand)]
    DeadLetters(DeadLettersCommand),
}

/// `vigie events dead-letters …`.
#[derive(Debug, Subcommand)]
pub enum DeadLettersCommand {
    /// Liste les lettres mortes : sujet, type, identifiant, consommateur, erreur, date, nombre de livraisons.
    List {
        /// Où sont les lettres mortes.
        #[command(flatten)]
        store: DeadLetterStore,
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Relivre une lettre morte à son seul consommateur, une fois, et la retire si elle est appliquée (à faire après avoir corrigé la cause).
    Replay {
        /// Identifiant de l'événement (colonne « id » de `list`).
        event_id: String,
        /// Consommateur à qui la relivrer (colonne « consommateur » de `list`).
        #[arg(long)]
        consumer: String,
        /// Où sont les lettres mortes.
        #[command(flatten)]
        store: DeadLetterStore,
        /// Mode local : attente maximale, en secondes, du rejeu par `vigie dev` en cours d'exécution.
        #[arg(long, default_value_t = 30)]
        wait: u64,
    },
}

/// Where dead letters are: NATS (distributed mode) or the data directory.
#[derive(Debug, Args, Clone)]
pub struct DeadLetterStore {
    /// Mode distribué : serveur NATS qui détient le flux VIGIE_DEADLETTER (identifiants NATS de l'opérateur).
    #[arg(long, env = "VIGIE_NATS_URL")]
    pub nats_url: Option<String>,
    /// Identifiants et TLS de NATS (comme `vigie serve`).
    #[command(flatten)]
    pub nats: NatsArgs,
    /// Mode local (`vigie dev`) : répertoire des données SQLite (défaut : ./vigie-data), utilisé sans --nats-url.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// `vigie inventory …`.
#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// Importe un jeu CSV (structures.csv, people.csv, functions.csv, holdings.csv) ou un classeur
    /// XLSX/ODS (une feuille par fichier) : tout ou rien.
    Import {
        /// Répertoire contenant les fichiers CSV, ou classeur .xlsx / .ods.
        #[arg(value_name = "CHEMIN")]
        dir: PathBuf,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Écrit le modèle de classeur (XLSX) à remplir : feuille « Lisez-moi », listes déroulantes ;
    /// avec --from, rempli avec un jeu CSV (conversion hors ligne).
    Template {
        /// Fichier .xlsx à écrire.
        #[arg(long, value_name = "FICHIER")]
        out: PathBuf,
        /// Répertoire d'un jeu CSV dont le classeur reprend les lignes.
        #[arg(long, value_name = "RÉPERTOIRE")]
        from: Option<PathBuf>,
    },
    /// Exporte l'inventaire (les structures visibles avec votre jeton) en jeu CSV ou en classeur ;
    /// le résultat se réimporte tel quel.
    Export {
        /// Répertoire (jeu CSV, créé si besoin) ou fichier .xlsx.
        #[arg(long, value_name = "RÉPERTOIRE|FICHIER.xlsx")]
        out: PathBuf,
        /// Seulement ce réseau.
        #[arg(long)]
        network: Option<String>,
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
        /// La demande.
        #[command(flatten)]
        help: crate::client::facilitation::Help,
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
        /// Le réseau et la période.
        #[command(flatten)]
        period: NetworkPeriod,
        /// Format de sortie : table (défaut), csv (deux tableaux séparés par une ligne vide) ou json.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Export CSV des interventions d'un réseau sur une période, une ligne par intervention, dans le vocabulaire du compte rendu d'activité (CRA) des médiateurs numériques.
    Export {
        /// Le réseau et la période.
        #[command(flatten)]
        period: NetworkPeriod,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// The network and period of `vigie facilitation report` and `export`: the
/// export is the rows the report counts, so both take the same flags.
#[derive(Debug, Args, Clone)]
pub struct NetworkPeriod {
    /// Le réseau.
    #[arg(long)]
    pub network: String,
    /// Début de la période AAAA-MM-JJ (inclus).
    #[arg(long)]
    pub from: chrono::NaiveDate,
    /// Fin de la période AAAA-MM-JJ (incluse).
    #[arg(long)]
    pub to: chrono::NaiveDate,
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

/// `vigie calls …` (alerting service).
#[derive(Debug, Subcommand)]
pub enum CallsCommand {
    /// Importe les appels d'un fichier d'une source : tout ou rien sur erreur ; les avertissements sont signalés et les appels gardés.
    Import {
        /// Source : aides-territoires (pages JSON de l'API), etalab (CSV schema-dispositif-aide) ou feed:NOM (RSS/Atom, correspondance configurée pour NOM).
        #[arg(long, value_parser = parse_import_source)]
        source: String,
        /// Le fichier à importer.
        file: PathBuf,
        /// Format de sortie : table (défaut, problèmes en FICHIER:LIGNE: message), json ou csv.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Interroge maintenant une source configurée (API Aides-territoires, flux RSS/Atom) ; les pages et éléments invalides sont signalés et sautés.
    Fetch {
        /// Source : aides-territoires ou feed:NOM.
        #[arg(long, value_parser = parse_fetch_source)]
        source: String,
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Liste les appels ouverts, échéance la plus proche d'abord.
    List {
        /// Seulement les appels qui concernent cette structure (avec son accusé : déposé, en cours, pas concerné).
        #[arg(long)]
        structure: Option<String>,
        /// Seulement les appels dont la prochaine échéance tombe dans ce nombre de jours.
        #[arg(long, value_name = "JOURS")]
        closing_within: Option<u32>,
        /// Inclut les appels clos (toutes échéances passées).
        #[arg(long)]
        all: bool,
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Exporte les appels au format CSV schema-dispositif-aide d'Etalab.
    Export {
        /// Fichier de sortie (défaut : la sortie standard).
        #[arg(long)]
        output: Option<PathBuf>,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// `vigie alerts …` (alerting service).
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Les rappels qui partiraient entre deux dates, sans rien envoyer (escalades vers le référent du réseau comprises).
    Preview {
        /// Début de la période AAAA-MM-JJ (inclus).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Fin de la période AAAA-MM-JJ (incluse).
        #[arg(long)]
        to: chrono::NaiveDate,
        /// Seulement cette structure.
        #[arg(long)]
        structure: Option<String>,
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Journal des envois : ce qui est parti (ou part), à qui, quand, en retard ou non.
    Log {
        /// Seulement cette structure.
        #[arg(long)]
        structure: Option<String>,
        /// Nombre maximal de lignes.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Politique de rappel d'un réseau (délais, heure, fuseau, référent, webhook) : l'affiche, ou la modifie avec les options données.
    Policy {
        /// Le réseau.
        #[arg(long)]
        network: String,
        /// Ce qui change (les options non données sont gardées).
        #[command(flatten)]
        changes: crate::client::alerting::PolicyChanges,
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Préférences d'abonnement d'une structure ou d'un réseau : remplace les thèmes suivis, les publics auxquels elle est aussi éligible et l'abonnement.
    Preferences {
        /// La structure.
        #[arg(long, conflicts_with = "network", required_unless_present = "network")]
        structure: Option<String>,
        /// Le réseau.
        #[arg(long)]
        network: Option<String>,
        /// Thème suivi (« Thème » ou « Thème / Sous-thème »), répétable ; aucun : tous les thèmes.
        #[arg(long = "theme", value_name = "THÈME")]
        themes: Vec<String>,
        /// Public auquel la structure est aussi éligible, en plus de sa forme juridique (p. ex. esus_company
        /// pour une association agréée ESUS), répétable.
        #[arg(long = "audience", value_name = "PUBLIC")]
        audiences: Vec<String>,
        /// Ne plus recevoir de rappels.
        #[arg(long, conflicts_with = "opt_in")]
        opt_out: bool,
        /// Recevoir les rappels (défaut).
        #[arg(long)]
        opt_in: bool,
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Enregistre qu'une structure a déposé, prépare ou n'est pas concernée par un appel : ses rappels pour cet appel s'arrêtent.
    Ack {
        /// La structure.
        #[arg(long)]
        structure: String,
        /// L'appel (identifiant de vigie calls list).
        #[arg(long)]
        call: String,
        /// submitted (ou depose), in_progress (ou en-cours), not_concerned (ou pas-concerne).
        #[arg(long, value_enum)]
        status: AckStatus,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Adresse secrète de l'agenda iCalendar des échéances d'une structure ou d'un réseau.
    Feed {
        /// La structure.
        #[arg(long, conflicts_with = "network", required_unless_present = "network")]
        structure: Option<String>,
        /// Le réseau.
        #[arg(long)]
        network: Option<String>,
        /// Révoque toutes les adresses déjà données de cet agenda (elles cessent de
        /// fonctionner) et en affiche une nouvelle (gestionnaires de la structure, administrateurs du réseau).
        #[arg(long)]
        revoke: bool,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// A grant won, as `vigie grants record` takes it.
#[derive(Debug, Args)]
pub struct GrantRecordArgs {
    /// La structure bénéficiaire.
    #[arg(long)]
    pub structure: String,
    /// Le financeur (« Région Bretagne »).
    #[arg(long)]
    pub funder: String,
    /// L'intitulé du projet ou de l'action.
    #[arg(long)]
    pub title: String,
    /// Montant accordé en euros (20000, 20 000 ou 1234,50).
    #[arg(long, value_parser = crate::client::grants::parse_euros)]
    pub amount: i64,
    /// Date de la décision AAAA-MM-JJ.
    #[arg(long)]
    pub granted_on: chrono::NaiveDate,
    /// Dernier jour de l'exercice pour lequel elle est accordée AAAA-MM-JJ (le compte rendu financier est dû six mois après).
    #[arg(long)]
    pub financial_year_end: chrono::NaiveDate,
    /// L'appel (identifiant de vigie calls list) auquel la structure avait répondu.
    #[arg(long)]
    pub call: Option<String>,
    /// Début d'une convention pluriannuelle AAAA-MM-JJ (avec --agreement-end).
    #[arg(long, requires = "agreement_end")]
    pub agreement_start: Option<chrono::NaiveDate>,
    /// Fin de la convention pluriannuelle AAAA-MM-JJ (un compte rendu par exercice couvert).
    #[arg(long, requires = "agreement_start")]
    pub agreement_end: Option<chrono::NaiveDate>,
    /// Référence de la convention.
    #[arg(long)]
    pub reference: Option<String>,
    /// Objet de la subvention.
    #[arg(long)]
    pub purpose: Option<String>,
    /// Financement privé (fondation, mécénat) : ne compte pas dans le seuil de 153 000 € de subventions publiques.
    #[arg(long)]
    pub private: bool,
    /// Clé d'idempotence (100 caractères au plus) : renvoyer la même clé pour la structure rend la subvention
    /// déjà enregistrée au lieu d'en créer une deuxième. Sans --key, aucune clé n'est déduite.
    #[arg(long, value_name = "CLÉ")]
    pub key: Option<String>,
}

/// Whose grants `vigie grants list` and `obligations` show: the same choice
/// for both, as the service answers both by structure or network.
#[derive(Debug, Args, Clone)]
pub struct GrantsScope {
    /// Seulement cette structure.
    #[arg(long, conflicts_with = "network")]
    pub structure: Option<String>,
    /// Tout un réseau (administrateurs du réseau).
    #[arg(long)]
    pub network: Option<String>,
}

/// `vigie grants …` (alerting service, docs/grants.md).
#[derive(Debug, Subcommand)]
pub enum GrantsCommand {
    /// Candidatures et subventions : déposées, en attente, obtenues, refusées, avec les montants.
    List {
        /// Une structure ou un réseau.
        #[command(flatten)]
        scope: GrantsScope,
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Enregistre une subvention obtenue (la candidature à l'appel, s'il y en a une, devient obtenue).
    Record {
        /// La subvention.
        #[command(flatten)]
        grant: GrantRecordArgs,
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Date écrite dans la convention : déplace une obligation calculée (--obligation CLÉ) ou en ajoute une à une subvention (--grant ID --label TEXTE) ; la convention prime.
    SetDate {
        /// La structure.
        #[arg(long)]
        structure: String,
        /// La clé de l'obligation déplacée (colonne key de vigie grants obligations --format csv).
        #[arg(long, conflicts_with = "grant", required_unless_present = "grant")]
        obligation: Option<String>,
        /// La subvention (G…) dont la convention ajoute une échéance.
        #[arg(long, requires = "label")]
        grant: Option<String>,
        /// L'échéance AAAA-MM-JJ.
        #[arg(long)]
        due: chrono::NaiveDate,
        /// Ce que la convention demande (« bilan intermédiaire »), avec --grant.
        #[arg(long)]
        label: Option<String>,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// « Envoyé » : l'obligation a été remplie auprès du financeur, plus aucun rappel (--undo pour revenir en arrière).
    Ack {
        /// La structure.
        #[arg(long)]
        structure: String,
        /// La clé de l'obligation (colonne key de vigie grants obligations --format csv).
        #[arg(long)]
        key: String,
        /// Annule « envoyé » : les rappels reprennent.
        #[arg(long)]
        undo: bool,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Vue d'ensemble d'un réseau (ou de toute l'instance) : candidatures, taux de réussite et montants par financeur et programme, obligations à risque cette quinzaine.
    Stats {
        /// Le réseau (ses administrateurs) ; sans lui, toute l'instance (administrateurs de la fédération).
        #[arg(long)]
        network: Option<String>,
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Obligations de compte rendu, la plus proche d'abord : échéance (due), règle (rule) et date interne de brouillon (draft).
    Obligations {
        /// Une structure ou un réseau.
        #[command(flatten)]
        scope: GrantsScope,
        /// Format de sortie.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Importe candidatures et décisions d'un tableau (CSV, XLSX ou ODS ; modèle : vigie grants template) :
    /// tout est vérifié d'abord, chaque problème est listé avec sa ligne (code de sortie 2), puis tout
    /// ou rien est écrit ; réimporter le même fichier ne change rien.
    Import {
        /// Le fichier (.csv en UTF-8 avec , ou ;, .xlsx ou .ods ; 20 Mio au plus).
        #[arg(value_name = "FICHIER")]
        file: PathBuf,
        /// Vérifier seulement : les problèmes et les comptes, rien n'est écrit.
        #[arg(long)]
        dry_run: bool,
        /// Limiter l'import aux structures de ce réseau (une ligne d'un autre réseau est un problème).
        #[arg(long)]
        network: Option<String>,
        /// Serveur.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Écrit le modèle à remplir pour vigie grants import : en-têtes des colonnes, et pour un .xlsx
    /// une feuille « Lisez-moi » qui explique chaque colonne.
    Template {
        /// Fichier .xlsx ou .csv à écrire.
        #[arg(long, value_name = "FICHIER")]
        out: PathBuf,
    },
}

/// The acknowledgement of `vigie alerts ack`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum AckStatus {
    /// Dossier déposé.
    #[value(name = "submitted", alias = "depose", alias = "déposé")]
    Submitted,
    /// Dossier en cours de préparation.
    #[value(name = "in_progress", alias = "en-cours", alias = "en_cours")]
    InProgress,
    /// Structure pas concernée par l'appel.
    #[value(
        name = "not_concerned",
        alias = "pas-concerne",
        alias = "pas_concerne",
        alias = "pas-concerné"
    )]
    NotConcerned,
}

impl AckStatus {
    /// The code of the API.
    pub fn code(self) -> &'static str {
        match self {
            AckStatus::Submitted => "submitted",
            AckStatus::InProgress => "in_progress",
            AckStatus::NotConcerned => "not_concerned",
        }
    }
}

/// Reminder offsets of `vigie alerts policy --offsets`: days before a stage,
/// distinct, largest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offsets(pub Vec<u32>);

/// The longest reminder offset accepted, in days.
pub const MAX_OFFSET_DAYS: u32 = 366;

/// Parses `30,14,7,2` (spaces allowed) into distinct offsets, largest first.
///
/// # Errors
/// A French message for an empty list, a value that is not a whole number of
/// days, or one beyond [`MAX_OFFSET_DAYS`].
pub fn parse_offsets(text: &str) -> Result<Offsets, String> {
    let mut days = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        // « J-7 » is accepted for 7, the way reminders are named.
        let number = part
            .strip_prefix(['J', 'j'])
            .and_then(|rest| rest.strip_prefix('-'))
            .unwrap_or(part);
        let value: u32 = number.parse().map_err(|_| {
            format!(
                "« {part} » n'est pas un nombre de jours : donnez des entiers séparés par des virgules, p. ex. 30,14,7,2"
            )
        })?;
        if value > MAX_OFFSET_DAYS {
            return Err(format!(
                "{value} jours : un rappel part au plus {MAX_OFFSET_DAYS} jours avant l'échéance"
            ));
        }
        days.push(value);
    }
    if days.is_empty() {
        return Err(
            "aucun délai : donnez les jours avant l'échéance séparés par des virgules, p. ex. 30,14,7,2".to_owned(),
        );
    }
    days.sort_unstable_by(|a, b| b.cmp(a));
    days.dedup();
    Ok(Offsets(days))
}

/// Parses a local sending hour `HH:MM` (also `9:00`, `9h`, `9h30`) into `HH:MM`.
///
/// # Errors
/// A French message for anything else or an impossible time.
pub fn parse_hour(text: &str) -> Result<String, String> {
    let invalid = || format!("« {text} » n'est pas une heure : attendu HH:MM, p. ex. 09:00 ou 18:30");
    let trimmed = text.trim();
    let (hours, minutes) = match trimmed.split_once([':', 'h', 'H']) {
        Some((h, m)) if m.is_empty() && !trimmed.contains(':') => (h, "00"),
        Some((h, m)) => (h, m),
        None => return Err(invalid()),
    };
    let digits = |s: &str, max_len: usize| !s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours, 2) || !digits(minutes, 2) || minutes.len() != 2 {
        return Err(invalid());
    }
    let (h, m): (u32, u32) = (
        hours.parse().map_err(|_| invalid())?,
        minutes.parse().map_err(|_| invalid())?,
    );
    if h > 23 || m > 59 {
        return Err(format!(
            "« {text} » n'existe pas : heures de 00 à 23, minutes de 00 à 59"
        ));
    }
    Ok(format!("{h:02}:{m:02}"))
}

fn parse_source(text: &str, allowed: &[&str]) -> Result<String, String> {
    let source = text.trim();
    if allowed.contains(&source) {
        return Ok(source.to_owned());
    }
    if let Some(name) = source.strip_prefix("feed:") {
        if !name.trim().is_empty() && !name.contains(char::is_whitespace) {
            return Ok(source.to_owned());
        }
        return Err("feed: doit être suivi du nom du flux configuré, p. ex. feed:region-bretagne".to_owned());
    }
    Err(format!(
        "source inconnue « {source} » : attendu {} ou feed:NOM",
        allowed.join(", ")
    ))
}

/// `--source` of `vigie calls import`: aides-territoires, etalab or feed:NAME.
///
/// # Errors
/// A French message naming the accepted sources.
pub fn parse_import_source(text: &str) -> Result<String, String> {
    parse_source(text, &["aides-territoires", "etalab"])
}

/// `--source` of `vigie calls fetch`: aides-territoires or feed:NAME.
///
/// # Errors
/// A French message naming the accepted sources.
pub fn parse_fetch_source(text: &str) -> Result<String, String> {
    parse_source(text, &["aides-territoires"])
}

#[cfg(test)]
mod alerting_tests {
    use clap::Parser;

    use super::*;

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("vigie").chain(args.iter().copied())).map(|cli| cli.command)
    }

    #[test]
    fn calls_import_takes_a_source_and_a_file() {
        let Ok(Command::Calls(CallsCommand::Import {
            source, file, format, ..
        })) = parse(&["calls", "import", "--source", "aides-territoires", "aides.json"])
        else {
            panic!("not parsed")
        };
        assert_eq!(
            (source.as_str(), file, format),
            ("aides-territoires", PathBuf::from("aides.json"), Format::Table)
        );
        for ok in ["etalab", "feed:region-bretagne"] {
            assert!(parse(&["calls", "import", "--source", ok, "f"]).is_ok(), "{ok}");
        }
        for bad in ["aides", "feed:", "feed:a b"] {
            assert!(parse(&["calls", "import", "--source", bad, "f"]).is_err(), "{bad}");
        }
        assert!(parse(&["calls", "import", "f"]).is_err());
        // The Etalab table is a file format, not a source that can be fetched.
        assert!(parse(&["calls", "fetch", "--source", "etalab"]).is_err());
        assert!(parse(&["calls", "fetch", "--source", "feed:region", "--format", "json"]).is_ok());
    }

    #[test]
    fn grants_record_takes_euros_and_dates() {
        let Ok(Command::Grants(GrantsCommand::Record {
            grant:
                GrantRecordArgs {
                    structure,
                    amount,
                    financial_year_end,
                    agreement_start,
                    private,
                    ..
                },
            ..
        })) = parse(&[
            "grants",
            "record",
            "--structure",
            "S000004",
            "--funder",
            "Région Bretagne",
            "--title",
            "Insertion",
            "--amount",
            "20 000,50",
            "--granted-on",
            "2026-11-15",
            "--financial-year-end",
            "2026-12-31",
        ])
        else {
            panic!("not parsed")
        };
        assert_eq!(
            (
                structure.as_str(),
                amount,
                financial_year_end.to_string(),
                agreement_start,
                private
            ),
            ("S000004", 2_000_050, "2026-12-31".to_owned(), None, false)
        );
        // An agreement needs both ends; an amount is in euros.
        let base = [
            "grants",
            "record",
            "--structure",
            "S1",
            "--funder",
            "F",
            "--title",
            "T",
            "--granted-on",
            "2026-11-15",
            "--financial-year-end",
            "2026-12-31",
        ];
        let with = |extra: &[&'static str]| {
            let mut args = base.to_vec();
            args.extend_from_slice(extra);
            parse(&args)
        };
        assert!(with(&["--amount", "100"]).is_ok());
        assert!(with(&["--amount", "douze"]).is_err());
        assert!(with(&["--amount", "100", "--agreement-start", "2026-01-01"]).is_err());
        assert!(with(&[
            "--amount",
            "100",
            "--agreement-start",
            "2026-01-01",
            "--agreement-end",
            "2028-12-31"
        ])
        .is_ok());
        assert!(parse(&["grants", "obligations", "--structure", "S1", "--format", "csv"]).is_ok());
        assert!(parse(&["grants", "list", "--structure", "S1", "--network", "n"]).is_err());
    }

    #[test]
    fn calls_list_filters() {
        let Ok(Command::Calls(CallsCommand::List {
            structure,
            closing_within,
            all,
            format,
            ..
        })) = parse(&[
            "calls",
            "list",
            "--structure",
            "S000004",
            "--closing-within",
            "30",
            "--all",
            "--format",
            "csv",
        ])
        else {
            panic!("not parsed")
        };
        assert_eq!(
            (structure.as_deref(), closing_within, all, format),
            (Some("S000004"), Some(30), true, Format::Csv)
        );
        assert!(parse(&["calls", "list", "--closing-within", "-1"]).is_err());
        let Ok(Command::Calls(CallsCommand::Export { output, .. })) = parse(&["calls", "export"]) else {
            panic!("not parsed")
        };
        assert_eq!(output, None);
    }

    #[test]
    fn alerts_preview_needs_dates() {
        let Ok(Command::Alerts(AlertsCommand::Preview {
            from, to, structure, ..
        })) = parse(&["alerts", "preview", "--from", "2027-03-01", "--to", "2027-03-31"])
        else {
            panic!("not parsed")
        };
        assert_eq!(from, chrono::NaiveDate::from_ymd_opt(2027, 3, 1).unwrap());
        assert_eq!(to, chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap());
        assert_eq!(structure, None);
        assert!(parse(&["alerts", "preview", "--from", "01/03/2027", "--to", "2027-03-31"]).is_err());
        assert!(parse(&["alerts", "preview", "--from", "2027-03-01"]).is_err());
    }

    #[test]
    fn alerts_log_limit_defaults_to_100() {
        let Ok(Command::Alerts(AlertsCommand::Log { limit, .. })) = parse(&["alerts", "log"]) else {
            panic!("not parsed")
        };
        assert_eq!(limit, 100);
        let Ok(Command::Alerts(AlertsCommand::Log { limit, structure, .. })) =
            parse(&["alerts", "log", "--structure", "S1", "--limit", "5"])
        else {
            panic!("not parsed")
        };
        assert_eq!((limit, structure.as_deref()), (5, Some("S1")));
    }

    #[test]
    fn alerts_policy_validates_offsets_and_hour() {
        let Ok(Command::Alerts(AlertsCommand::Policy { network, changes, .. })) = parse(&[
            "alerts",
            "policy",
            "--network",
            "reseau-bretagne",
            "--offsets",
            "7, 30,14,7",
            "--hour",
            "9h30",
        ]) else {
            panic!("not parsed")
        };
        assert_eq!(network, "reseau-bretagne");
        assert_eq!(changes.offsets, Some(Offsets(vec![30, 14, 7])));
        assert_eq!(changes.hour.as_deref(), Some("09:30"));
        assert!(parse(&["alerts", "policy"]).is_err());
        assert!(parse(&["alerts", "policy", "--network", "n", "--offsets", "30,deux"]).is_err());
        assert!(parse(&["alerts", "policy", "--network", "n", "--hour", "25:00"]).is_err());
    }

    #[test]
    fn offsets_parsing() {
        assert_eq!(parse_offsets("30,14,7,2"), Ok(Offsets(vec![30, 14, 7, 2])));
        assert_eq!(parse_offsets("2,7,J-14, 30,"), Ok(Offsets(vec![30, 14, 7, 2])));
        assert_eq!(parse_offsets("0"), Ok(Offsets(vec![0])));
        assert!(parse_offsets("").unwrap_err().contains("aucun délai"));
        assert!(parse_offsets(" , ").is_err());
        assert!(parse_offsets("30,-1")
            .unwrap_err()
            .contains("« -1 » n'est pas un nombre de jours"));
        assert!(parse_offsets("1.5").is_err());
        assert!(parse_offsets("400").unwrap_err().contains("au plus 366 jours"));
    }

    #[test]
    fn hour_parsing() {
        assert_eq!(parse_hour("09:00").as_deref(), Ok("09:00"));
        assert_eq!(parse_hour("9:05").as_deref(), Ok("09:05"));
        assert_eq!(parse_hour("18h").as_deref(), Ok("18:00"));
        assert_eq!(parse_hour("7h45").as_deref(), Ok("07:45"));
        assert_eq!(parse_hour(" 23:59 ").as_deref(), Ok("23:59"));
        for bad in ["", "9", "9:", "9:5", "09:000", "neuf heures", "-1:00", "12:60"] {
            assert!(parse_hour(bad).is_err(), "{bad}");
        }
        assert!(parse_hour("24:00").unwrap_err().contains("heures de 00 à 23"));
        assert!(parse_hour("midi").unwrap_err().contains("attendu HH:MM"));
    }

    #[test]
    fn alerts_preferences_structure_or_network() {
        let Ok(Command::Alerts(AlertsCommand::Preferences {
            structure,
            network,
            themes,
            opt_out,
            ..
        })) = parse(&[
            "alerts",
            "preferences",
            "--structure",
            "S1",
            "--theme",
            "Culture",
            "--theme",
            "Social / Inclusion",
            "--opt-out",
        ])
        else {
            panic!("not parsed")
        };
        assert_eq!((structure.as_deref(), network), (Some("S1"), None));
        assert_eq!(themes, vec!["Culture", "Social / Inclusion"]);
        assert!(opt_out);
        assert!(parse(&["alerts", "preferences", "--network", "n", "--opt-in"]).is_ok());
        assert!(parse(&["alerts", "preferences"]).is_err());
        assert!(parse(&["alerts", "preferences", "--structure", "S1", "--network", "n"]).is_err());
        assert!(parse(&["alerts", "preferences", "--structure", "S1", "--opt-in", "--opt-out"]).is_err());
    }

    #[test]
    fn alerts_ack_accepts_french_aliases() {
        let status_of =
            |value: &str| match parse(&["alerts", "ack", "--structure", "S1", "--call", "C1", "--status", value]) {
                Ok(Command::Alerts(AlertsCommand::Ack { status, .. })) => Some(status),
                _ => None,
            };
        assert_eq!(status_of("submitted"), Some(AckStatus::Submitted));
        assert_eq!(status_of("depose"), Some(AckStatus::Submitted));
        assert_eq!(status_of("in_progress"), Some(AckStatus::InProgress));
        assert_eq!(status_of("en-cours"), Some(AckStatus::InProgress));
        assert_eq!(status_of("not_concerned"), Some(AckStatus::NotConcerned));
        assert_eq!(status_of("pas-concerne"), Some(AckStatus::NotConcerned));
        assert_eq!(status_of("peut-être"), None);
        assert_eq!(AckStatus::InProgress.code(), "in_progress");
        assert!(parse(&["alerts", "ack", "--structure", "S1", "--status", "depose"]).is_err());
    }

    #[test]
    fn alerts_feed_structure_or_network() {
        assert!(matches!(
            parse(&["alerts", "feed", "--network", "reseau-bretagne"]),
            Ok(Command::Alerts(AlertsCommand::Feed {
                structure: None,
                network: Some(_),
                ..
            }))
        ));
        assert!(parse(&["alerts", "feed"]).is_err());
        assert!(matches!(
            parse(&["alerts", "feed", "--structure", "S1", "--revoke"]),
            Ok(Command::Alerts(AlertsCommand::Feed { revoke: true, .. }))
        ));
    }

    #[test]
    fn client_options_are_shared() {
        let Ok(Command::Calls(CallsCommand::List { client, .. })) =
            parse(&["calls", "list", "--endpoint", "http://vigie:50051", "--token", "t"])
        else {
            panic!("not parsed")
        };
        assert_eq!(
            (client.endpoint.as_str(), client.token.as_deref()),
            ("http://vigie:50051", Some("t"))
        );
    }
}
