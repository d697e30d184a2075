//! What a script needs from this host before it may run (keepalived.conf(5) "SCRIPTS",
//! `script_user`, `enable_script_security`): its user and group looked up by name, its
//! program found (on `PATH` when the name has no '/'), executable by that user, and — for a
//! script run as root under `enable_script_security` — a path that no unprivileged user
//! could have changed.
//!
//! The rules are pure functions over a [`Host`]; [`LiveHost`] is this machine (std::fs
//! only: `lstat`, `readlink`, /etc/passwd and /etc/group, as keepalived's getpwnam would
//! see local users). The configuration builder applies them once per load, and `sys`
//! applies [`unsafe_path`] again right before every run of a root script, because
//! permissions can change after the file was loaded.

use std::io;
use std::path::{Component, Path, PathBuf};

/// The user keepalived runs scripts as when neither the script nor `script_user` names one.
pub const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

/// Where a program without a '/' is looked for when the daemon has no `PATH`.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Symbolic links followed at most while resolving a script's path (the kernel's limit).
const MAX_SYMLINKS: usize = 40;

/// The kind of a file, from `lstat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Other,
}

/// What `lstat` says about a file, as far as these rules care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    pub kind: Kind,
    pub uid: u32,
    pub gid: u32,
    /// Permission bits with the sticky bit (`st_mode & 0o7777`).
    pub mode: u32,
}

/// A user account: its uid and primary gid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Account {
    pub uid: u32,
    pub gid: u32,
}

/// The host facts the rules read.
pub trait Host {
    /// The account named `name` (names only, as keepalived: "65534" is not a user).
    fn user(&self, name: &str) -> Option<Account>;
    /// The gid of the group named `name`.
    fn group(&self, name: &str) -> Option<u32>;
    fn lstat(&self, path: &Path) -> io::Result<Meta>;
    fn read_link(&self, path: &Path) -> io::Result<PathBuf>;
    /// The daemon's own effective uid and gid (the default when no script user applies).
    fn own_ids(&self) -> Account;
    /// The daemon's `PATH`.
    fn search_path(&self) -> String;
}

/// An `lstat` answer as [`Memo`] keeps it (`io::Error` cannot be cloned).
type StatResult = Result<Meta, (io::ErrorKind, String)>;

/// A [`Host`] whose answers are remembered for the length of one load: a configuration
/// naming one script thousands of times (or thousands of scripts in one directory) asks
/// the file system and the account files once per name, not once per script.
pub struct Memo<'a> {
    inner: &'a dyn Host,
    users: std::cell::RefCell<std::collections::BTreeMap<String, Option<Account>>>,
    groups: std::cell::RefCell<std::collections::BTreeMap<String, Option<u32>>>,
    stats: std::cell::RefCell<std::collections::BTreeMap<PathBuf, StatResult>>,
    own: std::cell::OnceCell<Account>,
}

impl<'a> Memo<'a> {
    pub fn new(inner: &'a dyn Host) -> Self {
        Memo {
            inner,
            users: Default::default(),
            groups: Default::default(),
            stats: Default::default(),
            own: Default::default(),
        }
    }
}

impl Host for Memo<'_> {
    fn user(&self, name: &str) -> Option<Account> {
        if let Some(a) = self.users.borrow().get(name) {
            return *a;
        }
        let a = self.inner.user(name);
        self.users.borrow_mut().insert(name.to_string(), a);
        a
    }
    fn group(&self, name: &str) -> Option<u32> {
        if let Some(g) = self.groups.borrow().get(name) {
            return *g;
        }
        let g = self.inner.group(name);
        self.groups.borrow_mut().insert(name.to_string(), g);
        g
    }
    fn lstat(&self, path: &Path) -> io::Result<Meta> {
        if let Some(r) = self.stats.borrow().get(path) {
            return r.clone().map_err(|(k, m)| io::Error::new(k, m));
        }
        let r = self.inner.lstat(path);
        let kept = match &r {
            Ok(m) => Ok(*m),
            Err(e) => Err((e.kind(), e.to_string())),
        };
        self.stats.borrow_mut().insert(path.to_path_buf(), kept);
        r
    }
    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        self.inner.read_link(path)
    }
    fn own_ids(&self) -> Account {
        *self.own.get_or_init(|| self.inner.own_ids())
    }
    fn search_path(&self) -> String {
        self.inner.search_path()
    }
}

