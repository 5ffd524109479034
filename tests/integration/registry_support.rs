//! A real container registry for tests: Debian's docker-registry (distribution 2.8) on a free
//! loopback port, config and storage in a temporary folder, stopped when dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the registry binary is; BULWARK_TEST_REGISTRY overrides it.
const DEFAULT_BINARY: &str = "/usr/bin/docker-registry";
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Another test may take the port between our probe and the registry's bind; try again then.
const START_ATTEMPTS: usize = 5;

pub struct TestRegistry {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl TestRegistry {
    /// An open registry: anyone may pull and push.
    pub fn start() -> TestRegistry {
        Self::start_with(None)
    }

    /// A registry that wants HTTP Basic credentials (a bcrypt htpasswd file, made with
    /// `htpasswd -Bbn` from apache2-utils). Distribution 2.8 accepts this without TLS.
    pub fn start_with_htpasswd(username: &str, password: &str) -> TestRegistry {
        Self::start_with(Some((username, password)))
    }

    /// "127.0.0.1:PORT", the registry part of an image reference.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn start_with(credentials: Option<(&str, &str)>) -> TestRegistry {
        let binary = std::env::var("BULWARK_TEST_REGISTRY").unwrap_or_else(|_| DEFAULT_BINARY.to_string());
        let dir = tempfile::tempdir().expect("temporary folder for the registry");
        let htpasswd = credentials.map(|(username, password)| write_htpasswd(dir.path(), username, password));

        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let config = dir.path().join("config.yml");
            std::fs::write(&config, registry_config(dir.path(), port, htpasswd.as_deref())).expect("write the registry config");
            let log_path = dir.path().join(format!("registry-{port}.log"));
            let log = std::fs::File::create(&log_path).expect("registry log file");
            let mut child = Command::new(&binary)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("registry log file"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {binary} ({e}); install it with `apt-get install docker-registry`"));
            match wait_until_ready(&mut child, port) {
                Ready::Yes => return TestRegistry { port, child, _dir: dir },
                outcome => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
                    if outcome == Ready::Exited && output.contains("address already in use") {
                        continue;
                    }
                    panic!("the registry on port {port} did not start:\n{output}");
                }
            }
        }
        panic!("the registry found no free port after {START_ATTEMPTS} attempts");
    }
}

#[derive(PartialEq)]
enum Ready {
    Yes,
    Exited,
    TimedOut,
}

/// Polls `GET /v2/` until the registry answers (200, or 401 when it wants credentials).
fn wait_until_ready(child: &mut Child, port: u16) -> Ready {
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return Ready::Exited;
        }
        if answers_v2(port) {
            return Ready::Yes;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ready::TimedOut
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port").port()
}

fn answers_v2(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    let mut answer = [0u8; 12];
    stream.write_all(request.as_bytes()).is_ok() && stream.read_exact(&mut answer).is_ok() && answer.starts_with(b"HTTP/1.")
}

fn write_htpasswd(dir: &Path, username: &str, password: &str) -> PathBuf {
    let output =
        Command::new("htpasswd").args(["-Bbn", username, password]).output().unwrap_or_else(|e| panic!("cannot run htpasswd ({e}); install apache2-utils"));
    assert!(output.status.success(), "htpasswd failed: {}", String::from_utf8_lossy(&output.stderr));
    let path = dir.join("htpasswd");
    std::fs::write(&path, output.stdout).expect("write the htpasswd file");
    path
}

fn registry_config(dir: &Path, port: u16, htpasswd: Option<&Path>) -> String {
    let storage = dir.join("storage");
    let auth = match htpasswd {
        Some(path) => format!("auth:\n  htpasswd:\n    realm: bulwark-test\n    path: {}\n", path.display()),
        None => String::new(),
    };
    format!(
        "version: 0.1\n\
         log:\n  level: warn\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: bulwark-test-only\n\
         {auth}",
        storage.display()
    )
}
