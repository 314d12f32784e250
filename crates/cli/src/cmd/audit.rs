//! `gatehouse audit`: verify, tail and export the hash-chained audit log.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use gatehouse_core::audit::{AuditKind, Hash};
use gatehouse_core::{Action, Timestamp};
use gatehouse_store::export::{ExportError, Exporter, Format, rfc3339};
use gatehouse_store::{AuditEntry, AuditQuery, AuditStore, PostgresStore, SqliteStore};

use crate::exit::Exit;

/// How often `--follow` looks for new records.
const FOLLOW_POLL: Duration = Duration::from_millis(250);
/// Records per query when streaming an export or a follow.
const PAGE: usize = 1000;

/// `gatehouse audit`: which log, and what to do with it.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Data dir holding gatehouse.db (default: GATEHOUSE_HOME, else the XDG data dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The log's database instead: a SQLite file, or a PostgreSQL URL
    /// (`postgresql://user@host/db`, or `host=… user=… dbname=…`).
    #[arg(long, global = true, value_name = "PATH|URL")]
    pub db: Option<String>,
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// The `audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; exit 1 naming the first modified, missing,
    /// reordered or inserted record, or a truncated tail.
    Verify(VerifyArgs),
    /// Print the newest records; with --follow, keep printing new ones.
    Tail(TailArgs),
    /// Write records as JSON Lines or CSV, secrets redacted.
    Export(ExportArgs),
    /// Print the chain head (`SEQ:HASH`) to keep somewhere the log's writers cannot reach.
    Head,
}

/// `audit verify` options.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Also require that record SEQ still has HASH (a head saved earlier with `audit head`):
    /// catches a log rewritten or cut back together with its head.
    #[arg(long, value_name = "SEQ:HASH")]
    pub expect: Option<String>,
}

/// `audit tail` options.
#[derive(Debug, clap::Args)]
pub struct TailArgs {
    /// How many of the newest records to print first.
    #[arg(short = 'n', long = "lines", default_value_t = 10, value_name = "N")]
    pub lines: usize,
    /// Keep running and print records as they are appended.
    #[arg(short, long)]
    pub follow: bool,
    /// Print JSON Lines (the export format) instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// `audit export` options.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    pub format: ExportFormat,
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportFormat {
    /// One JSON object per line.
    Jsonl,
    /// CSV with a header row.
    Csv,
}

/// Filters shared by `tail` and `export`.
#[derive(Debug, clap::Args)]
pub struct FilterArgs {
    /// Only records at or after this time: RFC 3339 (`2026-11-21T07:00:00Z`) or an age (`90m`, `2h`, `7d`).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only records with this decision (defer, allow, ask, deny).
    #[arg(long, value_name = "ACTION")]
    pub decision: Option<String>,
    /// Only records of this session (gatehouse session or the host's session id).
    #[arg(long)]
    pub session: Option<String>,
    /// Only records of this tool (raw name, e.g. Bash).
    #[arg(long)]
    pub tool: Option<String>,
    /// Only records decided by this rule (id or name).
    #[arg(long)]
    pub rule: Option<String>,
    /// Only records of this kind (decision, resolution, outcome, admin).
    #[arg(long)]
    pub kind: Option<String>,
}

/// Runs one `gatehouse audit` subcommand.
pub fn run(args: AuditArgs) -> anyhow::Result<Exit> {
    let Some((store, location)) = open_store(args.data_dir.as_deref(), args.db.as_deref())? else {
        return Ok(match args.command {
            AuditCommand::Verify(VerifyArgs { expect: Some(_) }) => Exit::Failed,
            AuditCommand::Export(ExportArgs { format, output, .. }) => {
                // An empty export is still a well-formed file.
                let mut out = output_writer(output.as_ref())?;
                Exporter::new(format.into(), &mut out)?.flush()?;
                Exit::Ok
            }
            _ => Exit::Ok,
        });
    };
    let store = &*store;
    match args.command {
        AuditCommand::Verify(v) => verify(store, &location, v),
        AuditCommand::Tail(t) => tail(store, t),
        AuditCommand::Export(e) => export(store, e),
        AuditCommand::Head => {
            match store.head()? {
                Some(head) => println!("{}:{}", head.seq, head.hash),
                None => println!("0:{}", Hash::GENESIS),
            }
            Ok(Exit::Ok)
        }
    }
}

/// The store `--db` or the data dir names, and how to name it to people;
/// `None` when the SQLite file does not exist (reported, never created).
fn open_store(
    data_dir: Option<&std::path::Path>,
    db: Option<&str>,
) -> anyhow::Result<Option<(Box<dyn AuditStore>, String)>> {
    if let Some(url) = db.filter(|d| is_postgres_url(d)) {
        let store = PostgresStore::connect(url)?;
        let shown = store.location().to_owned();
        return Ok(Some((Box::new(store), shown)));
    }
    let path = match db {
        Some(file) => PathBuf::from(file),
        None => SqliteStore::path_in(&crate::config::data_dir(data_dir)),
    };
    if !path.exists() {
        eprintln!(
            "gatehouse: no audit log at {} (nothing recorded yet)",
            path.display()
        );
        return Ok(None);
    }
    let store = SqliteStore::open_existing(&path)?;
    Ok(Some((Box::new(store), path.display().to_string())))
}

fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://") || db.contains("host=")
}

