//! `gatehouse user add|list|remove`: dashboard users.
//!
//! `add` asks for a password (or reads one line from stdin with
//! `--password-stdin`), stores its Argon2id hash and a new TOTP secret in the
//! daemon's database, and prints the enrolment URI and a QR code once.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use gatehouse_server::Role;
use gatehouse_server::dashboard::credentials;
use gatehouse_store::SqliteStore;
use gatehouse_store::users::UserStore;

use crate::exit::Exit;

/// Where the users live: the daemon's database.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// Data dir (default: GATEHOUSE_HOME, or the XDG data dir).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// SQLite database (default: <data dir>/gatehouse.db, the one `gatehouse serve` uses).
    #[arg(long)]
    pub db: Option<PathBuf>,
}

/// `gatehouse user ...`
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Add a dashboard user; prints their TOTP enrolment (URI and QR code).
    Add {
        /// Login name.
        name: String,
        /// approver (approve, deny) or admin (also grants and lockdown).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from the first line of stdin instead of prompting.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List dashboard users.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Remove a dashboard user and end their sessions.
    Remove {
        /// Login name.
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    match Role::parse(s) {
        Some(Role::Agent) | None => Err(format!("unknown role {s:?}; use approver or admin")),
        Some(r) => Ok(r),
    }
}

/// Run a `user` subcommand.
pub fn run(command: UserCommand) -> anyhow::Result<Exit> {
    match command {
        UserCommand::Add {
            name,
            role,
            password_stdin,
            store,
        } => add(&name, role, password_stdin, &store),
        UserCommand::List { json, store } => list(json, &store),
        UserCommand::Remove { name, store } => {
            if open(&store)?.remove_user(&name)? {
                println!("user {name} removed; their dashboard sessions are ended");
                Ok(Exit::Ok)
            } else {
                bail!("no user named {name:?} (see `gatehouse user list`)")
            }
        }
    }
}

fn open(args: &StoreArgs) -> anyhow::Result<UserStore> {
    let data_dir = crate::config::data_dir(args.data_dir.as_deref());
    let db = args
        .db
        .clone()
        .unwrap_or_else(|| SqliteStore::path_in(&data_dir));
    // Creates the data dir and database owner-only if this is the first command run.
    SqliteStore::open(&db).with_context(|| format!("cannot open {}", db.display()))?;
    UserStore::open(&db).with_context(|| format!("cannot open the users in {}", db.display()))
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for a password; pass --password-stdin and pipe it in");
    }
    let first = rpassword::prompt_password("Password: ").context("cannot read the password")?;
    let again = rpassword::prompt_password("Again: ").context("cannot read the password")?;
    if first != again {
        bail!("the passwords differ; nothing was changed");
    }
    Ok(first)
}

fn add(name: &str, role: Role, password_stdin: bool, args: &StoreArgs) -> anyhow::Result<Exit> {
    let store = open(args)?;
    if store.user(name)?.is_some() {
        bail!("a user named {name:?} exists already; remove it first or pick another name");
    }
    let password = read_password(password_stdin)?;
    let now = gatehouse_core::Timestamp(
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0),
        )
        .unwrap_or(i64::MAX),
    );
    let enrolment = credentials::enrol(name, role, &password, now)?;
    if !store.add_user(&enrolment.user)? {
        bail!("a user named {name:?} exists already; remove it first or pick another name");
    }
    let qr = qrcode::QrCode::new(enrolment.otpauth_uri.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::unicode::Dense1x2>()
                .dark_color(qrcode::render::unicode::Dense1x2::Light)
                .light_color(qrcode::render::unicode::Dense1x2::Dark)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default();
    let mut out = std::io::stdout().lock();
    writeln!(out, "user {name} added with role {}", role.as_str())?;
    writeln!(
        out,
        "Enrol the second factor now (shown once): scan the QR code with an authenticator app,"
    )?;
    writeln!(
        out,
        "or add this URI (secret {}):",
        enrolment.user.totp_secret
    )?;
    writeln!(out, "{}", enrolment.otpauth_uri)?;
    writeln!(out, "{qr}")?;
    writeln!(
        out,
        "Log in on the dashboard (`gatehouse serve` prints its URL) with the password and a 6-digit code."
    )?;
    Ok(Exit::Ok)
}

fn list(json: bool, args: &StoreArgs) -> anyhow::Result<Exit> {
    let users = open(args)?.users()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&users)?);
        return Ok(Exit::Ok);
    }
    if users.is_empty() {
        println!("no dashboard users; add one with `gatehouse user add NAME --role approver`");
    }
    for u in users {
        println!("{}\t{}", u.name, u.role.as_str());
    }
    Ok(Exit::Ok)
}
