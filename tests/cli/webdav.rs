//! A real WebDAV server for the sync tests: Debian's Apache 2 with mod_dav, mod_dav_fs and
//! mod_auth_basic (`apache2`, `apache2-utils`), configured in a temporary directory, listening
//! on 127.0.0.1 only, run in the foreground (`-X`, one process) and stopped by its PID. As
//! root (CI), Apache serves as `nobody` (`User #65534`) and the served folder is that user's.
//! Without Apache the WebDAV tests print `SKIPPED: <reason>` and return.

use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The WebDAV login the server accepts.
pub const DAV_USER: &str = "alice";
pub const DAV_PASSWORD: &str = "webdav password 7";

const APACHE: &str = "/usr/sbin/apache2";
const HTPASSWD: &str = "/usr/bin/htpasswd";
const MODULES: &str = "/usr/lib/apache2/modules";
/// `nobody`/`nogroup` on Debian: whom Apache serves as when started by root.
const NOBODY: u32 = 65534;

pub struct Apache {
    /// The sync collection's address, without a trailing `/` (the target adds it).
    pub url: String,
    /// The folder Apache serves at `url`: the test reads and alters the files there.
    pub dir: PathBuf,
    root: PathBuf,
    child: Child,
}

impl Drop for Apache {
    fn drop(&mut self) {
        // Child::kill sends SIGKILL to exactly this PID (-X: the one Apache process).
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("Apache's files and error.log: {}", self.root.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Apache {
    /// Starts Apache serving an empty collection; `Err(reason)` when it cannot run here
    /// (not installed), which the caller prints as `SKIPPED: <reason>`.
    pub fn start(name: &str) -> Result<Apache, String> {
        for (path, package) in [
            (APACHE, "apache2"),
            (HTPASSWD, "apache2-utils"),
            (MODULES, "apache2"),
        ] {
            if !Path::new(path).exists() {
                return Err(format!(
                    "{path} is missing (Debian package {package}: tests/app/install installs it)"
                ));
            }
        }
        let root =
            std::env::temp_dir().join(format!("twofold-webdav-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let www = root.join("www");
        let dir = www.join("sync");
        let lock = root.join("lock");
        for d in [&dir, &lock, &root.join("run")] {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        let htpasswd = root.join("htpasswd");
        let out = Command::new(HTPASSWD)
            .arg("-cbB")
            .arg(&htpasswd)
            .args([DAV_USER, DAV_PASSWORD])
            .output()
            .map_err(|e| format!("htpasswd: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "htpasswd failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let as_root = std::fs::metadata("/proc/self")
            .map(|m| m.uid() == 0)
            .unwrap_or(false);
        let user = if as_root {
            // Apache refuses to serve as root: it switches to nobody, who must own what it
            // writes (the collection and the lock database) and read the password file.
            for d in [&www, &dir, &lock] {
                std::os::unix::fs::chown(d, Some(NOBODY), Some(NOBODY))
                    .map_err(|e| format!("chown {}: {e}", d.display()))?;
            }
            format!("User #{NOBODY}\nGroup #{NOBODY}\n")
        } else {
            String::new()
        };
        std::fs::set_permissions(
            &htpasswd,
            std::os::unix::fs::PermissionsExt::from_mode(0o644),
        )
        .map_err(|e| e.to_string())?;
        let port = free_port();
        let r = root.display();
        let modules: String = [
            ("mpm_prefork", "mod_mpm_prefork"),
            ("authn_core", "mod_authn_core"),
            ("authn_file", "mod_authn_file"),
            ("authz_core", "mod_authz_core"),
            ("authz_user", "mod_authz_user"),
            ("auth_basic", "mod_auth_basic"),
            ("dav", "mod_dav"),
            ("dav_fs", "mod_dav_fs"),
        ]
        .iter()
        .map(|(m, f)| format!("LoadModule {m}_module {MODULES}/{f}.so\n"))
        .collect();
        let config = format!(
            "ServerRoot {r}\n\
             Listen 127.0.0.1:{port}\n\
             ServerName 127.0.0.1\n\
             PidFile {r}/httpd.pid\n\
             ErrorLog {r}/error.log\n\
             LogLevel warn\n\
             DefaultRuntimeDir {r}/run\n\
             {modules}{user}\
             DavLockDB {r}/lock/DavLock\n\
             DocumentRoot {r}/www\n\
             <Directory {r}/www>\n\
               Dav On\n\
               AuthType Basic\n\
               AuthName twofold\n\
               AuthUserFile {r}/htpasswd\n\
               Require valid-user\n\
             </Directory>\n"
        );
        std::fs::write(root.join("httpd.conf"), config).map_err(|e| e.to_string())?;
        let child = Command::new(APACHE)
            .arg("-f")
            .arg(root.join("httpd.conf"))
            .arg("-X")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{APACHE}: {e}"))?;
        let mut server = Apache {
            url: format!("http://127.0.0.1:{port}/sync"),
            dir,
            root,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let log = || std::fs::read_to_string(server.root.join("error.log")).unwrap_or_default();
            // Apache's own failures are the test's: a broken fixture must not pass as a skip.
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("Apache exited ({status}): {}", log());
            }
            if Instant::now() > deadline {
                panic!("Apache did not listen within 30 s: {}", log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }
}

/// Apache for a test, or `None` after printing why the test is skipped.
pub fn apache(name: &str) -> Option<Apache> {
    match Apache::start(name) {
        Ok(a) => Some(a),
        Err(reason) => {
            println!("SKIPPED: {reason}");
            None
        }
    }
}
