//! Which program holds a local TCP port, so "port in use" can name it. Best effort: on Linux
//! from /proc (own-user processes only); elsewhere not known, and the message says so less
//! precisely.

/// "the program \"python3\" (process 1234)", when it can be found.
pub fn holder(port: u16) -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        linux::holder(port)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = port;
        None
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::fs;

    fn listening_inodes(port: u16) -> Vec<String> {
        let mut out = Vec::new();
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let Ok(text) = fs::read_to_string(table) else {
                continue;
            };
            for line in text.lines().skip(1) {
                let cols: Vec<&str> = line.split_whitespace().collect();
                // local_address is "HEXIP:HEXPORT"; state 0A is LISTEN; inode is column 9.
                let (Some(local), Some(state), Some(inode)) =
                    (cols.get(1), cols.get(3), cols.get(9))
                else {
                    continue;
                };
                let port_hex = local.rsplit(':').next().unwrap_or("");
                if *state == "0A" && u16::from_str_radix(port_hex, 16).ok() == Some(port) {
                    out.push(inode.to_string());
                }
            }
        }
        out
    }

    pub fn holder(port: u16) -> Option<String> {
        let inodes = listening_inodes(port);
        if inodes.is_empty() {
            return None;
        }
        let targets: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
        for proc_entry in fs::read_dir("/proc").ok()?.flatten() {
            let name = proc_entry.file_name();
            let Some(pid) = name
                .to_str()
                .filter(|s| s.chars().all(|c| c.is_ascii_digit()))
            else {
                continue;
            };
            let Ok(fds) = fs::read_dir(proc_entry.path().join("fd")) else {
                continue;
            };
            for fd in fds.flatten() {
                let Ok(link) = fs::read_link(fd.path()) else {
                    continue;
                };
                if targets.iter().any(|t| link.to_str() == Some(t.as_str())) {
                    let comm =
                        fs::read_to_string(proc_entry.path().join("comm")).unwrap_or_default();
                    return Some(format!("the program \"{}\" (process {pid})", comm.trim()));
                }
            }
        }
        None
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn finds_our_own_listener() {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = l.local_addr().unwrap().port();
            let who = super::holder(port).expect("our own socket is visible in /proc");
            assert!(who.contains(&std::process::id().to_string()), "{who}");
        }
    }
}
