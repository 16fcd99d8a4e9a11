//! "Keep my connections fresh": a per-user job the OS runs once a day, `patchbay refresh --all
//! --scheduled` (see [`crate::upkeep`]). No admin rights anywhere: a systemd user timer on Linux,
//! a launchd agent on macOS, a Task Scheduler task of the user's own on Windows.
//!
//! What is written is plain text made here ([`systemd_units`], [`launchd_plist`],
//! [`task_xml`]), each checked against its format in the tests on every system; registering is
//! a few commands ([`Plan`]) run by one small function, so which commands a system gets is
//! tested on Linux too. Where the facility is missing (no systemd user session, say) the admin is
//! told so in plain words, and can run the command by hand instead.

use crate::error::{Error, ErrorKind, Result};
use crate::store::Os;
use std::path::{Path, PathBuf};

/// The job's name everywhere (file names, the launchd label, the task's name).
pub const NAME: &str = "patchbay-keep-fresh";
pub const LAUNCHD_LABEL: &str = "dev.patchbay.keep-fresh";
pub const TASK_NAME: &str = "Patchbay keep connections fresh";
/// The local time of day it runs (the OS catches up after a sleeping or switched-off computer).
pub const HOUR: u8 = 9;

/// What the job runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The `patchbay` command line (next to the app).
    pub program: PathBuf,
    pub args: Vec<String>,
}

impl Job {
    /// The daily sweep with the command line at `program`.
    pub fn daily(program: PathBuf) -> Job {
        Job {
            program,
            args: ["refresh", "--all", "--scheduled"]
                .map(String::from)
                .to_vec(),
        }
    }

    /// The command line next to the running program (the app, or the CLI itself).
    pub fn beside_this_program() -> Option<Job> {
        Job::next_to(&std::env::current_exe().ok()?)
    }

    /// The command line next to `app`.
    pub fn next_to(app: &Path) -> Option<Job> {
        let cli = app
            .parent()?
            .join(format!("patchbay{}", std::env::consts::EXE_SUFFIX));
        cli.is_file().then(|| Job::daily(cli))
    }
}

/// A systemd argument, quoted as systemd.service(5) reads `ExecStart=`.
fn systemd_quote(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('%', "%%")
    )
}

/// The service and the timer (`<NAME>.service`, `<NAME>.timer`) for `~/.config/systemd/user`.
pub fn systemd_units(job: &Job) -> (String, String) {
    let exec: Vec<String> = std::iter::once(job.program.to_string_lossy().into_owned())
        .chain(job.args.iter().cloned())
        .map(|a| systemd_quote(&a))
        .collect();
    let service = format!(
        "[Unit]\nDescription=Patchbay: keep connections fresh\n\n[Service]\nType=oneshot\nExecStart={}\n",
        exec.join(" ")
    );
    let timer = format!(
        "[Unit]\nDescription=Patchbay: keep connections fresh, once a day\n\n[Timer]\nOnCalendar=*-*-* {HOUR:02}:00:00\nPersistent=true\nRandomizedDelaySec=30min\n\n[Install]\nWantedBy=timers.target\n"
    );
    (service, timer)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The launchd agent for `~/Library/LaunchAgents/<LAUNCHD_LABEL>.plist`.
pub fn launchd_plist(job: &Job, log: &Path) -> String {
    let args: String = std::iter::once(job.program.to_string_lossy().into_owned())
        .chain(job.args.iter().cloned())
        .map(|a| format!("        <string>{}</string>\n", xml_escape(&a)))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
    <key>Label</key>
    <string>{LAUNCHD_LABEL}</string>
    <key>ProgramArguments</key>
    <array>
{args}    </array>
    <key>StartCalendarInterval</key>
    <dict>
        <key>Hour</key>
        <integer>{HOUR}</integer>
        <key>Minute</key>
        <integer>0</integer>
    </dict>
    <key>ProcessType</key>
    <string>Background</string>
    <key>StandardErrorPath</key>
    <string>{}</string>
</dict>
</plist>
"#,
        xml_escape(&log.to_string_lossy())
    )
}

