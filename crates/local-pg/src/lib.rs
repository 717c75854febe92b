//! A Postgres server for tests and local runs: the one on 127.0.0.1:5432 when it
//! answers, or else one started from Debian's Postgres binaries in a data directory
//! of our own (initialised on first use, trust auth for `postgres`, kept running for
//! the next test binary or run to reuse). For the host's TLS tests, also a server of
//! our own with TLS on and a self-signed certificate, as Debian's packaged one has;
//! for tests that size or restart their server, one of their own with the
//! `max_connections` they choose, stopped and started again on the same port.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};

const DEFAULT_ADDRESS: &str = "127.0.0.1:5432";
/// `max_connections` of the servers we start: what docs/running.md asks of a server for
/// spin.toml's six services (64 pooled connections each, Spin's pool size, so 384,
/// plus the superuser's reserved slots and room for `migrate` and `psql`: 397); the
/// tests, which run several apps side by side on one server, give each pool fewer.
pub const MAX_CONNECTIONS: u32 = 400;
/// Where the address of a server we started is kept, inside its data directory.
const PORT_FILE: &str = "spinshop.port";

/// `host:port` of a Postgres server accepting `postgres` without a password.
pub fn ensure_server() -> anyhow::Result<String> {
    if answers(DEFAULT_ADDRESS) {
        return Ok(DEFAULT_ADDRESS.to_string());
    }
    ensure_server_in(&std::env::temp_dir().join("spinshop-postgres"))
}

/// Like [`ensure_server`], with a server of our own kept in `data_dir`.
pub fn ensure_server_in(data_dir: &Path) -> anyhow::Result<String> {
    if answers(DEFAULT_ADDRESS) {
        return Ok(DEFAULT_ADDRESS.to_string());
    }
    own_server(data_dir, Tls::Off, MAX_CONNECTIONS)
}

/// `host:port` of a server of our own in `data_dir`, never the one on 5432, allowing
/// `max_connections` (a server already running there keeps what it was started with).
pub fn own_server_in(data_dir: &Path, max_connections: u32) -> anyhow::Result<String> {
    own_server(data_dir, Tls::Off, max_connections)
}

/// Whether this machine has the Postgres binaries to start servers of our own.
pub fn can_start_servers() -> bool {
    postgres_bin_dir().is_ok()
}

/// Stops the server of our own in `data_dir` ("fast": open sessions are ended and
/// their transactions rolled back). Starting it again with [`own_server_in`] brings
/// it back on the same port when that is still free.
pub fn stop_server_in(data_dir: &Path) -> anyhow::Result<()> {
    let bin = postgres_bin_dir()?;
    let data_dir = std::fs::canonicalize(data_dir)
        .with_context(|| format!("no server in {}", data_dir.display()))?;
    ServerUser::for_this_process(&data_dir)?
        .run(
            Command::new(bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data_dir)
                .args(["-m", "fast", "-w", "stop"]),
        )
        .context("pg_ctl stop")
}

/// `host:port` of a server of our own, never the one on 5432 (whose TLS set-up is the
/// machine's), with `ssl = on` and a self-signed certificate valid for 127.0.0.1: a
/// certificate no client can verify, like the "snakeoil" one Debian's Postgres ships.
pub fn ensure_tls_server() -> anyhow::Result<String> {
    ensure_tls_server_in(&std::env::temp_dir().join("spinshop-postgres-tls"))
}

/// Like [`ensure_tls_server`], kept in `data_dir`.
pub fn ensure_tls_server_in(data_dir: &Path) -> anyhow::Result<String> {
    own_server(data_dir, Tls::SelfSigned, MAX_CONNECTIONS)
}

enum Tls {
    Off,
    SelfSigned,
}

