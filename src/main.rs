//! The `bulwark` binary: the console server and its admin commands.

/// mimalloc rather than glibc's malloc: a console holding thousands of agents' long polls
/// allocates and frees many small buffers from several threads, which glibc's per-thread arenas
/// keep apart and fragment (README › Benchmarks › agents).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::BufRead;
use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use leptos::prelude::*;

use bulwark::editions::Edition;
use bulwark::auth::model::{validate_email, validate_password, AccountKind, Role};
use bulwark::auth::repo as auth_repo;
use bulwark::server::config::Config;
use bulwark::server::db::Db;
use bulwark::server::secrets::Secrets;
use bulwark::console::{demo, jobs, router};
use bulwark::server::{crypto, AppState};

#[derive(Parser)]
#[command(name = "bulwark", about = "Bulwark security operations console", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the console (the default).
    Serve {
        /// Seed the demo accounts on first start.
        #[arg(long)]
        demo: bool,
        /// Address to listen on (else LEPTOS_SITE_ADDR, else 127.0.0.1:3000).
        #[arg(long)]
        addr: Option<SocketAddr>,
    },
    /// Apply the database migrations and exit.
    Migrate,
    /// Seed the demo accounts into the database.
    Demo,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage accounts (the operator's settings, which no account admin can change).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Run the host agent: enroll with the console, report this host, carry out fix jobs.
    Agent {
        /// The console's address, e.g. https://bulwark.example.com
        #[arg(long)]
        server: String,
        /// An enrollment token (Assets › Add host); needed the first time, or to enroll again.
        #[arg(long, env = "BULWARK_ENROLLMENT_TOKEN")]
        token: Option<String>,
        /// The asset group to put this host in.
        #[arg(long)]
        group: Option<String>,
        /// Let fix jobs change the host; without it they only simulate.
        #[arg(long)]
        allow_fix: bool,
        /// Where the agent keeps its credential.
        #[arg(long, default_value = "/var/lib/bulwark-agent")]
        state_dir: std::path::PathBuf,
    },
    /// Check the database: `check counters` recounts every open-risk counter, repairs any that
    /// drifted (each repair is printed) and exits with status 1 if it had to repair.
    #[command(subcommand)]
    Check(CheckCommand),
    /// Vulnerability advisories (OSV).
    #[command(subcommand)]
    Advisories(AdvisoryCommand),
    /// Trivy reports.
    #[command(subcommand)]
    Trivy(TrivyCommand),
    /// Sign a container image by digest with a witness, through a console's API.
    Sign {
        /// The witness whose key signs.
        #[arg(long)]
        witness: String,
        /// The image, pinned by digest: registry/repository@sha256:<64 hex digits>.
        image: String,
        /// The console's address, e.g. https://bulwark.example.com
        #[arg(long, env = "BULWARK_SERVER")]
        server: String,
        /// An API token of the account (Settings › API tokens).
        #[arg(long, env = "BULWARK_API_TOKEN", hide_env_values = true)]
        token: String,
        /// Also publish the signature to the image's registry (cosign layout).
        #[arg(long)]
        publish: bool,
        /// Write the signed payload to this file.
        #[arg(long)]
        payload_out: Option<std::path::PathBuf>,
        /// Write the raw signature (for `openssl dgst -verify`) to this file.
        #[arg(long)]
        signature_out: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum CheckCommand {
    /// Recount the open-risk counters of every account and repair those that drifted.
    Counters,
}

#[derive(Subcommand)]
enum AdvisoryCommand {
    /// Import OSV advisories from a .json file, a folder of them, or osv.dev's all.zip, into the
    /// shared feed every account matches against (or one account's own with --account).
    Import {
        path: std::path::PathBuf,
        /// The 16-digit account id whose own advisories these are.
        #[arg(long)]
        account: Option<String>,
    },
}

#[derive(Subcommand)]
enum TrivyCommand {
    /// Import a Trivy JSON report (`trivy … --format json`): with --asset, as the findings of one
    /// host; else (`trivy image`) as the latest vulnerability scan of an image digest, the one
    /// --image names or the report's Metadata.RepoDigests.
    Import {
        /// The report file.
        file: std::path::PathBuf,
        /// The asset's instance id (a host report).
        #[arg(long, conflicts_with = "image")]
        asset: Option<String>,
        /// The scanned image, pinned by digest: registry/repository@sha256:<64 hex digits>.
        #[arg(long)]
        image: Option<String>,
        /// The 16-digit account id; defaults to the first (management) account.
        #[arg(long)]
        account: Option<String>,
    },
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Set an account's edition (basic, advanced or enterprise); recorded in its audit log.
    Edition {
        /// The 16-digit account id, or the account's exact name.
        account: String,
        /// basic, advanced or enterprise.
        edition: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from the first line of standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "viewer")]
        role: String,
        /// The 16-digit account id; defaults to the first (management) account.
        #[arg(long)]
        account: Option<String>,
    },
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    init_tracing();
    if let Err(error) = run(Cli::parse()).await {
        eprintln!("bulwark: {error}");
        std::process::exit(1);
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    // usvg warns once per glyph it draws from the CJK font beside DejaVu Sans: that is how
    // Chinese reports are drawn, not a problem (a missing CJK font is logged by the reports).
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,usvg::text=error"));
    if std::env::var("BULWARK_LOG_FORMAT").as_deref() == Ok("json") {
        tracing_subscriber::fmt().with_env_filter(filter).json().init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
}

async fn open_db(config: &Config) -> Result<Db, BoxError> {
    if let Some(dir) = config.sqlite_dir() {
        std::fs::create_dir_all(&dir)?;
    }
    Db::open(&config.database_url).await
}

async fn run(cli: Cli) -> Result<(), BoxError> {
    let mut config = Config::from_env();
    match cli.command.unwrap_or(Command::Serve { demo: false, addr: None }) {
        Command::Migrate => {
            open_db(&config).await?;
            println!("Migrations applied.");
        }
        Command::Demo => {
            let db = open_db(&config).await?;
            if demo::seed(&db).await? {
                print_demo_users();
            } else {
                println!("The demo accounts exist already.");
            }
        }
        Command::User(UserCommand::Add { email, name, role, account }) => {
            let db = open_db(&config).await?;
            add_user(&db, &email, &name, &role, account.as_deref()).await?;
        }
        Command::Check(CheckCommand::Counters) => {
            let db = open_db(&config).await?;
            let repairs = bulwark::overview::counters::reconcile_all(&db).await?;
            for repair in &repairs {
                println!("repaired: {repair}");
            }
            if !repairs.is_empty() {
                return Err(format!("{} counter(s) had drifted and were repaired", repairs.len()).into());
            }
            println!("Every counter matches its recount.");
        }
        Command::Account(AccountCommand::Edition { account, edition }) => {
            let db = open_db(&config).await?;
            set_edition(&db, &account, &edition).await?;
        }
        Command::Sign { witness, image, server, token, publish, payload_out, signature_out } => {
            let options = bulwark::signature::cli::SignOptions { server, token, witness, image, publish, payload_out, signature_out };
            let outcome = bulwark::signature::cli::sign(options).await?;
            println!("Signed {}@{} as {} (key {} version {}).", outcome.image, outcome.digest, outcome.witness, outcome.key_id, outcome.key_version);
            if let Some(tag) = outcome.published_tag {
                println!("Published to the registry as {tag}.");
            }
            if let Some(error) = outcome.publish_error {
                return Err(format!("signed, but publishing failed: {error}").into());
            }
        }
        Command::Agent { server, token, group, allow_fix, state_dir } => {
            let options = bulwark::agent::client::AgentOptions { server, token, group, allow_fix, state_dir };
            tokio::select! {
                result = bulwark::agent::client::run(options) => result?,
                _ = shutdown_signal() => tracing::info!("agent stopped"),
            }
        }
        Command::Advisories(AdvisoryCommand::Import { path, account }) => {
            let db = open_db(&config).await?;
            let scope = match account {
                Some(no) => account_id(&db, Some(&no)).await?,
                None => bulwark::advisories::repo::FEED,
            };
            let loaded = bulwark::advisories::archive::read_path(&path)?;
            let name = path.display().to_string();
            let report = bulwark::advisories::repo::import(&db, scope, "bulwark advisories import", &name, loaded, bulwark::server::now()).await?;
            for problem in &report.skipped {
                eprintln!("skipped {}: {}", problem.name, problem.message);
            }
            println!("Advisories imported: {}.", report.summary());
        }
        Command::Trivy(TrivyCommand::Import { file, asset: None, image, account }) => {
            let db = open_db(&config).await?;
            let account_id = account_id(&db, account.as_deref()).await?;
            let report = bulwark::advisories::trivy::parse_image(&std::fs::read(&file)?).map_err(|e| format!("{}: {e}", file.display()))?;
            let image = bulwark::signature::vulns::scanned_image(&report, image.as_deref()).map_err(|e| e.to_string())?;
            let actor = bulwark::server::audit::Actor::Operator;
            let accepted = bulwark::signature::vulns::import_scan(&db, account_id, &actor, report, &image, bulwark::server::now())
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "Scan of {} stored: {} vulnerabilities ({} matched by the OSV feed){}.",
                accepted.image,
                accepted.vulnerabilities,
                accepted.matched_by_osv,
                if accepted.replaced { ", replacing the earlier scan" } else { "" }
            );
        }
        Command::Trivy(TrivyCommand::Import { file, asset: Some(asset), account, .. }) => {
            let db = open_db(&config).await?;
            let account_id = account_id(&db, account.as_deref()).await?;
            let found = bulwark::advisories::trivy::parse(&std::fs::read(&file)?).map_err(|e| format!("{}: {e}", file.display()))?;
            let asset = bulwark::assets::repo::asset_by_instance(&db, account_id, &asset)
                .await
                .map_err(|_| format!("no asset with instance id \"{asset}\" in that account"))?;
            let open = bulwark::assets::agent_api::import_trivy_findings(
                &db,
                account_id,
                asset.id,
                &asset.name,
                &bulwark::server::audit::Actor::System,
                &found,
            )
            .await?;
            println!("Trivy report imported: {} vulnerabilities, {open} open on {}.", found.len(), asset.name);
        }
        Command::Serve { demo, addr } => {
            config.demo |= demo;
            serve(config, addr).await?;
        }
    }
    Ok(())
}

async fn serve(config: Config, addr: Option<SocketAddr>) -> Result<(), BoxError> {
    let conf = get_configuration(None)?;
    let mut leptos_options = conf.leptos_options;
    // `cargo leptos build` (hash-files in Cargo.toml) names the wasm, JS and CSS by their content
    // and writes the names beside the binary; where that file is, the pages link those names.
    leptos_options.hash_files |= bulwark::console::router::hash_file_present(&leptos_options);
    if let Some(addr) = addr {
        leptos_options.site_addr = addr;
    }
    let addr = leptos_options.site_addr;
    let db = open_db(&config).await?;
    first_start(&db, &config).await?;
    let secrets = Secrets::load(config.master_key.as_deref(), &config.data_dir)?;
    let state = AppState::new(leptos_options, db, config, secrets);
    jobs::spawn(state.clone());
    let app = router(state.clone());
    if let Some(files) = state.config.tls.clone() {
        let tls = bulwark::server::tls::server_config(&files)?;
        let handle = axum_server::Handle::new();
        let stopping = handle.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            stopping.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
        });
        tracing::info!("Bulwark is listening on https://{addr}");
        axum_server::bind_rustls(addr, axum_server::tls_rustls::RustlsConfig::from_config(tls))
            .handle(handle)
            .serve(app.into_make_service_with_connect_info::<SocketAddr>())
            .await?;
    } else {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        tracing::info!("Bulwark is listening on http://{addr}");
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown_signal())
            .await?;
    }
    // Agents heard from and admission decisions since the last write (a few seconds' worth) are
    // written before exiting.
    if let Err(e) = bulwark::assets::heard::flush(&state.db).await {
        tracing::warn!("writing agents' heartbeats at shutdown: {e}");
    }
    if let Err(e) = bulwark::signature::decisions::flush(&state.db).await {
        tracing::warn!("writing the admission log at shutdown: {e}");
    }
    tracing::info!("Bulwark stopped");
    Ok(())
}