/// A Windows command-line argument, quoted as the C runtime reads it.
fn windows_quote(s: &str) -> String {
    if !s.is_empty() && !s.contains([' ', '\t', '"']) {
        return s.to_string();
    }
    let mut out = String::from("\"");
    let mut backslashes = 0;
    for c in s.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.push_str(&"\\".repeat(backslashes * 2 + 1));
                out.push('"');
                backslashes = 0;
            }
            _ => {
                out.push_str(&"\\".repeat(backslashes));
                out.push(c);
                backslashes = 0;
            }
        }
    }
    out.push_str(&"\\".repeat(backslashes * 2));
    out.push('"');
    out
}

/// The Task Scheduler task (`schtasks /Create /XML`): daily, as the signed-in user only when
/// signed in (no password stored, no admin rights), caught up after a missed start.
pub fn task_xml(job: &Job, start_date: &str) -> String {
    let args: Vec<String> = job.args.iter().map(|a| windows_quote(a)).collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>Patchbay: keep connections fresh, once a day.</Description>
  </RegistrationInfo>
  <Triggers>
    <CalendarTrigger>
      <StartBoundary>{start_date}T{HOUR:02}:00:00</StartBoundary>
      <RandomDelay>PT30M</RandomDelay>
      <ScheduleByDay>
        <DaysInterval>1</DaysInterval>
      </ScheduleByDay>
    </CalendarTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>true</RunOnlyIfNetworkAvailable>
    <ExecutionTimeLimit>PT30M</ExecutionTimeLimit>
    <Hidden>true</Hidden>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{}</Command>
      <Arguments>{}</Arguments>
    </Exec>
  </Actions>
</Task>
"#,
        xml_escape(&job.program.to_string_lossy()),
        xml_escape(&args.join(" "))
    )
}

/// Which system's scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduler {
    Systemd,
    Launchd,
    TaskScheduler,
}

impl Scheduler {
    pub const THIS: Scheduler = Scheduler::of(Os::THIS);

    /// Each system's own scheduler.
    pub const fn of(os: Os) -> Scheduler {
        match os {
            Os::Windows => Scheduler::TaskScheduler,
            Os::MacOs => Scheduler::Launchd,
            Os::Other => Scheduler::Systemd,
        }
    }

    /// The scheduler's name in the admin's words.
    pub fn words(self) -> &'static str {
        match self {
            Scheduler::Systemd => "the desktop's task timer (systemd user services)",
            Scheduler::Launchd => "macOS's background tasks (launchd)",
            Scheduler::TaskScheduler => "Windows Task Scheduler",
        }
    }
}

/// One file to write and the commands that register or remove the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub files: Vec<(PathBuf, String)>,
    pub commands: Vec<Vec<String>>,
}

/// Where each scheduler keeps a user's jobs.
#[derive(Debug, Clone)]
pub struct Places {
    /// `~/.config/systemd/user` (Linux).
    pub systemd_user_dir: PathBuf,
    /// `~/Library/LaunchAgents` (macOS).
    pub launch_agents_dir: PathBuf,
    /// Where the task's XML is written before `schtasks` reads it, and macOS's job log goes.
    pub work_dir: PathBuf,
    /// The numeric user id (launchd's `gui/<uid>` domain).
    pub uid: u32,
    /// Today, `YYYY-MM-DD` (the task's first day).
    pub today: String,
}