fn verify(store: &dyn AuditStore, location: &str, args: VerifyArgs) -> anyhow::Result<Exit> {
    let expect = args.expect.as_deref().map(parse_expect).transpose()?;
    let summary = match store.verify()? {
        Ok(summary) => summary,
        Err(fault) => {
            println!("{fault}");
            eprintln!(
                "gatehouse: the audit log at {location} is damaged; records before #{} are intact",
                fault.seq()
            );
            return Ok(Exit::Failed);
        }
    };
    if let Some((seq, hash)) = expect {
        let found = store.query(&AuditQuery {
            after: seq.saturating_sub(1),
            limit: Some(1),
            ..AuditQuery::default()
        })?;
        match found.first() {
            Some(e) if e.seq == seq && e.hash == hash => {}
            Some(e) if e.seq == seq => {
                println!(
                    "record #{seq}: modified (the log was rewritten: its hash is {}, the saved head says {hash})",
                    e.hash
                );
                return Ok(Exit::Failed);
            }
            _ => {
                println!(
                    "record #{seq}: missing (truncated: the log ends at #{} but the saved head records #{seq})",
                    summary.records
                );
                return Ok(Exit::Failed);
            }
        }
    }
    match summary.head {
        Some(head) => println!(
            "ok: {} records, chain intact, head #{}:{}",
            summary.records, head.seq, head.hash
        ),
        None => println!("ok: 0 records"),
    }
    Ok(Exit::Ok)
}

fn parse_expect(s: &str) -> anyhow::Result<(u64, Hash)> {
    let parsed = s.split_once(':').and_then(|(seq, hash)| {
        Some((
            seq.trim().parse::<u64>().ok()?,
            Hash::from_hex(hash.trim())?,
        ))
    });
    parsed.with_context(|| {
        format!(
            "--expect {s:?} is not SEQ:HASH (64 hex digits), as printed by `gatehouse audit head`"
        )
    })
}

fn tail(store: &dyn AuditStore, args: TailArgs) -> anyhow::Result<Exit> {
    let mut query = args.filter.query(now())?;
    query.limit = Some(args.lines);
    query.newest = true;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut exporter = if args.json {
        Some(Exporter::new(Format::Jsonl, std::io::stdout())?)
    } else {
        None
    };
    let mut print = |entries: &[AuditEntry]| -> Result<(), ExportError> {
        match exporter.as_mut() {
            Some(x) => {
                x.write(entries)?;
                x.flush()
            }
            None => {
                for e in entries {
                    writeln!(out, "{}", text_line(e))?;
                }
                out.flush().map_err(ExportError::from)
            }
        }
    };
    let first = if args.lines == 0 {
        Vec::new()
    } else {
        store.query(&query)?
    };
    // Follow from the head even when no shown record matched the filters.
    let mut last = match first.last() {
        Some(e) => e.seq,
        None => store.head()?.map(|h| h.seq).unwrap_or(0),
    };
    if ended_by_reader(print(&first))? || !args.follow {
        return Ok(Exit::Ok);
    }
    query.newest = false;
    query.limit = Some(PAGE);
    loop {
        query.after = last;
        let page = store.query(&query)?;
        match page.last() {
            Some(e) => last = e.seq,
            None => {
                // Filtered-out records still move the resume point forward.
                if let Some(head) = store.head()? {
                    last = last.max(head.seq);
                }
                std::thread::sleep(FOLLOW_POLL);
                continue;
            }
        }
        if ended_by_reader(print(&page))? {
            return Ok(Exit::Ok);
        }
    }
}