/// On an empty database: the demo accounts, or a management account with its first admin.
async fn first_start(db: &Db, config: &Config) -> Result<(), BoxError> {
    if config.demo {
        if demo::seed(db).await? {
            print_demo_users();
        }
        return Ok(());
    }
    if auth_repo::account_count(db).await? > 0 {
        return Ok(());
    }
    let (password, generated) = match &config.admin_password {
        Some(p) => (p.clone(), false),
        None => (crypto::random_password(), true),
    };
    validate_password(&password).map_err(|m| format!("BULWARK_ADMIN_PASSWORD: {m}"))?;
    let email = std::env::var("BULWARK_ADMIN_EMAIL").unwrap_or_else(|_| "admin@bulwark.local".to_string());
    validate_email(&email).map_err(|m| format!("BULWARK_ADMIN_EMAIL: {m}"))?;
    let hash = crypto::hash_password(password.clone()).await?;
    let mut tx = db.begin_write().await?;
    let account = bulwark::tenants::open_account(&mut tx, "Management account", Edition::Enterprise, AccountKind::Cloud).await?;
    auth_repo::create_user(&mut *tx, account.id, &email, "Administrator", Role::Admin, &hash.0).await?;
    tx.commit().await?;
    println!("\nBulwark created the management account {} and its admin.", account.account_no);
    if generated {
        println!("  Sign in as {email} with the password {password}\n  (shown once; it is stored hashed).\n");
    } else {
        println!("  Sign in as {email} with the password from BULWARK_ADMIN_PASSWORD.\n");
    }
    Ok(())
}