/// Why a path is unsafe for a root script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unsafe {
    /// `path` is owned by a user other than root.
    Owner(PathBuf, u32),
    /// `path` is writable by a group other than root (and is not a sticky directory).
    GroupWritable(PathBuf, u32),
    /// `path` is writable by everyone (and is not a sticky directory).
    WorldWritable(PathBuf),
    /// The path could not be resolved (a missing component, a symlink loop).
    Unresolved(PathBuf, String),
}

impl std::fmt::Display for Unsafe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unsafe::Owner(p, uid) => write!(f, "{} is owned by uid {uid}", p.display()),
            Unsafe::GroupWritable(p, gid) => {
                write!(f, "{} is writable by group {gid}", p.display())
            }
            Unsafe::WorldWritable(p) => write!(f, "{} is writable by everyone", p.display()),
            Unsafe::Unresolved(p, why) => write!(f, "{}: {why}", p.display()),
        }
    }
}

/// Can a non-root user change this file or directory entry? A directory with the sticky
/// bit only lets owners rename or remove its entries, so it may be writable by others.
fn component_unsafe(path: &Path, m: &Meta) -> Option<Unsafe> {
    if m.uid != 0 {
        return Some(Unsafe::Owner(path.to_path_buf(), m.uid));
    }
    let sticky_dir = m.kind == Kind::Dir && m.mode & 0o1000 != 0;
    if sticky_dir {
        return None;
    }
    if m.mode & 0o002 != 0 {
        return Some(Unsafe::WorldWritable(path.to_path_buf()));
    }
    if m.mode & 0o020 != 0 && m.gid != 0 {
        return Some(Unsafe::GroupWritable(path.to_path_buf(), m.gid));
    }
    None
}

/// Every directory and file crossed on the way to `path`, symlinks followed (the
/// directories holding a symlink are crossed too): the physical path of the target and
/// each non-symlink step with its metadata, in order. `path` must be absolute.
fn walk(host: &dyn Host, path: &Path) -> Result<(PathBuf, Vec<(PathBuf, Meta)>), Unsafe> {
    let unresolved = |p: &Path, why: String| Unsafe::Unresolved(p.to_path_buf(), why);
    let mut steps = Vec::new();
    let root = Path::new("/");
    let m = host
        .lstat(root)
        .map_err(|e| unresolved(root, e.to_string()))?;
    steps.push((root.to_path_buf(), m));
    // Components still to visit, last first.
    let mut todo: Vec<std::ffi::OsString> = Vec::new();
    let push_all = |todo: &mut Vec<std::ffi::OsString>, p: &Path| {
        let mut comps: Vec<_> = p
            .components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n.to_os_string()),
                Component::ParentDir => Some("..".into()),
                _ => None,
            })
            .collect();
        comps.reverse();
        todo.extend(comps);
    };
    if !path.is_absolute() {
        return Err(unresolved(path, "not an absolute path".into()));
    }
    push_all(&mut todo, path);
    let mut here = PathBuf::from("/");
    let mut links = 0;
    while let Some(name) = todo.pop() {
        if name == ".." {
            here.pop();
            continue;
        }
        let next = here.join(&name);
        let m = host
            .lstat(&next)
            .map_err(|e| unresolved(&next, e.to_string()))?;
        if m.kind == Kind::Symlink {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(unresolved(path, "too many levels of symbolic links".into()));
            }
            let target = host
                .read_link(&next)
                .map_err(|e| unresolved(&next, e.to_string()))?;
            if target.is_absolute() {
                here = PathBuf::from("/");
            }
            push_all(&mut todo, &target);
            continue;
        }
        if !todo.is_empty() && m.kind != Kind::Dir {
            return Err(unresolved(&next, "not a directory".into()));
        }
        steps.push((next.clone(), m));
        here = next;
    }
    Ok((here, steps))
}

