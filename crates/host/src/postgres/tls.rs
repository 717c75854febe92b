//! TLS to Postgres as Spin negotiates it: unless the connection string says
//! `sslmode=disable`, the client asks the server for TLS (falling back to plain text
//! only when the server declines) and verifies the certificate the server offers
//! against the system's root certificates and the host name or IP address it dialled.
//! So a server with a self-signed certificate (Debian's default "snakeoil" one) is
//! refused, as Spin refuses it, and local URLs need `?sslmode=disable` on both.
//!
//! Spin does this with native-tls (OpenSSL); the host uses the rustls and ring that
//! wasmtime-wasi-http already brings. What is accepted and refused is the same; the
//! wording of a refusal is rustls' own.

use std::sync::{Arc, OnceLock};

use anyhow::Context;
use rustls::ClientConfig;
use tokio_postgres_rustls::MakeRustlsConnect;

/// A connector that verifies the server's certificate like Spin's.
pub fn verifying_connector() -> anyhow::Result<MakeRustlsConnect> {
    Ok(MakeRustlsConnect::new(client_config()?.clone()))
}

/// Built once: reading the system's roots reads every certificate under
/// `/etc/ssl/certs`, and the roots don't change while the host runs.
fn client_config() -> anyhow::Result<&'static ClientConfig> {
    static CONFIG: OnceLock<Result<ClientConfig, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| build_client_config().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

fn build_client_config() -> anyhow::Result<ClientConfig> {
    // Roots that fail to load are left out, as OpenSSL leaves them out; with no roots
    // at all every certificate is refused, which is also what Spin would do.
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    // The provider is named here rather than taken from the process default, which a
    // library can't rely on being installed (or being unambiguous).
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions for Postgres")?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(config)
}
