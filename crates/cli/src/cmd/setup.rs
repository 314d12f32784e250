//! `gatehouse setup <host>`: install gatehouse's hooks into a host's
//! configuration file (or `--remove` exactly them), with a backup.
//!
//! The editing itself is [`gatehouse_connectors::setup`]; this module finds
//! the file, reads it, backs it up and writes it atomically.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use gatehouse_connectors::Host;
use gatehouse_connectors::setup::{HookCommand, install, is_empty_config, remove};
use gatehouse_core::call::shell_join;

use crate::exit::Exit;

/// Which configuration file of the host to edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scope {
    /// The user's own file (e.g. `~/.claude/settings.json`): every project.
    User,
    /// The project's shared file (e.g. `.claude/settings.json`), usually committed.
    Project,
    /// The project's personal file (`.claude/settings.local.json`, Claude Code only).
    Local,
}

/// Arguments of `gatehouse setup`.
#[derive(Debug, clap::Args)]
pub struct SetupArgs {
    /// The host to install into: claude-code, codex, gemini, cursor, copilot.
    #[arg(value_parser = super::hook::parse_host)]
    pub host: Host,
    /// Which file (default: user; Copilot CLI only reads project hooks).
    #[arg(long, value_enum)]
    pub scope: Option<Scope>,
    /// Take gatehouse's hooks out again (and nothing else).
    #[arg(long)]
    pub remove: bool,
    /// Print the file as it would be written, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Pin this policy file in the installed hook command.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Pin this data dir in the installed hook command.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The host's timeout for the hook, in seconds. The hook's own deadline for
    /// a held approval is set 10 s (or 10%) shorter, so gatehouse answers first.
    #[arg(long, default_value_t = 300)]
    pub timeout_secs: u64,
}

/// Runs `gatehouse setup`.
pub fn run(args: SetupArgs) -> anyhow::Result<Exit> {
    let scope = args.scope.unwrap_or(match args.host {
        Host::Copilot => Scope::Project,
        _ => Scope::User,
    });
    let home = dirs::home_dir().context("cannot find the home directory")?;
    let project = std::env::current_dir().context("cannot read the current directory")?;
    let path = config_path(args.host, scope, &home, &project)?;
    let shown = path.display().to_string();
    let existing = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {shown}")),
    };

    let new = if args.remove {
        let Some(text) = existing.as_deref() else {
            println!("{shown} does not exist; nothing to remove");
            return Ok(Exit::Ok);
        };
        match remove(args.host, &shown, text)? {
            Some(new) => new,
            None => {
                println!("no gatehouse hooks in {shown}; nothing to remove");
                return Ok(Exit::Ok);
            }
        }
    } else {
        install(
            args.host,
            &shown,
            existing.as_deref(),
            &hook_command(&args)?,
        )?
    };

    if existing.as_deref() == Some(new.as_str()) {
        println!("gatehouse hooks already installed in {shown}; nothing changed");
        return Ok(Exit::Ok);
    }
    let delete = args.remove && args.host == Host::Copilot && is_empty_config(&new);
    if args.dry_run {
        if delete {
            println!("would delete {shown} (only gatehouse's hooks were in it)");
        } else {
            println!("would write {shown}:");
            print!("{new}");
        }
        return Ok(Exit::Ok);
    }

    let backup = match &existing {
        Some(text) => Some(write_backup(&path, text)?),
        None => None,
    };
    if delete {
        std::fs::remove_file(&path).with_context(|| format!("cannot delete {shown}"))?;
    } else {
        write_atomically(&path, &new)?;
    }
    let verb = if args.remove {
        "removed gatehouse hooks from"
    } else {
        "installed gatehouse hooks in"
    };
    match backup {
        Some(b) => println!("{verb} {shown} (backup: {})", b.display()),
        None => println!("{verb} {shown}"),
    }
    Ok(Exit::Ok)
}

/// The host's configuration file for `scope`.
pub fn config_path(
    host: Host,
    scope: Scope,
    home: &Path,
    project: &Path,
) -> anyhow::Result<PathBuf> {
    let (dir, file) = match host {
        Host::ClaudeCode => (".claude", "settings.json"),
        Host::Codex => (".codex", "hooks.json"),
        Host::Gemini => (".gemini", "settings.json"),
        Host::Cursor => (".cursor", "hooks.json"),
        Host::Copilot => (".github/hooks", "gatehouse.json"),
    };
    Ok(match (host, scope) {
        (Host::Copilot, Scope::User) => {
            bail!(
                "Copilot CLI reads hooks from the repository's .github/hooks/; use --scope project"
            )
        }
        (Host::ClaudeCode, Scope::Local) => project.join(".claude").join("settings.local.json"),
        (_, Scope::Local) => {
            bail!("{host} has no local scope; use --scope user or --scope project")
        }
        (_, Scope::User) => home.join(dir).join(file),
        (_, Scope::Project) => project.join(dir).join(file),
    })
}

/// The command the host runs: this executable, the host, the deadline, and
/// any pinned policy or data dir.
fn hook_command(args: &SetupArgs) -> anyhow::Result<HookCommand> {
    let exe = std::env::current_exe().context("cannot find the gatehouse executable")?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let exe = exe
        .to_str()
        .context("the gatehouse executable's path is not UTF-8")?;
    let mut extra = Vec::new();
    for (flag, value) in [("--policy", &args.policy), ("--data-dir", &args.data_dir)] {
        if let Some(v) = value {
            let abs = std::path::absolute(v).unwrap_or_else(|_| v.clone());
            let abs = abs
                .to_str()
                .with_context(|| format!("{flag} path is not UTF-8"))?
                .to_owned();
            extra.push(flag.to_owned());
            extra.push(abs);
        }
    }
    let extra_words: Vec<&str> = extra.iter().map(String::as_str).collect();
    let extra_args = if extra_words.is_empty() {
        String::new()
    } else {
        format!(" {}", shell_join(&extra_words))
    };
    if args.timeout_secs < 2 {
        bail!("--timeout-secs must be at least 2");
    }
    Ok(HookCommand {
        program: shell_join(&[exe]),
        extra_args,
        deadline_secs: deadline_for(args.timeout_secs),
        timeout_secs: args.timeout_secs,
    })
}

/// The hook's own deadline: 10 s (at most 10% of it) before the host's timeout.
fn deadline_for(timeout_secs: u64) -> u64 {
    let margin = (timeout_secs / 10).clamp(1, 10);
    timeout_secs.saturating_sub(margin)
}

/// Copies the current file to `<file>.gatehouse-backup-<UTC time>`.
fn write_backup(path: &Path, text: &str) -> anyhow::Result<PathBuf> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(
        ".gatehouse-backup-{}",
        utc_stamp(SystemTime::now())
    ));
    let backup = path.with_file_name(name);
    std::fs::write(&backup, text)
        .with_context(|| format!("cannot write the backup {}", backup.display()))?;
    Ok(backup)
}

/// Writes via a temporary file in the same directory and a rename, so the
/// host never reads half a settings file.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .context("the settings path has no directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".gatehouse-tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// `YYYYMMDDTHHMMSSZ` (UTC), for backup names that sort by time.
fn utc_stamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn stamps_are_utc_calendar_times() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_249_806); // 2026-11-21T08:30:06Z
        assert_eq!(utc_stamp(t), "20261121T083006Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(utc_stamp(leap), "20000229T000000Z");
    }

    #[test]
    fn deadline_ends_before_the_host_timeout() {
        assert_eq!(deadline_for(300), 290);
        assert_eq!(deadline_for(60), 54);
        assert_eq!(deadline_for(5), 4);
    }
}