fn strings(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// What switching the job on does on `scheduler`.
pub fn plan_on(scheduler: Scheduler, job: &Job, places: &Places) -> Result<Plan> {
    Ok(match scheduler {
        Scheduler::Systemd => {
            // systemd runs no program whose path holds a quote (`systemd-analyze verify`: "Executable
            // name contains special characters").
            if job.program.to_string_lossy().contains(['"', '\'', '\\']) {
                return Err(unavailable(
                    scheduler,
                    &format!(
                        "it cannot run a program from {}, whose name has a quote in it",
                        job.program.display()
                    ),
                ));
            }
            let (service, timer) = systemd_units(job);
            Plan {
                files: vec![
                    (
                        places.systemd_user_dir.join(format!("{NAME}.service")),
                        service,
                    ),
                    (places.systemd_user_dir.join(format!("{NAME}.timer")), timer),
                ],
                commands: vec![
                    strings(&["systemctl", "--user", "daemon-reload"]),
                    strings(&[
                        "systemctl",
                        "--user",
                        "enable",
                        "--now",
                        &format!("{NAME}.timer"),
                    ]),
                ],
            }
        }
        Scheduler::Launchd => {
            let plist = places
                .launch_agents_dir
                .join(format!("{LAUNCHD_LABEL}.plist"));
            let log = places.work_dir.join(format!("{NAME}.log"));
            Plan {
                files: vec![(plist.clone(), launchd_plist(job, &log))],
                commands: vec![
                    // A job left from before is replaced (its removal may fail: not there).
                    strings(&[
                        "-launchctl",
                        "bootout",
                        &format!("gui/{}/{LAUNCHD_LABEL}", places.uid),
                    ]),
                    strings(&[
                        "launchctl",
                        "bootstrap",
                        &format!("gui/{}", places.uid),
                        &plist.to_string_lossy(),
                    ]),
                ],
            }
        }
        Scheduler::TaskScheduler => {
            let xml = places.work_dir.join(format!("{NAME}.xml"));
            Plan {
                files: vec![(xml.clone(), task_xml(job, &places.today))],
                commands: vec![strings(&[
                    "schtasks",
                    "/Create",
                    "/TN",
                    TASK_NAME,
                    "/XML",
                    &xml.to_string_lossy(),
                    "/F",
                ])],
            }
        }
    })
}

/// What switching it off does: the commands (failures of those starting with `-` are fine:
/// the job may not be there), then the files to remove.
pub fn plan_off(scheduler: Scheduler, places: &Places) -> Plan {
    match scheduler {
        Scheduler::Systemd => Plan {
            files: vec![
                (
                    places.systemd_user_dir.join(format!("{NAME}.timer")),
                    String::new(),
                ),
                (
                    places.systemd_user_dir.join(format!("{NAME}.service")),
                    String::new(),
                ),
            ],
            commands: vec![
                strings(&[
                    "-systemctl",
                    "--user",
                    "disable",
                    "--now",
                    &format!("{NAME}.timer"),
                ]),
                strings(&["-systemctl", "--user", "daemon-reload"]),
            ],
        },
        Scheduler::Launchd => Plan {
            files: vec![(
                places
                    .launch_agents_dir
                    .join(format!("{LAUNCHD_LABEL}.plist")),
                String::new(),
            )],
            commands: vec![strings(&[
                "-launchctl",
                "bootout",
                &format!("gui/{}/{LAUNCHD_LABEL}", places.uid),
            ])],
        },
        Scheduler::TaskScheduler => Plan {
            files: Vec::new(),
            commands: vec![strings(&["-schtasks", "/Delete", "/TN", TASK_NAME, "/F"])],
        },
    }
}

/// The error when the scheduler cannot be used: what is missing, and the way round.
fn unavailable(scheduler: Scheduler, detail: &str) -> Error {
    Error::new(
        ErrorKind::Storage,
        format!(
            "The daily check could not be set up: {} is not available on this computer ({detail}). Your connections are fine; run `patchbay refresh --all` now and then instead, or ask whoever looks after this computer.",
            scheduler.words()
        ),
    )
}

/// A file's bytes as its scheduler reads them: Task Scheduler's XML in UTF-16 with its byte
/// order mark (as its declaration says), the others UTF-8.
fn file_bytes(scheduler: Scheduler, text: &str) -> Vec<u8> {
    match scheduler {
        Scheduler::TaskScheduler => [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect(),
        _ => text.as_bytes().to_vec(),
    }
}

/// Switches the job on: writes the files, then runs the commands.
pub fn switch_on(scheduler: Scheduler, job: &Job, places: &Places) -> Result<()> {
    let plan = plan_on(scheduler, job, places)?;
    for (path, text) in &plan.files {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::storage(format!("{} could not be created.", dir.display()), e)
            })?;
        }
        crate::settings::write_atomically(path, &file_bytes(scheduler, text))?;
    }
    run_all(scheduler, &plan.commands).inspect_err(|_| {
        // Nothing half-registered is left behind.
        let _ = switch_off(scheduler, places);
        for (path, _) in &plan.files {
            let _ = std::fs::remove_file(path);
        }
    })
}