fn print_demo_users() {
    println!("\nDemo data is ready. Sign in at the console with:");
    for (email, password, role, account) in demo::DEMO_USERS {
        println!("  {email:<24} {password:<22} {} of {account}", role.label());
    }
    println!();
}

/// The account a command acts on: by its 16-digit id, else the first (management) account.
async fn account_id(db: &Db, account_no: Option<&str>) -> Result<i64, BoxError> {
    Ok(match account_no {
        Some(no) => sqlx::query_scalar::<_, i64>("SELECT id FROM accounts WHERE account_no = $1")
            .bind(no)
            .fetch_optional(&db.pool)
            .await?
            .ok_or_else(|| format!("no account with id {no}"))?,
        None => sqlx::query_scalar::<_, Option<i64>>("SELECT MIN(id) FROM accounts")
            .fetch_one(&db.pool)
            .await?
            .ok_or("no accounts yet: start the console once first")?,
    })
}

async fn add_user(db: &Db, email: &str, name: &str, role: &str, account_no: Option<&str>) -> Result<(), BoxError> {
    let role = Role::parse(role).ok_or("--role must be admin or viewer")?;
    validate_email(email)?;
    let account_id = account_id(db, account_no).await?;
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    validate_password(&password)?;
    let hash = crypto::hash_password(password).await?;
    auth_repo::create_user(&db.pool, account_id, email, name, role, &hash.0).await?;
    println!("Added {email} ({}).", role.label());
    Ok(())
}

async fn set_edition(db: &Db, account: &str, edition: &str) -> Result<(), BoxError> {
    let edition = Edition::parse(&edition.trim().to_lowercase())
        .ok_or_else(|| format!("unknown edition \"{edition}\": choose {}", Edition::names()))?;
    let found = auth_repo::find_accounts(db, account.trim()).await?;
    let account = match found.as_slice() {
        [one] => one,
        [] => return Err(format!("no account has the id or name \"{account}\"").into()),
        several => {
            let ids: Vec<&str> = several.iter().map(|a| a.account_no.as_str()).collect();
            return Err(format!("{} accounts are named \"{account}\": name one by its id ({})", several.len(), ids.join(", ")).into());
        }
    };
    let previous = auth_repo::set_edition(db, account.id, &bulwark::server::audit::Actor::Operator, edition).await?;
    if previous == edition {
        println!("{} ({}) is already on the {} edition; nothing changed.", account.name, account.account_no, edition.label());
    } else {
        println!("{} ({}): edition {} → {}.", account.name, account.account_no, previous.label(), edition.label());
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
