//! Serving the built-in files over HTTP: which file a path names, how long a browser
//! may keep it, the gzip copy when the client takes gzip, `ETag` / `If-None-Match`
//! (304), HEAD, the headers every page carries, and the HTML 404 page.

use spinshop_kit::http::response::CACHE_IMMUTABLE;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult, Method};

use crate::assets::{self, Asset, VERSION};

/// A built-in file, found for a request path, and how it may be cached.
pub struct File {
    asset: &'static Asset,
    caching: Caching,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caching {
    /// Pages, and files whose URL stays the same across releases: the browser keeps
    /// them but asks again (a 304 when nothing changed).
    Revalidate,
    /// Files whose URL names their version (`/assets/v<version>/...`,
    /// `/vendor/<name>-<version>/...`): a new release has new URLs.
    Immutable,
}

impl Caching {
    fn header(self) -> &'static str {
        match self {
            Caching::Revalidate => "no-cache",
            Caching::Immutable => CACHE_IMMUTABLE,
        }
    }
}

/// What the pages may load, run and talk to: this origin only; no inline scripts or
/// styles, no plugins, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The file a request path names, if any.
pub fn find(path: &str) -> Option<File> {
    let (route, caching) = match path {
        "/" => ("/index.html", Caching::Revalidate),
        "/docs" | "/docs/" => ("/docs/index.html", Caching::Revalidate),
        _ => match versioned_asset(path) {
            Some((version, rest)) => {
                let caching = if version == VERSION {
                    Caching::Immutable
                } else {
                    // A page of another release asks: it gets this release's file,
                    // which it must not keep under the old version's URL.
                    Caching::Revalidate
                };
                return assets::lookup(&format!("/assets/{rest}"))
                    .map(|asset| File { asset, caching });
            }
            None if path.starts_with("/vendor/") => (path, Caching::Immutable),
            None => (path, Caching::Revalidate),
        },
    };
    assets::lookup(route).map(|asset| File { asset, caching })
}

/// `/assets/v0123456789ab/app.js` -> (`v0123456789ab`, `app.js`).
fn versioned_asset(path: &str) -> Option<(&str, &str)> {
    let (version, rest) = path.strip_prefix("/assets/")?.split_once('/')?;
    let is_version = version.len() == VERSION.len()
        && version.starts_with('v')
        && version[1..].bytes().all(|b| b.is_ascii_hexdigit());
    is_version.then_some((version, rest))
}

/// Answers a GET or HEAD for `file`.
pub fn serve(req: &ApiRequest, file: &File) -> ApiResult<ApiResponse> {
    if !matches!(req.method, Method::Get | Method::Head) {
        return Err(ApiError::MethodNotAllowed {
            allow: "GET, HEAD".into(),
        });
    }
    let asset = file.asset;
    let gzip = asset
        .gzip
        .filter(|_| accepts_gzip(req.header("accept-encoding")));
    let etag = match gzip {
        Some(_) => gzip_etag(asset.etag),
        None => asset.etag.to_string(),
    };
    let mut response = ApiResponse {
        status: 200,
        headers: Vec::new(),
        body: Vec::new(),
    }
    .with_header("etag", &etag)
    .with_header("cache-control", file.caching.header());
    if asset.gzip.is_some() {
        response = response.with_header("vary", "accept-encoding");
    }
    response = with_page_headers(response);

    if req.if_none_match(&[asset.etag, &gzip_etag(asset.etag)]) {
        response.status = 304;
        return Ok(response);
    }
    response = response.with_header("content-type", asset.content_type);
    if gzip.is_some() {
        response = response.with_header("content-encoding", "gzip");
    }
    if req.method == Method::Get {
        response.body = gzip.unwrap_or(asset.body).to_vec();
    }
    Ok(response)
}

