//! `allowed_outbound_hosts`: which hosts a component may reach, in Spin's syntax
//! (`<scheme>://<host>[:<port>]`, each part may be `*`; `*.domain` for subdomains;
//! ports as `N` or `A..B`; no port means the scheme's well-known one). `self` (or
//! `self.alt`) as host permits requests to the app itself.

use anyhow::{Context, bail};

#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    entries: Vec<AllowedHost>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct AllowedHost {
    /// `None` for `*`.
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// `*.example.com` stored as `.example.com`.
    Subdomain(String),
    Exact(String),
    ToSelf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Exact(u16),
    /// Half-open, like Spin's `A..B`.
    Range(u16, u16),
}

impl AllowedHosts {
    /// Parses entries whose `{{ }}` templates are already expanded.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> anyhow::Result<AllowedHosts> {
        let entries = entries
            .iter()
            .map(|entry| AllowedHost::parse(entry.as_ref()))
            .collect::<anyhow::Result<_>>()?;
        Ok(AllowedHosts { entries })
    }

    /// May the component reach `scheme://host[:port]`?
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let host = host.to_ascii_lowercase();
        let Some(port) = port.or_else(|| well_known_port(scheme)) else {
            return false;
        };
        self.entries.iter().any(|entry| {
            entry.scheme.as_deref().is_none_or(|s| s == scheme)
                && entry.host.allows(&host)
                && entry.port.allows(port)
        })
    }

    /// May the component send requests to the app itself (relative URLs)?
    pub fn allows_self(&self) -> bool {
        self.entries.iter().any(|entry| {
            entry
                .scheme
                .as_deref()
                .is_none_or(|s| s == "http" || s == "https")
                && matches!(entry.host, HostPattern::Any | HostPattern::ToSelf)
        })
    }
}

impl AllowedHost {
    fn parse(entry: &str) -> anyhow::Result<AllowedHost> {
        let trimmed = entry.trim();
        let (scheme, rest) = trimmed.split_once("://").with_context(|| {
            format!("allowed host {entry:?} has no scheme (write e.g. \"https://example.com\")")
        })?;
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') {
            bail!("allowed host {entry:?} must not contain a path");
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => (host, port),
            _ => (rest, ""),
        };
        let scheme = match scheme {
            "*" => None,
            s if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphabetic()) => Some(s.to_string()),
            s => bail!("allowed host {entry:?}: invalid scheme {s:?}"),
        };
        let host = match host {
            "*" => HostPattern::Any,
            "self" | "self.alt" => HostPattern::ToSelf,
            h if h.starts_with("*.") && !h[2..].contains('*') => {
                HostPattern::Subdomain(h[1..].to_ascii_lowercase())
            }
            h if h.is_empty() || h.contains('*') => {
                bail!("allowed host {entry:?}: wildcards may only be a whole host or a `*.` prefix")
            }
            h => HostPattern::Exact(h.to_ascii_lowercase()),
        };
        let port = match port {
            "" => {
                let scheme = scheme.as_deref().unwrap_or("*");
                let port = well_known_port(scheme).with_context(|| {
                    format!("allowed host {entry:?}: no port, and {scheme:?} has no default port")
                })?;
                PortPattern::Exact(port)
            }
            "*" => PortPattern::Any,
            p => match p.split_once("..") {
                Some((start, end)) => PortPattern::Range(
                    start
                        .parse()
                        .with_context(|| format!("port range in {entry:?}"))?,
                    end.parse()
                        .with_context(|| format!("port range in {entry:?}"))?,
                ),
                None => {
                    PortPattern::Exact(p.parse().with_context(|| format!("port in {entry:?}"))?)
                }
            },
        };
        Ok(AllowedHost { scheme, host, port })
    }
}

impl HostPattern {
    fn allows(&self, host: &str) -> bool {
        match self {
            HostPattern::Any => true,
            HostPattern::Subdomain(suffix) => host.ends_with(suffix.as_str()),
            HostPattern::Exact(h) => h == host,
            HostPattern::ToSelf => false,
        }
    }
}

impl PortPattern {
    fn allows(&self, port: u16) -> bool {
        match self {
            PortPattern::Any => true,
            PortPattern::Exact(p) => *p == port,
            PortPattern::Range(start, end) => (*start..*end).contains(&port),
        }
    }
}

fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(entries: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(entries).expect("valid entries")
    }

    #[test]
    fn scheme_host_and_default_port_must_all_match() {
        let h = hosts(&["http://users.spin.internal", "postgres://127.0.0.1:5433"]);
        assert!(h.allows("http", "users.spin.internal", None));
        assert!(h.allows("http", "users.spin.internal", Some(80)));
        assert!(!h.allows("https", "users.spin.internal", None));
        assert!(!h.allows("http", "users.spin.internal", Some(8080)));
        assert!(!h.allows("http", "orders.spin.internal", None));
        assert!(h.allows("postgres", "127.0.0.1", Some(5433)));
        assert!(!h.allows("postgres", "127.0.0.1", None));
    }

    #[test]
    fn wildcards_cover_schemes_subdomains_and_ports() {
        let h = hosts(&[
            "*://*.spin.internal:*",
            "https://api.example.com:8000..8002",
        ]);
        assert!(h.allows("http", "a.spin.internal", Some(1234)));
        assert!(!h.allows("http", "spin.internal.evil", None));
        assert!(h.allows("https", "api.example.com", Some(8001)));
        assert!(!h.allows("https", "api.example.com", Some(8002)));
        assert!(hosts(&["*://*:*"]).allows("ftp", "anything", Some(21)));
    }

    #[test]
    fn self_is_only_for_relative_requests() {
        let h = hosts(&["http://self"]);
        assert!(h.allows_self());
        assert!(!h.allows("http", "self", None));
        assert!(!hosts(&["http://example.com"]).allows_self());
    }

    #[test]
    fn malformed_entries_are_rejected() {
        for bad in [
            "example.com",
            "http://exa*mple.com",
            "http://x.com/path",
            "gopher://x",
        ] {
            assert!(AllowedHosts::parse(&[bad]).is_err(), "{bad}");
        }
    }
}