/// keepalived's `enable_script_security` rule for a script run as root: no directory on
/// the way to the program, no directory holding a symlink on that way, and not the program
/// itself may be owned by a non-root user, or writable by a non-root group or by everyone
/// (a sticky directory excepted). Stricter than keepalived 2.2.7, which checks only the
/// path after resolving symlinks, so that a symlink in a world-writable directory passes
/// there although anyone can replace it.
pub fn unsafe_path(host: &dyn Host, program: &Path) -> Option<Unsafe> {
    match walk(host, program) {
        Err(u) => Some(u),
        Ok((_, steps)) => steps.iter().find_map(|(p, m)| component_unsafe(p, m)),
    }
}

/// May `who` (with its primary group as its only group) search every directory on the
/// way to `program` and execute it? Root needs an execute bit on the file only.
pub fn executable_by(host: &dyn Host, program: &Path, who: Account) -> bool {
    let Ok((_, steps)) = walk(host, program) else {
        return false;
    };
    let Some(((_, file), dirs)) = steps.split_last() else {
        return false;
    };
    let may_exec = |m: &Meta| {
        if who.uid == 0 {
            return m.kind == Kind::Dir || m.mode & 0o111 != 0;
        }
        let bits = if m.uid == who.uid {
            m.mode >> 6
        } else if m.gid == who.gid {
            m.mode >> 3
        } else {
            m.mode
        };
        bits & 0o1 != 0
    };
    file.kind == Kind::File && may_exec(file) && dirs.iter().all(|(_, m)| may_exec(m))
}

/// Where a program is, before any permission check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// An existing file (symlinks followed).
    At(PathBuf),
    /// A path with a '/' that does not resolve to a file: why.
    Inaccessible(String),
    /// A bare name found in no directory of `PATH`.
    NotInPath,
}

/// Finds `argv0`: a path with a '/' is taken as it is (relative to '/', the daemon's
/// working directory); a bare name is looked for in each directory of the daemon's
/// `PATH`, the first file executable by `who` winning, else the first file at all.
pub fn find_program(host: &dyn Host, argv0: &str, who: Account) -> Found {
    let is_file = |p: &Path| matches!(walk(host, p), Ok((_, s)) if s.last().is_some_and(|(_, m)| m.kind == Kind::File));
    if argv0.contains('/') {
        let p = Path::new("/").join(argv0);
        return match walk(host, &p) {
            Ok((_, s)) if s.last().is_some_and(|(_, m)| m.kind == Kind::File) => Found::At(p),
            Ok(_) => Found::Inaccessible("not a regular file".into()),
            Err(Unsafe::Unresolved(_, why)) => Found::Inaccessible(why),
            Err(other) => Found::Inaccessible(other.to_string()),
        };
    }
    let path = host.search_path();
    let path = if path.is_empty() {
        DEFAULT_PATH.to_string()
    } else {
        path
    };
    let candidates: Vec<PathBuf> = path
        .split(':')
        .filter(|d| d.starts_with('/'))
        .map(|d| Path::new(d).join(argv0))
        .filter(|p| is_file(p))
        .collect();
    match candidates
        .iter()
        .find(|p| executable_by(host, p, who))
        .or(candidates.first())
    {
        Some(p) => Found::At(p.clone()),
        None => Found::NotInPath,
    }
}

/// The host this process runs on.
pub struct LiveHost;

/// Field `n` (0-based) of the colon-separated line of `file` whose first field is `name`.
#[allow(clippy::disallowed_methods)] // the live host's account files
fn db_field(file: &str, name: &str, n: usize) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&name))
        .and_then(|f| f.get(n).map(|s| s.to_string()))
}

/// `Uid:`/`Gid:` of /proc/self/status: (real, effective, ...) — the effective one.
#[allow(clippy::disallowed_methods)] // the live host's own ids
fn own_id(label: &str) -> Option<u32> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with(label))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