/// The friendly page for a path nothing serves (outside `/api/`).
pub fn not_found_page(req: &ApiRequest) -> ApiResponse {
    let mut response = with_page_headers(ApiResponse {
        status: 404,
        headers: Vec::new(),
        body: Vec::new(),
    })
    .with_header("cache-control", "no-cache");
    if let Some(page) = assets::lookup("/404.html") {
        response = response.with_header("content-type", page.content_type);
        if req.method != Method::Head {
            response.body = page.body.to_vec();
        }
    }
    response
}

/// The headers every answer of the storefront carries: its content security policy,
/// no type sniffing, no referrer leaving the shop, and no framing by any site.
fn with_page_headers(response: ApiResponse) -> ApiResponse {
    response
        .with_header("content-security-policy", CONTENT_SECURITY_POLICY)
        .with_header("x-content-type-options", "nosniff")
        .with_header("referrer-policy", "no-referrer")
        .with_header("x-frame-options", "DENY")
        .with_header("cross-origin-opener-policy", "same-origin")
        .with_header(
            "permissions-policy",
            "camera=(), microphone=(), geolocation=(), payment=()",
        )
}

/// The gzip copy's ETag: the file's, marked, since it is another representation.
fn gzip_etag(etag: &str) -> String {
    format!("{}-gzip\"", etag.trim_end_matches('"'))
}

/// Whether `Accept-Encoding` takes gzip: named (or `*`) with a weight above 0, and
/// not refused by name.
fn accepts_gzip(header: Option<&str>) -> bool {
    let Some(header) = header else { return false };
    let mut star = false;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let weight = parts
            .filter_map(|param| {
                let (name, value) = param.split_once('=')?;
                (name.trim() == "q").then(|| value.trim().parse::<f32>().unwrap_or(0.0))
            })
            .next()
            .unwrap_or(1.0);
        match coding.as_str() {
            "gzip" | "x-gzip" => return weight > 0.0,
            "*" => star = weight > 0.0,
            _ => {}
        }
    }
    star
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_taken_when_accepted_with_a_weight() {
        assert!(accepts_gzip(Some("gzip, deflate, br")));
        assert!(accepts_gzip(Some("br;q=1.0, gzip;q=0.8")));
        assert!(accepts_gzip(Some("*")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(Some("*, gzip;q=0")));
        assert!(!accepts_gzip(Some("br, identity")));
        assert!(!accepts_gzip(None));
    }

    #[test]
    fn versioned_asset_urls_are_kept_for_a_year_only_at_this_version() {
        let current = find(&format!("/assets/{VERSION}/style.css")).expect("the stylesheet");
        assert_eq!(current.caching, Caching::Immutable);
        let older = find("/assets/v000000000000/style.css").expect("still served");
        assert_eq!(older.caching, Caching::Revalidate);
        let plain = find("/assets/style.css").expect("unversioned too");
        assert_eq!(plain.caching, Caching::Revalidate);
        assert_eq!(find("/").expect("the shop").caching, Caching::Revalidate);
        assert!(find("/nope").is_none());
    }

    #[test]
    fn a_matching_etag_answers_304_without_a_body() {
        let file = find("/").unwrap();
        let req = ApiRequest::new(Method::Get, "/", b"", "")
            .with_header("if-none-match", file.asset.etag);
        let answer = serve(&req, &file).unwrap();
        assert_eq!(answer.status, 304);
        assert!(answer.body.is_empty());
        assert_eq!(answer.header("etag"), Some(file.asset.etag));
    }

    #[test]
    fn head_has_the_headers_and_no_body() {
        let file = find("/docs/openapi.yaml").unwrap();
        let req = ApiRequest::new(Method::Head, "/docs/openapi.yaml", b"", "")
            .with_header("accept-encoding", "gzip");
        let answer = serve(&req, &file).unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("content-encoding"), Some("gzip"));
        assert_eq!(answer.header("content-type"), Some("application/yaml"));
        assert!(answer.body.is_empty());
    }
}
