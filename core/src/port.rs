//! Which program holds a local TCP port, so "port in use" can name it: on Windows, macOS and Linux
//! alike through the `listeners` crate (the IP helper API, libproc, /proc). Best effort: another
//! user's program may not be visible, and the message then says so less precisely.

use listeners::{Protocol, SocketState};

/// "the program \"python3\" (process 1234)", when it can be found.
pub fn holder(port: u16) -> Option<String> {
    let all = listeners::get_all()
        .inspect_err(|e| tracing::debug!(%e, "could not list the listening programs"))
        .ok()?;
    all.into_iter()
        .filter(|l| {
            l.protocol == Protocol::TCP && l.state == SocketState::Listen && l.socket.port() == port
        })
        .min_by_key(|l| l.process.pid)
        .map(|l| named(&l.process.name, l.process.pid))
}

/// A program as the admin sees it named (its name is the system's, made printable).
fn named(program: &str, pid: u32) -> String {
    format!(
        "the program \"{}\" (process {pid})",
        crate::sanitize::printable(program)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_our_own_listener_and_only_a_listener() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        // Wine (the Windows tests here, scripts/windows.sh) lists no owner for a listening
        // socket, so there the lookup finds nobody and the message names no program; Windows
        // itself is proven only on a Windows runner (.github/workflows/ci.yml).
        if std::env::var_os("PATCHBAY_UNDER_WINE").is_some() {
            assert_eq!(super::holder(port), None, "Wine names no owner");
        } else {
            let who = super::holder(port).expect("our own listening socket is found");
            assert!(who.contains(&std::process::id().to_string()), "{who}");
            assert!(who.starts_with("the program \""), "{who}");
        }
        drop(l);
        assert_eq!(super::holder(port), None, "nobody listens there now");
    }

    #[test]
    fn a_strange_program_name_is_printable() {
        let n = super::named("evil\u{1b}[2Jname", 7);
        assert!(!n.contains('\u{1b}'), "{n}");
        assert!(n.ends_with("(process 7)"), "{n}");
    }
}