impl Host for LiveHost {
    fn user(&self, name: &str) -> Option<Account> {
        let uid = db_field("/etc/passwd", name, 2)?.parse().ok()?;
        let gid = db_field("/etc/passwd", name, 3)?.parse().ok()?;
        Some(Account { uid, gid })
    }

    fn group(&self, name: &str) -> Option<u32> {
        db_field("/etc/group", name, 2)?.parse().ok()
    }

    fn lstat(&self, path: &Path) -> io::Result<Meta> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::symlink_metadata(path)?;
        let ft = m.file_type();
        let kind = if ft.is_symlink() {
            Kind::Symlink
        } else if ft.is_dir() {
            Kind::Dir
        } else if ft.is_file() {
            Kind::File
        } else {
            Kind::Other
        };
        Ok(Meta {
            kind,
            uid: m.uid(),
            gid: m.gid(),
            mode: m.mode() & 0o7777,
        })
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::read_link(path)
    }

    fn own_ids(&self) -> Account {
        Account {
            uid: own_id("Uid:").unwrap_or(0),
            gid: own_id("Gid:").unwrap_or(0),
        }
    }

    fn search_path(&self) -> String {
        std::env::var("PATH").unwrap_or_default()
    }
}

/// An in-memory host for tests: a file tree, users `nobody` (65534:65534) and
/// `keepalived_script` when added, group `daemon` (1); the daemon runs as root.
#[cfg(test)]
pub(crate) mod fake {
    use super::*;
    use std::collections::BTreeMap;

    /// An in-memory file tree: path -> (meta, symlink target).
    #[derive(Default)]
    pub struct FakeHost {
        files: BTreeMap<PathBuf, (Meta, Option<PathBuf>)>,
        /// User `keepalived_script` (995:995) exists.
        pub script_user_exists: bool,
    }

    pub fn dir(mode: u32) -> Meta {
        Meta {
            kind: Kind::Dir,
            uid: 0,
            gid: 0,
            mode,
        }
    }

    pub fn file(mode: u32) -> Meta {
        Meta {
            kind: Kind::File,
            uid: 0,
            gid: 0,
            mode,
        }
    }

    impl FakeHost {
        /// `/`, `/bin` and `/etc/ka/` (0755 root) and `/etc/ka/chk` (0755 root).
        pub fn new() -> FakeHost {
            let mut h = FakeHost::default();
            h.put("/", dir(0o755));
            h.put("/etc", dir(0o755));
            h.put("/etc/ka", dir(0o755));
            h.put("/etc/ka/chk", file(0o755));
            h.put("/bin", dir(0o755));
            h.put("/bin/true", file(0o755));
            h
        }
        pub fn put(&mut self, p: &str, m: Meta) {
            self.files.insert(PathBuf::from(p), (m, None));
        }
        pub fn link(&mut self, p: &str, to: &str) {
            let m = Meta {
                kind: Kind::Symlink,
                uid: 0,
                gid: 0,
                mode: 0o777,
            };
            self.files
                .insert(PathBuf::from(p), (m, Some(PathBuf::from(to))));
        }
        pub fn set(&mut self, p: &str, f: impl FnOnce(&mut Meta)) {
            f(&mut self.files.get_mut(Path::new(p)).expect("fake path").0);
        }
    }