/// Switches the job off (nothing to do when it is not on).
pub fn switch_off(scheduler: Scheduler, places: &Places) -> Result<()> {
    let plan = plan_off(scheduler, places);
    let ran = run_all(scheduler, &plan.commands);
    for (path, _) in &plan.files {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::storage(
                    format!("{} could not be removed.", path.display()),
                    e,
                ));
            }
        }
    }
    ran
}

fn run_all(scheduler: Scheduler, commands: &[Vec<String>]) -> Result<()> {
    for command in commands {
        let (may_fail, program) = match command[0].strip_prefix('-') {
            Some(p) => (true, p),
            None => (false, command[0].as_str()),
        };
        let out = std::process::Command::new(program)
            .args(&command[1..])
            .stdin(std::process::Stdio::null())
            .output();
        match out {
            Ok(o) if o.status.success() || may_fail => {}
            Ok(o) => {
                let said = String::from_utf8_lossy(&o.stderr);
                let said = crate::sanitize::printable(said.trim())
                    .chars()
                    .take(200)
                    .collect::<String>();
                tracing::warn!(program, said = %said, "the scheduler refused");
                return Err(unavailable(scheduler, &said));
            }
            Err(_) if may_fail => {}
            Err(e) => {
                tracing::warn!(program, error = %e, "the scheduler could not be run");
                return Err(unavailable(scheduler, &format!("{program} was not found")));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job::daily(PathBuf::from(
            r"C:\Users\Ann O'Neil\AppData\Local\Patchbay\patchbay.exe",
        ))
    }

    fn places(root: &Path) -> Places {
        Places {
            systemd_user_dir: root.join("systemd/user"),
            launch_agents_dir: root.join("LaunchAgents"),
            work_dir: root.join("work"),
            uid: 501,
            today: "2026-11-30".into(),
        }
    }

    #[test]
    fn the_launchd_agent_is_a_valid_property_list_that_runs_the_sweep_daily() {
        let job = Job::daily(PathBuf::from(
            "/Applications/Patchbay & Co.app/Contents/MacOS/patchbay",
        ));
        let text = launchd_plist(&job, Path::new("/Users/ann/Library/Logs/Patchbay/job.log"));
        let v: plist::Value = plist::from_bytes(text.as_bytes()).expect("a property list");
        let d = v.as_dictionary().unwrap();
        assert_eq!(d["Label"].as_string(), Some(LAUNCHD_LABEL));
        let args: Vec<&str> = d["ProgramArguments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_string().unwrap())
            .collect();
        assert_eq!(
            args,
            [
                "/Applications/Patchbay & Co.app/Contents/MacOS/patchbay",
                "refresh",
                "--all",
                "--scheduled"
            ]
        );
        let when = d["StartCalendarInterval"].as_dictionary().unwrap();
        assert_eq!(when["Hour"].as_unsigned_integer(), Some(u64::from(HOUR)));
        assert!(
            d["StandardErrorPath"]
                .as_string()
                .unwrap()
                .ends_with("job.log")
        );
    }

    #[test]
    fn the_windows_task_is_well_formed_task_scheduler_xml_for_the_user_alone() {
        let text = task_xml(&job(), "2026-11-30");
        let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
        let task = doc.root_element();
        assert_eq!(task.tag_name().name(), "Task");
        assert_eq!(
            task.tag_name().namespace(),
            Some("http://schemas.microsoft.com/windows/2004/02/mit/task")
        );
        assert_eq!(task.attribute("version"), Some("1.2"));
        let find = |name: &str| {
            doc.descendants()
                .find(|n| {
                    n.has_tag_name((
                        "http://schemas.microsoft.com/windows/2004/02/mit/task",
                        name,
                    ))
                })
                .and_then(|n| n.text())
                .unwrap_or_else(|| panic!("no <{name}>"))
        };
        // The elements in the order the schema wants them at the top level.
        let top: Vec<&str> = task
            .children()
            .filter(|n| n.is_element())
            .map(|n| n.tag_name().name())
            .collect();
        assert_eq!(
            top,
            [
                "RegistrationInfo",
                "Triggers",
                "Principals",
                "Settings",
                "Actions"
            ]
        );
        assert_eq!(find("StartBoundary"), "2026-11-30T09:00:00");
        assert_eq!(find("DaysInterval"), "1");
        assert_eq!(find("LogonType"), "InteractiveToken");
        assert_eq!(find("RunLevel"), "LeastPrivilege");
        assert_eq!(find("StartWhenAvailable"), "true");
        assert_eq!(
            find("Command"),
            r"C:\Users\Ann O'Neil\AppData\Local\Patchbay\patchbay.exe"
        );
        assert_eq!(find("Arguments"), "refresh --all --scheduled");
    }

    #[test]
    fn the_task_file_is_utf16_as_its_declaration_says() {
        let text = task_xml(&job(), "2026-11-30");
        let bytes = file_bytes(Scheduler::TaskScheduler, &text);
        assert_eq!(&bytes[..2], &[0xFF, 0xFE]);
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(String::from_utf16(&units).unwrap(), text);
        assert_eq!(file_bytes(Scheduler::Systemd, "x"), b"x");
    }

    #[test]
    fn windows_arguments_are_quoted_the_way_programs_read_them() {
        assert_eq!(windows_quote("--all"), "--all");
        assert_eq!(windows_quote("a b"), "\"a b\"");
        assert_eq!(windows_quote(r#"say "hi""#), r#""say \"hi\"""#);
        assert_eq!(
            windows_quote(r"C:\Program Files\"),
            r#""C:\Program Files\\""#
        );
        assert_eq!(windows_quote(""), "\"\"");
    }

    #[test]
    fn each_system_has_its_own_scheduler() {
        assert_eq!(Scheduler::of(Os::Windows), Scheduler::TaskScheduler);
        assert_eq!(Scheduler::of(Os::MacOs), Scheduler::Launchd);
        assert_eq!(Scheduler::of(Os::Other), Scheduler::Systemd);
        // Os::THIS is checked against the system the tests run on in store.rs.
        assert_eq!(
            Scheduler::THIS,
            Scheduler::of(Os::THIS),
            "this system's own scheduler"
        );
    }

    #[test]
    fn each_system_gets_its_own_files_and_commands_on_and_off() {
        let p = places(Path::new("/home/ann"));
        let unix = Job::daily(PathBuf::from("/opt/Patchbay/patchbay"));
        let on = plan_on(Scheduler::Systemd, &unix, &p).unwrap();
        assert_eq!(on.files.len(), 2);
        assert!(
            on.files[1]
                .0
                .ends_with("systemd/user/patchbay-keep-fresh.timer")
        );
        assert_eq!(
            on.commands.last().unwrap(),
            &strings(&[
                "systemctl",
                "--user",
                "enable",
                "--now",
                "patchbay-keep-fresh.timer"
            ])
        );
        let quoted = Job::daily(PathBuf::from("/home/ann/Ann's apps/patchbay"));
        let e = plan_on(Scheduler::Systemd, &quoted, &p).unwrap_err();
        assert!(e.message().contains("has a quote in it"), "{e}");
        let on = plan_on(Scheduler::Launchd, &job(), &p).unwrap();
        assert!(on.commands[1].contains(&"gui/501".to_string()));
        assert!(
            on.files[0]
                .0
                .ends_with("LaunchAgents/dev.patchbay.keep-fresh.plist")
        );
        let on = plan_on(Scheduler::TaskScheduler, &job(), &p).unwrap();
        assert_eq!(
            &on.commands[0][..4],
            &strings(&["schtasks", "/Create", "/TN", TASK_NAME])
        );
        // Off: the removal's own failures (nothing there) do not count.
        for s in [
            Scheduler::Systemd,
            Scheduler::Launchd,
            Scheduler::TaskScheduler,
        ] {
            assert!(
                plan_off(s, &p)
                    .commands
                    .iter()
                    .all(|c| c[0].starts_with('-')),
                "{s:?}"
            );
        }
        for s in [
            Scheduler::Systemd,
            Scheduler::Launchd,
            Scheduler::TaskScheduler,
        ] {
            assert!(!s.words().is_empty());
        }
    }

    #[test]
    fn a_missing_scheduler_is_said_plainly_and_nothing_is_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        let p = places(dir.path());
        // A scheduler whose commands are not on this computer: another system's (Windows and
        // Wine have `schtasks`, macOS has `launchctl`, Linux neither).
        let (missing, its_file) = if cfg!(windows) {
            (
                Scheduler::Launchd,
                "LaunchAgents/dev.patchbay.keep-fresh.plist",
            )
        } else {
            (Scheduler::TaskScheduler, "work/patchbay-keep-fresh.xml")
        };
        let e = switch_on(missing, &job(), &p).unwrap_err();
        assert!(
            e.message()
                .contains(&format!("{} is not available", missing.words())),
            "{e}"
        );
        assert!(e.message().contains("patchbay refresh --all"), "{e}");
        assert!(!dir.path().join(its_file).exists(), "{its_file} is left");
        switch_off(missing, &p).unwrap();
    }

    /// systemd itself reads the units: no warning, no error (`systemd-analyze verify`), for a
    /// program in a folder with a space and a percent sign in its name. (One with a quote, which
    /// systemd refuses to run, is refused before anything is written.)
    #[cfg(target_os = "linux")]
    #[test]
    fn the_systemd_units_pass_systemd_analyze_verify() {
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("Patchbay 100% App");
        std::fs::create_dir_all(&odd).unwrap();
        let program = odd.join("patchbay");
        std::os::unix::fs::symlink(std::env::current_exe().unwrap(), &program).unwrap();
        let (service, timer) = systemd_units(&Job::daily(program));
        let units = dir.path().join("units");
        std::fs::create_dir_all(&units).unwrap();
        std::fs::write(units.join(format!("{NAME}.service")), service).unwrap();
        std::fs::write(units.join(format!("{NAME}.timer")), timer).unwrap();
        let runtime = dir.path().join("runtime");
        std::fs::create_dir_all(&runtime).unwrap();
        let out = std::process::Command::new("systemd-analyze")
            .args(["verify", "--user"])
            .arg(units.join(format!("{NAME}.timer")))
            .arg(units.join(format!("{NAME}.service")))
            .env("XDG_RUNTIME_DIR", &runtime)
            .output()
            .expect("systemd-analyze is installed (Debian's systemd package; scripts/setup.sh)");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && said.trim().is_empty(), "{said}");
        // And it does refuse a broken one (the check can fail).
        std::fs::write(
            units.join(format!("{NAME}.timer")),
            "[Timer]\nOnCalendar=*-*-* 29:00:00\n",
        )
        .unwrap();
        let out = std::process::Command::new("systemd-analyze")
            .args(["verify", "--user"])
            .arg(units.join(format!("{NAME}.timer")))
            .env("XDG_RUNTIME_DIR", &runtime)
            .output()
            .unwrap();
        assert!(!out.status.success());
    }
}
