//! The HTTP router and the request headers Spin gives components.
//!
//! Like Spin: an exact route beats a wildcard, the wildcard with the longest prefix
//! wins, `/prefix/...` also matches the bare `/prefix`, private routes are not
//! routed at all, and when two triggers declare the same route the later one wins.

use std::net::SocketAddr;

use anyhow::bail;
use http::{HeaderMap, HeaderName, HeaderValue, Uri};

use crate::manifest::{HttpTrigger, RouteDecl};

/// A public route.
#[derive(Debug, Clone)]
struct Route {
    /// As written in the manifest.
    raw: String,
    pattern: Pattern,
    component: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Exact(String),
    /// The path before `/...` (empty for `/...`).
    Prefix(String),
}

/// What a path matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    pub component: String,
    /// The route as written (`/api/users/...`).
    pub raw_route: String,
    /// The route without its wildcard (`/api/users`).
    pub component_route: String,
    /// The part of the path after the route's prefix.
    pub path_info: String,
}

impl RouteMatch {
    /// How Spin describes a request that arrived by service chaining: as if the
    /// component were mounted at `/...`, with the full path as path info, and no
    /// component route.
    pub fn chained(component: &str, path: &str) -> RouteMatch {
        RouteMatch {
            component: component.to_string(),
            raw_route: "/...".into(),
            component_route: String::new(),
            path_info: path.to_string(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    pub fn build<'a>(
        triggers: impl IntoIterator<Item = &'a HttpTrigger>,
    ) -> anyhow::Result<Router> {
        let mut routes: Vec<Route> = Vec::new();
        for trigger in triggers {
            let RouteDecl::Path(raw) = &trigger.route else {
                continue;
            };
            let route = Route {
                raw: raw.clone(),
                pattern: parse_pattern(raw)?,
                component: trigger.component.clone(),
            };
            match routes.iter_mut().find(|r| r.raw == route.raw) {
                Some(existing) => *existing = route,
                None => routes.push(route),
            }
        }
        Ok(Router { routes })
    }

    /// Public routes in manifest order: (route, component).
    pub fn routes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.routes
            .iter()
            .map(|r| (r.raw.as_str(), r.component.as_str()))
    }

    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let exact = self
            .routes
            .iter()
            .find(|r| matches!(&r.pattern, Pattern::Exact(p) if p == path));
        let best = exact.or_else(|| {
            self.routes
                .iter()
                .filter_map(|r| match &r.pattern {
                    Pattern::Prefix(prefix) if prefix_matches(prefix, path) => {
                        Some((prefix.len(), r))
                    }
                    _ => None,
                })
                .max_by_key(|(len, _)| *len)
                .map(|(_, r)| r)
        })?;
        let (component_route, path_info) = match &best.pattern {
            Pattern::Exact(p) => (p.clone(), String::new()),
            Pattern::Prefix(prefix) => (prefix.clone(), path[prefix.len()..].to_string()),
        };
        Some(RouteMatch {
            component: best.component.clone(),
            raw_route: best.raw.clone(),
            component_route,
            path_info,
        })
    }
}

fn parse_pattern(raw: &str) -> anyhow::Result<Pattern> {
    let absolute = if raw.starts_with('/') {
        raw.to_string()
    } else {
        format!("/{raw}")
    };
    if absolute.split('/').any(|segment| segment.starts_with(':')) {
        bail!("route {raw:?}: named segments are not supported by this host");
    }
    if let Some(prefix) = absolute
        .strip_suffix("/...")
        .or_else(|| absolute.strip_suffix("/*"))
    {
        return Ok(Pattern::Prefix(prefix.to_string()));
    }
    if absolute.contains("...") || absolute.contains('*') {
        bail!("route {raw:?}: a wildcard may only end a route");
    }
    let trimmed = match absolute.strip_suffix('/') {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => absolute,
    };
    Ok(Pattern::Exact(trimmed))
}

fn prefix_matches(prefix: &str, path: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Sets Spin's `spin-*` request headers, replacing any the client sent.
///
/// `host` is the request's `Host` (Spin uses `localhost` when there is none), and the
/// scheme is the URI's (default `http`).
pub fn set_spin_headers(
    headers: &mut HeaderMap,
    uri: &Uri,
    host: &str,
    route: &RouteMatch,
    client_addr: SocketAddr,
) -> anyhow::Result<()> {
    let scheme = uri.scheme_str().unwrap_or("http");
    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
    let values = [
        (
            "spin-full-url",
            format!("{scheme}://{host}{path_and_query}"),
        ),
        ("spin-path-info", route.path_info.clone()),
        ("spin-matched-route", route.raw_route.clone()),
        ("spin-base-path", "/".to_string()),
        ("spin-raw-component-route", route.raw_route.clone()),
        ("spin-component-route", route.component_route.clone()),
        ("spin-client-addr", client_addr.to_string()),
    ];
    for (name, value) in values {
        headers.insert(HeaderName::from_static(name), HeaderValue::try_from(value)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        let triggers: Vec<HttpTrigger> = routes
            .iter()
            .map(|(route, component)| HttpTrigger {
                route: RouteDecl::Path(route.to_string()),
                component: component.to_string(),
            })
            .collect();
        Router::build(&triggers).expect("valid routes")
    }

    fn component(router: &Router, path: &str) -> Option<String> {
        router.route(path).map(|m| m.component)
    }

    #[test]
    fn exact_beats_wildcard_and_longest_prefix_wins() {
        let r = router(&[
            ("/...", "all"),
            ("/one/...", "one"),
            ("/one/two/...", "two"),
            ("/one/exact", "exact"),
        ]);
        assert_eq!(component(&r, "/one/two/three").as_deref(), Some("two"));
        assert_eq!(component(&r, "/one/exact").as_deref(), Some("exact"));
        assert_eq!(component(&r, "/one/exactly").as_deref(), Some("one"));
        assert_eq!(component(&r, "/oneself").as_deref(), Some("all"));
        assert_eq!(component(&r, "/").as_deref(), Some("all"));
    }

    #[test]
    fn a_wildcard_matches_its_bare_prefix() {
        let r = router(&[("/api/a/...", "a")]);
        let m = r.route("/api/a").expect("bare prefix matches");
        assert_eq!(m.path_info, "");
        assert_eq!(m.component_route, "/api/a");
        assert_eq!(r.route("/api/a/").expect("matches").path_info, "/");
        assert_eq!(r.route("/api/a/x/y").expect("matches").path_info, "/x/y");
        assert_eq!(r.route("/api/ab"), None);
        assert_eq!(r.route("/other"), None);
    }

    #[test]
    fn a_later_duplicate_route_wins() {
        let r = router(&[("/x", "first"), ("/x", "second")]);
        assert_eq!(component(&r, "/x").as_deref(), Some("second"));
        assert_eq!(r.routes().count(), 1);
    }
}
