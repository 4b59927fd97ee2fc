//! The offline machine guards itself: no core dumps of a process that holds secrets, and a look at
//! the network interfaces before signing (see docs/threat-model.md).
use std::path::Path;

/// Where Linux lists network interfaces.
const SYS_CLASS_NET: &str = "/sys/class/net";
/// `IFF_UP` and `IFF_LOOPBACK` from `<linux/if.h>`, as in `/sys/class/net/*/flags`.
const IFF_UP: u32 = 0x1;
const IFF_LOOPBACK: u32 = 0x8;

/// Keep secrets out of core files: a core limit of 0, and the process marked not dumpable (which
/// also keeps other processes of the same user from attaching with ptrace or reading its
/// memory through /proc). Returns what could not be done, for a warning.
pub fn harden() -> Vec<String> {
    let mut failed = Vec::new();
    if let Err(e) = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_CORE, 0, 0) {
        failed.push(format!("could not turn core dumps off (setrlimit: {e})"));
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        failed.push(format!(
            "could not mark the process not dumpable (prctl: {e})"
        ));
    }
    failed
}

/// A panic's message can hold whatever the failing code was looking at, a secret included (a
/// key source sliced at a byte that is not a character's boundary once printed all of it): show
/// only where it happened. Exit code 101, as for any panic.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "{}",
            airgap::keys::source::panic_notice(
                "airgap-signer",
                "nothing more was signed or written",
                info.location()
            )
        );
    }));
}

/// What the network interfaces say about this machine.
#[derive(Debug, PartialEq, Eq)]
pub enum Interfaces {
    /// Only loopback (or nothing) is up.
    Offline,
    /// These interfaces other than loopback are up.
    Online(Vec<String>),
    /// The interfaces could not be read (no /sys, another OS).
    Unknown(String),
}

/// The interfaces of this machine, from /sys/class/net.
pub fn interfaces() -> Interfaces {
    interfaces_in(Path::new(SYS_CLASS_NET))
}

/// The interfaces listed in `dir` (laid out as /sys/class/net): an interface counts as up when its
/// `flags` has IFF_UP or its `operstate` is `up`, or when neither can be read (assume the worst);
/// loopback (IFF_LOOPBACK, or the name `lo`) never counts.
pub fn interfaces_in(dir: &Path) -> Interfaces {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return Interfaces::Unknown(format!("cannot read {}: {e}", dir.display())),
    };
    let mut up = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let flags = std::fs::read_to_string(path.join("flags"))
            .ok()
            .and_then(|t| u32::from_str_radix(t.trim().trim_start_matches("0x"), 16).ok());
        let operstate = std::fs::read_to_string(path.join("operstate"))
            .ok()
            .map(|t| t.trim().to_string());
        if name == "lo" || flags.is_some_and(|f| f & IFF_LOOPBACK != 0) {
            continue;
        }
        let is_up = match (flags, operstate.as_deref()) {
            (None, None) => true,
            (f, state) => f.is_some_and(|f| f & IFF_UP != 0) || state == Some("up"),
        };
        if is_up {
            up.push(airgap::review::escape_bytes(name.as_bytes()));
        }
    }
    up.sort();
    if up.is_empty() {
        Interfaces::Offline
    } else {
        Interfaces::Online(up)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(dir: &Path, name: &str, flags: Option<&str>, operstate: Option<&str>) {
        let d = dir.join(name);
        std::fs::create_dir(&d).unwrap();
        if let Some(f) = flags {
            std::fs::write(d.join("flags"), format!("{f}\n")).unwrap();
        }
        if let Some(s) = operstate {
            std::fs::write(d.join("operstate"), format!("{s}\n")).unwrap();
        }
    }

    #[test]
    fn loopback_and_down_interfaces_are_offline() {
        let t = tempfile::tempdir().unwrap();
        iface(t.path(), "lo", Some("0x9"), Some("unknown"));
        iface(t.path(), "ifb0", Some("0x82"), Some("down"));
        assert_eq!(interfaces_in(t.path()), Interfaces::Offline);
        iface(t.path(), "eth0", Some("0x1003"), Some("up"));
        // Up by its flags even though the link reports no carrier.
        iface(t.path(), "wlan0", Some("0x1003"), Some("dormant"));
        // Nothing readable: assume up.
        iface(t.path(), "odd", None, None);
        assert_eq!(
            interfaces_in(t.path()),
            Interfaces::Online(vec!["eth0".into(), "odd".into(), "wlan0".into()])
        );
        assert!(matches!(
            interfaces_in(&t.path().join("missing")),
            Interfaces::Unknown(_)
        ));
    }

    #[test]
    fn harden_turns_core_dumps_off() {
        assert!(harden().is_empty());
        let (soft, hard) =
            nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_CORE).unwrap();
        assert_eq!((soft, hard), (0, 0));
        assert!(!nix::sys::prctl::get_dumpable().unwrap());
    }
}