fn own_server(data_dir: &Path, tls: Tls, max_connections: u32) -> anyhow::Result<String> {
    let recorded_port = std::fs::read_to_string(data_dir.join(PORT_FILE))
        .ok()
        .and_then(|port| port.trim().parse::<u16>().ok());
    if let Some(port) = recorded_port
        && answers(&format!("127.0.0.1:{port}"))
    {
        return Ok(format!("127.0.0.1:{port}"));
    }
    let bin = postgres_bin_dir()?;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let data_dir = std::fs::canonicalize(data_dir)?;
    let user = ServerUser::for_this_process(&data_dir)?;
    if !data_dir.join("PG_VERSION").exists() {
        user.run(
            Command::new(bin.join("initdb"))
                .args([
                    "--username=postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                ])
                .arg("-D")
                .arg(&data_dir),
        )
        .context("initdb")?;
    }
    let mut options = format!(
        "-k {} -c listen_addresses=127.0.0.1 -c max_connections={max_connections} -c fsync=off",
        data_dir.display()
    );
    if let Tls::SelfSigned = tls {
        ensure_self_signed_certificate(&data_dir, &user)?;
        // server.crt and server.key in the data directory are Postgres' defaults.
        options.push_str(" -c ssl=on");
    }
    // The same port as before when it is free: clients that knew the server find it.
    let port = match recorded_port {
        Some(port) if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() => port,
        _ => free_port()?,
    };
    let options = format!("-p {port} {options}");
    user.run(
        Command::new(bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data_dir)
            .args(["-o", &options, "-l"])
            .arg(data_dir.join("server.log"))
            .args(["-w", "start"]),
    )
    .context("pg_ctl start")?;
    std::fs::write(data_dir.join(PORT_FILE), port.to_string())?;
    let address = format!("127.0.0.1:{port}");
    if !answers(&address) {
        bail!(
            "started Postgres in {} but it does not answer on {address}",
            data_dir.display()
        );
    }
    Ok(address)
}

/// Writes `server.crt` and `server.key` into the data directory unless they are there.
/// The `openssl` command is always present where Debian's Postgres is (postgresql-common
/// depends on ssl-cert, which depends on openssl, to make the snakeoil certificate), so
/// no certificate library is needed. It runs as the server's user, so the key is the
/// server's own, as Postgres requires.
fn ensure_self_signed_certificate(data_dir: &Path, user: &ServerUser) -> anyhow::Result<()> {
    let (cert, key) = (data_dir.join("server.crt"), data_dir.join("server.key"));
    if cert.exists() && key.exists() {
        return Ok(());
    }
    user.run(
        Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec"])
            .args(["-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
            .args(["-days", "3650", "-subj", "/CN=127.0.0.1"])
            // A server's certificate, not a CA's (as `req -x509` makes by default), so
            // the only fault a client can find is that no one it trusts signed it.
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert),
    )
    .context("making a self-signed certificate with openssl")?;
    // Postgres refuses a key that others can read.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("chmod 600 {}", key.display()))?;
    Ok(())
}

fn answers(address: &str) -> bool {
    address
        .parse::<SocketAddr>()
        .is_ok_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok())
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// The newest `/usr/lib/postgresql/<version>/bin`.
fn postgres_bin_dir() -> anyhow::Result<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .context(
            "no Postgres on 127.0.0.1:5432 and no /usr/lib/postgresql (apt-get install postgresql)",
        )?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .context("no initdb under /usr/lib/postgresql/*/bin")
}

/// Postgres refuses to run as root: as root, the server runs as the `postgres` user
/// (which owns the data directory).
enum ServerUser {
    Current,
    Postgres,
}

impl ServerUser {
    fn for_this_process(data_dir: &Path) -> anyhow::Result<ServerUser> {
        let uid = Command::new("id")
            .arg("-u")
            .output()
            .context("running id -u")?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            return Ok(ServerUser::Current);
        }
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(data_dir)
            .status()
            .context("running chown")?;
        if !status.success() {
            bail!("chown postgres {} failed", data_dir.display());
        }
        Ok(ServerUser::Postgres)
    }

    fn run(&self, command: &mut Command) -> anyhow::Result<()> {
        let output = match self {
            ServerUser::Current => command.output(),
            ServerUser::Postgres => {
                let mut setpriv = Command::new("setpriv");
                setpriv
                    .args([
                        "--reuid=postgres",
                        "--regid=postgres",
                        "--init-groups",
                        "--",
                    ])
                    .arg(command.get_program())
                    .args(command.get_args())
                    .current_dir("/");
                setpriv.output()
            }
        }
        .with_context(|| format!("running {:?}", command.get_program()))?;
        if !output.status.success() {
            bail!(
                "{:?} failed: {}{}",
                command.get_program(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }
}
