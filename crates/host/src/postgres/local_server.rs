//! A Postgres server for tests and local runs: the one on 127.0.0.1:5432 when it
//! answers, or else one started from Debian's Postgres binaries in a data directory
//! of our own (initialised on first use, trust auth for `postgres`, kept running for
//! the next test binary or run to reuse). For the host's TLS tests, also a server of
//! our own with TLS on and a self-signed certificate, as Debian's packaged one has.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};

const DEFAULT_ADDRESS: &str = "127.0.0.1:5432";
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
    own_server(data_dir, Tls::Off)
}

/// `host:port` of a server of our own, never the one on 5432 (whose TLS set-up is the
/// machine's), with `ssl = on` and a self-signed certificate valid for 127.0.0.1: a
/// certificate no client can verify, like the "snakeoil" one Debian's Postgres ships.
pub fn ensure_tls_server() -> anyhow::Result<String> {
    ensure_tls_server_in(&std::env::temp_dir().join("spinshop-postgres-tls"))
}

/// Like [`ensure_tls_server`], kept in `data_dir`.
pub fn ensure_tls_server_in(data_dir: &Path) -> anyhow::Result<String> {
    own_server(data_dir, Tls::SelfSigned)
}

enum Tls {
    Off,
    SelfSigned,
}

fn own_server(data_dir: &Path, tls: Tls) -> anyhow::Result<String> {
    if let Ok(port) = std::fs::read_to_string(data_dir.join(PORT_FILE)) {
        let address = format!("127.0.0.1:{}", port.trim());
        if answers(&address) {
            return Ok(address);
        }
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
        "-k {} -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off",
        data_dir.display()
    );
    if let Tls::SelfSigned = tls {
        ensure_self_signed_certificate(&data_dir, &user)?;
        // server.crt and server.key in the data directory are Postgres' defaults.
        options.push_str(" -c ssl=on");
    }
    let port = free_port()?;
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