    impl Host for FakeHost {
        fn user(&self, name: &str) -> Option<Account> {
            match name {
                "nobody" => Some(Account {
                    uid: 65534,
                    gid: 65534,
                }),
                "root" => Some(Account { uid: 0, gid: 0 }),
                DEFAULT_SCRIPT_USER if self.script_user_exists => {
                    Some(Account { uid: 995, gid: 995 })
                }
                _ => None,
            }
        }
        fn group(&self, name: &str) -> Option<u32> {
            (name == "daemon").then_some(1)
        }
        fn lstat(&self, path: &Path) -> io::Result<Meta> {
            self.files
                .get(path)
                .map(|(m, _)| *m)
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        }
        fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
            self.files
                .get(path)
                .and_then(|(_, t)| t.clone())
                .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))
        }
        fn own_ids(&self) -> Account {
            Account { uid: 0, gid: 0 }
        }
        fn search_path(&self) -> String {
            "/usr/bin:/bin".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::{dir, file, FakeHost};
    use super::*;

    const ROOT: Account = Account { uid: 0, gid: 0 };
    const NOBODY: Account = Account {
        uid: 65534,
        gid: 65534,
    };

    fn unsafe_at(h: &FakeHost, p: &str) -> Option<Unsafe> {
        unsafe_path(h, Path::new(p))
    }

    #[test]
    fn a_root_owned_path_without_foreign_write_bits_is_safe() {
        let mut h = FakeHost::new();
        assert_eq!(unsafe_at(&h, "/etc/ka/chk"), None);
        // Group-writable by group root is still root's.
        h.set("/etc/ka/chk", |m| m.mode = 0o775);
        assert_eq!(unsafe_at(&h, "/etc/ka/chk"), None);
        // A sticky world-writable directory (like /tmp) holding a root file.
        h.set("/etc/ka", |m| m.mode = 0o1777);
        assert_eq!(unsafe_at(&h, "/etc/ka/chk"), None);
    }

    #[test]
    fn each_way_a_non_root_user_could_change_the_script_is_unsafe() {
        type Change = fn(&mut Meta);
        let cases: [(&str, Change); 6] = [
            ("/etc/ka/chk", |m| m.mode = 0o777),
            ("/etc/ka/chk", |m| m.uid = 1000),
            ("/etc/ka/chk", |m| {
                m.mode = 0o775;
                m.gid = 1
            }),
            ("/etc/ka", |m| m.mode = 0o777),
            ("/etc/ka", |m| m.uid = 65534),
            ("/etc", |m| {
                m.mode = 0o775;
                m.gid = 4
            }),
        ];
        for (i, (path, change)) in cases.into_iter().enumerate() {
            let mut h = FakeHost::new();
            h.set(path, change);
            let got = unsafe_at(&h, "/etc/ka/chk");
            assert!(
                matches!(&got, Some(u) if !matches!(u, Unsafe::Unresolved(..))),
                "case {i} ({path}): {got:?}"
            );
        }
        // A sticky bit on a file is no excuse.
        let mut h = FakeHost::new();
        h.set("/etc/ka/chk", |m| m.mode = 0o1777);
        assert!(unsafe_at(&h, "/etc/ka/chk").is_some());
    }

    #[test]
    fn symlinks_are_followed_and_the_directories_holding_them_checked() {
        let mut h = FakeHost::new();
        h.put("/opt", dir(0o755));
        h.link("/opt/chk", "/etc/ka/chk");
        assert_eq!(unsafe_at(&h, "/opt/chk"), None);
        // The target is unsafe: so is the link.
        h.set("/etc/ka/chk", |m| m.mode = 0o757);
        assert_eq!(
            unsafe_at(&h, "/opt/chk"),
            Some(Unsafe::WorldWritable("/etc/ka/chk".into()))
        );
        h.set("/etc/ka/chk", |m| m.mode = 0o755);
        // A safe target behind a link anyone can replace (keepalived 2.2.7 accepts it).
        h.set("/opt", |m| m.mode = 0o777);
        assert_eq!(
            unsafe_at(&h, "/opt/chk"),
            Some(Unsafe::WorldWritable("/opt".into()))
        );
        // Relative links and "..".
        let mut h = FakeHost::new();
        h.link("/etc/ka/rel", "../ka/chk");
        assert_eq!(unsafe_at(&h, "/etc/ka/rel"), None);
        h.set("/etc/ka/chk", |m| m.uid = 7);
        assert_eq!(
            unsafe_at(&h, "/etc/ka/rel"),
            Some(Unsafe::Owner("/etc/ka/chk".into(), 7))
        );
        // A loop, and a dangling link.
        let mut h = FakeHost::new();
        h.link("/etc/ka/a", "/etc/ka/b");
        h.link("/etc/ka/b", "/etc/ka/a");
        assert!(matches!(
            unsafe_at(&h, "/etc/ka/a"),
            Some(Unsafe::Unresolved(..))
        ));
        h.link("/etc/ka/c", "/nowhere");
        assert!(matches!(
            unsafe_at(&h, "/etc/ka/c"),
            Some(Unsafe::Unresolved(..))
        ));
    }

    #[test]
    fn executable_for_the_user_that_runs_it() {
        let mut h = FakeHost::new();
        let p = Path::new("/etc/ka/chk");
        assert!(executable_by(&h, p, ROOT));
        assert!(executable_by(&h, p, NOBODY));
        h.set("/etc/ka/chk", |m| m.mode = 0o744);
        assert!(executable_by(&h, p, ROOT));
        assert!(!executable_by(&h, p, NOBODY));
        h.set("/etc/ka/chk", |m| m.mode = 0o644);
        assert!(!executable_by(&h, p, ROOT));
        // Owner and group bits for their owner and group.
        h.set("/etc/ka/chk", |m| {
            m.mode = 0o710;
            m.uid = 65534
        });
        assert!(executable_by(&h, p, NOBODY));
        h.set("/etc/ka/chk", |m| {
            m.mode = 0o070;
            m.uid = 0;
            m.gid = 65534
        });
        assert!(executable_by(&h, p, NOBODY));
        // A directory the user cannot search.
        h.set("/etc/ka/chk", |m| m.mode = 0o755);
        h.set("/etc/ka", |m| m.mode = 0o700);
        assert!(!executable_by(&h, p, NOBODY));
        assert!(executable_by(&h, p, ROOT));
        // Not a file.
        assert!(!executable_by(&h, Path::new("/etc/ka"), ROOT));
        assert!(!executable_by(&h, Path::new("/etc/nope"), ROOT));
    }

    #[test]
    fn programs_are_found_by_path_or_on_path() {
        let mut h = FakeHost::new();
        assert_eq!(
            find_program(&h, "/etc/ka/chk", ROOT),
            Found::At("/etc/ka/chk".into())
        );
        assert!(matches!(
            find_program(&h, "/etc/ka/none", ROOT),
            Found::Inaccessible(_)
        ));
        assert!(matches!(
            find_program(&h, "/etc/ka", ROOT),
            Found::Inaccessible(_)
        ));
        assert_eq!(
            find_program(&h, "true", ROOT),
            Found::At("/bin/true".into())
        );
        assert_eq!(find_program(&h, "nope", ROOT), Found::NotInPath);
        // An executable later on PATH beats an earlier one that is not.
        h.put("/usr", dir(0o755));
        h.put("/usr/bin", dir(0o755));
        h.put("/usr/bin/true", file(0o644));
        assert_eq!(
            find_program(&h, "true", ROOT),
            Found::At("/bin/true".into())
        );
        h.set("/bin/true", |m| m.mode = 0o644);
        assert_eq!(
            find_program(&h, "true", ROOT),
            Found::At("/usr/bin/true".into())
        );
    }

    #[test]
    fn the_live_host_reads_this_machine() {
        let h = LiveHost;
        let root = h.user("root").expect("root is in /etc/passwd");
        assert_eq!(root, Account { uid: 0, gid: 0 });
        assert_eq!(h.group("root"), Some(0));
        assert_eq!(h.user("no-such-user-krs"), None);
        assert_eq!(
            h.lstat(Path::new("/")).map(|m| m.kind).ok(),
            Some(Kind::Dir)
        );
        // The test's own effective ids, as the kernel reports them for a file we create.
        let p = std::env::temp_dir().join(format!("krs-sc-{}", std::process::id()));
        #[allow(clippy::disallowed_methods)] // a test file of our own
        std::fs::write(&p, "x").expect("temp file");
        let m = h.lstat(&p).expect("lstat");
        let _ = std::fs::remove_file(&p);
        assert_eq!(h.own_ids().uid, m.uid);
        assert!(matches!(
            find_program(&h, "sh", h.own_ids()),
            Found::At(ref p) if p.ends_with("sh")
        ));
    }
}