fn export(store: &dyn AuditStore, args: ExportArgs) -> anyhow::Result<Exit> {
    let mut query = args.filter.query(now())?;
    query.limit = Some(PAGE);
    let mut out = output_writer(args.output.as_ref())?;
    let mut exporter = Exporter::new(args.format.into(), &mut out)?;
    loop {
        let page = store.query(&query)?;
        let Some(last) = page.last() else { break };
        query.after = last.seq;
        if ended_by_reader(exporter.write(&page))? {
            return Ok(Exit::Ok);
        }
    }
    ended_by_reader(exporter.flush())?;
    Ok(Exit::Ok)
}

fn output_writer(path: Option<&PathBuf>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
    })
}

/// `Ok(true)` when the reader went away (`| head`): stop quietly.
fn ended_by_reader(r: Result<(), ExportError>) -> anyhow::Result<bool> {
    match r {
        Ok(()) => Ok(false),
        Err(e) if e.is_broken_pipe() => Ok(true),
        Err(e) => Err(e.into()),
    }
}

impl From<ExportFormat> for Format {
    fn from(f: ExportFormat) -> Format {
        match f {
            ExportFormat::Jsonl => Format::Jsonl,
            ExportFormat::Csv => Format::Csv,
        }
    }
}

impl FilterArgs {
    fn query(&self, now: Timestamp) -> anyhow::Result<AuditQuery> {
        let decision = self
            .decision
            .as_deref()
            .map(|d| {
                Action::parse(d).with_context(|| {
                    format!("--decision {d:?} is not one of defer, allow, ask, deny")
                })
            })
            .transpose()?;
        let kind = self
            .kind
            .as_deref()
            .map(|k| {
                AuditKind::parse(k).with_context(|| {
                    format!("--kind {k:?} is not one of decision, resolution, outcome, admin")
                })
            })
            .transpose()?;
        Ok(AuditQuery {
            since: self
                .since
                .as_deref()
                .map(|s| parse_since(s, now))
                .transpose()?,
            decision,
            kind,
            session: self.session.clone(),
            tool: self.tool.clone(),
            rule: self.rule.clone(),
            ..AuditQuery::default()
        })
    }
}

/// `--since`: an RFC 3339 time, or an age counted back from `now`.
fn parse_since(s: &str, now: Timestamp) -> anyhow::Result<Timestamp> {
    if let Ok(age) = humantime::parse_duration(s) {
        let ms = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
        return Ok(Timestamp(now.millis().saturating_sub(ms)));
    }
    match humantime::parse_rfc3339_weak(s) {
        Ok(t) => Ok(timestamp(t)),
        Err(_) => bail!(
            "--since {s:?} is neither an RFC 3339 time (2026-11-21T07:00:00Z) nor an age (90m, 2h, 7d)"
        ),
    }
}

fn timestamp(t: SystemTime) -> Timestamp {
    let ms = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    };
    Timestamp(ms)
}

fn now() -> Timestamp {
    timestamp(SystemTime::now())
}

/// One record as a line of text: `#SEQ TIME KIND DECISION TOOL WHAT [RULES] session=…`.
fn text_line(e: &AuditEntry) -> String {
    let r = &e.record;
    let exported = gatehouse_store::export::ExportRow::new(e);
    let what = match exported.input.get("command").and_then(|c| c.as_str()) {
        Some(cmd) => cmd.to_owned(),
        None if exported.input.is_null() => String::new(),
        None => gatehouse_core::audit::canonical_json(&exported.input),
    };
    let mut line = format!(
        "#{} {} {} {} {}",
        e.seq,
        rfc3339(r.time),
        r.kind,
        r.decision.map(|d| d.as_str()).unwrap_or("-"),
        if r.tool.is_empty() { "-" } else { &r.tool },
    );
    if !what.is_empty() {
        line.push(' ');
        line.push_str(&truncate(&what, 160));
    }
    if !r.rules.is_empty() {
        line.push_str(&format!(" [{}]", r.rules.join(", ")));
    }
    for (name, value) in [
        ("outcome", &r.outcome),
        ("approval", &r.approval_id),
        ("by", &r.actor),
        ("via", &r.channel),
        ("reason", &exported.reason),
        ("session", &r.session),
    ] {
        if let Some(v) = value {
            line.push_str(&format!(" {name}={v}"));
        }
    }
    line
}

fn truncate(s: &str, max_chars: usize) -> String {
    let one_line = s.replace('\n', "\\n");
    match one_line.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}
