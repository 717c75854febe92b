//! The app in a real `spin up` process, reached over HTTP on 127.0.0.1.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

/// The first start compiles every component (later ones hit Spin's cache); two tests
/// may be compiling at once on a small machine.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(180);
/// A request that has no answer by then is a hang, not a slow answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `spin up` may take to stop its trigger process after SIGINT.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// The Spin binary the tests run on (`SPIN_BIN`), if any.
pub fn spin_bin() -> Option<PathBuf> {
    std::env::var_os("SPIN_BIN")
        .filter(|bin| !bin.is_empty())
        .map(PathBuf::from)
}

/// A running `spin up`, stopped when dropped (so also when its test panics).
pub struct Spin {
    child: Child,
    address: SocketAddr,
    /// Component logs and spin's own output; kept only when the test fails.
    log_dir: PathBuf,
}

impl Spin {
    /// Starts `spin up` for `manifest` with `variables` (as `SPIN_VARIABLE_<NAME>`)
    /// and waits until it serves.
    pub async fn start(
        bin: &Path,
        manifest: &Path,
        variables: &[(String, String)],
        name: &str,
    ) -> Spin {
        let log_dir = std::env::temp_dir().join(format!("spinshop-spin-{name}"));
        std::fs::create_dir_all(&log_dir).expect("creating spin's log dir");
        let output = |file: &str| {
            std::fs::File::create(log_dir.join(file)).expect("creating spin's output file")
        };
        let address = free_address();
        let mut command = Command::new(bin);
        command
            .arg("up")
            .arg("--from")
            .arg(manifest)
            .arg("--listen")
            .arg(address.to_string())
            .arg("--log-dir")
            .arg(&log_dir)
            .arg("--state-dir")
            .arg(&log_dir)
            // The key-value store (the rate-limit counters) in memory, as `./dev up`
            // keeps it: this test's alone.
            .arg("--runtime-config-file")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime-config.local.toml"))
            .stdin(Stdio::null())
            .stdout(output("spin.stdout.txt"))
            .stderr(output("spin.stderr.txt"));
        // The test's variables only, as the test host's `env_overrides(false)`.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("SPIN_VARIABLE_") {
                command.env_remove(key);
            }
        }
        for (variable, value) in variables {
            command.env(format!("SPIN_VARIABLE_{}", variable.to_uppercase()), value);
        }
        let child = command
            .spawn()
            .unwrap_or_else(|err| panic!("starting {}: {err}", bin.display()));
        let mut spin = Spin {
            child,
            address,
            log_dir,
        };
        spin.wait_until_serving().await;
        spin
    }

    async fn wait_until_serving(&mut self) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("checking on spin up") {
                panic!(
                    "spin up exited ({status}) before serving:\n{}",
                    self.stderr()
                );
            }
            if tokio::net::TcpStream::connect(self.address).await.is_ok() {
                return;
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                panic!(
                    "spin up did not serve on {} within {STARTUP_TIMEOUT:?}:\n{}",
                    self.address,
                    self.stderr()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.log_dir.join("spin.stderr.txt")).unwrap_or_default()
    }

    /// Where `spin up` listens.
    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    /// Sends `request` on a connection of its own, as an outside client would.
    pub async fn send(&self, request: http::Request<Bytes>) -> http::Response<Bytes> {
        tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(request))
            .await
            .unwrap_or_else(|_| panic!("spin up gave no answer within {REQUEST_TIMEOUT:?}"))
    }

    async fn exchange(&self, request: http::Request<Bytes>) -> http::Response<Bytes> {
        let stream = tokio::net::TcpStream::connect(self.address)
            .await
            .unwrap_or_else(|err| panic!("connecting to spin up on {}: {err}", self.address));
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("an HTTP/1.1 connection to spin up");
        tokio::spawn(connection);
        let (mut parts, body) = request.into_parts();
        parts
            .headers
            .entry(http::header::HOST)
            .or_insert_with(|| self.address.to_string().parse().expect("a Host header"));
        let response = sender
            .send_request(http::Request::from_parts(parts, Full::new(body)))
            .await
            .unwrap_or_else(|err| panic!("sending a request to spin up: {err}"));
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .unwrap_or_else(|err| panic!("reading spin up's response: {err}"))
            .to_bytes();
        http::Response::from_parts(parts, body)
    }
}

impl Drop for Spin {
    fn drop(&mut self) {
        // SIGINT, as Ctrl+C: `spin up` then stops the trigger process it started,
        // which holds the port and the Postgres connections. SIGKILL would orphan it.
        // SAFETY: kill(2) on the id of a child we have not reaped yet.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGINT) };
        let started = Instant::now();
        while matches!(self.child.try_wait(), Ok(None)) && started.elapsed() < SHUTDOWN_TIMEOUT {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let _ = writeln!(
                std::io::stderr(),
                "spin logs of the failed test: {}",
                self.log_dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.log_dir);
        }
    }
}

/// A port nothing listens on now, for `spin up --listen`.
pub(crate) fn free_address() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
}
