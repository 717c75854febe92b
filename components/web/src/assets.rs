//! The files built into the component by `build.rs`, sorted by route.

/// One file, as built: its bytes and, for text worth compressing, a gzip copy.
pub struct Asset {
    /// Where it is served, e.g. `/assets/app.js`.
    pub route: &'static str,
    pub content_type: &'static str,
    /// A strong ETag (quoted) of `body`.
    pub etag: &'static str,
    pub body: &'static [u8],
    pub gzip: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The file served at `route`.
pub fn lookup(route: &str) -> Option<&'static Asset> {
    ASSETS
        .binary_search_by(|asset| asset.route.cmp(route))
        .ok()
        .map(|index| &ASSETS[index])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_holds_the_pages() {
        assert!(ASSETS.windows(2).all(|pair| pair[0].route < pair[1].route));
        for route in [
            "/index.html",
            "/404.html",
            "/docs/index.html",
            "/docs/openapi.yaml",
        ] {
            assert!(lookup(route).is_some(), "{route} is built in");
        }
        assert!(VERSION.starts_with('v') && VERSION.len() == 13);
    }

    #[test]
    fn gzip_copies_decompress_to_the_file() {
        use std::io::Read;
        let app = lookup("/docs/openapi.yaml").expect("built in");
        let gzip = app.gzip.expect("YAML is compressed");
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(gzip)
            .read_to_end(&mut text)
            .expect("valid gzip");
        assert_eq!(text, app.body);
    }

    #[test]
    fn the_pages_load_their_assets_at_this_version() {
        let index = std::str::from_utf8(lookup("/index.html").unwrap().body).unwrap();
        assert!(index.contains(&format!("\"/assets/{VERSION}/")), "{index}");
        assert!(
            !index.contains("\"/assets/app"),
            "unversioned asset URL left"
        );
    }
}
