//! Builds the storefront into the component: every file under the repository's `web/`
//! (but the `.sh` and `.md` notes beside the vendored files) and `docs/openapi.yaml`
//! become a table of assets in `$OUT_DIR/assets.rs`, each with its content type, a
//! strong ETag (a SHA-256 of its bytes) and, for text, a gzip copy compressed here at
//! the highest level, so no request spends CPU on compression.
//!
//! The HTML pages load their scripts and styles from `/assets/`; here those URLs get
//! the storefront's version (`/assets/v<hash of every file>/...`), so a browser may
//! keep them for a year and still sees a new release at once. Modules import one
//! another by relative paths and so inherit the version.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

/// What the HTML pages' asset URLs start with, before the version is added.
const ASSET_PREFIX: &str = "\"/assets/";
/// Smaller than this, a gzip copy isn't worth its header.
const MIN_GZIP_BYTES: usize = 256;

struct Source {
    route: String,
    path: PathBuf,
}

fn main() {
    // Read when the script runs, not when it was compiled: checkouts that share a
    // target dir (git worktrees, a global CARGO_TARGET_DIR) may share this compiled
    // script, and each must build its own storefront.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .expect("cargo sets CARGO_MANIFEST_DIR for build scripts");
    let root = Path::new(&manifest_dir).join("../..");
    let web = root.join("web");
    let openapi = root.join("docs/openapi.yaml");
    println!("cargo:rerun-if-changed={}", web.display());
    println!("cargo:rerun-if-changed={}", openapi.display());

    let mut sources = Vec::new();
    walk(&web, &web, &mut sources);
    sources.push(Source {
        route: "/docs/openapi.yaml".into(),
        path: openapi,
    });
    sources.sort_by(|a, b| a.route.cmp(&b.route));

    let contents: Vec<Vec<u8>> = sources
        .iter()
        .map(|source| {
            std::fs::read(&source.path)
                .unwrap_or_else(|err| panic!("reading {}: {err}", source.path.display()))
        })
        .collect();
    let version = {
        let mut hash = Sha256::new();
        for (source, bytes) in sources.iter().zip(&contents) {
            hash.update(source.route.as_bytes());
            hash.update([0]);
            hash.update(bytes);
        }
        format!("v{}", &hex(&hash.finalize())[..12])
    };

    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let files = out.join("files");
    std::fs::create_dir_all(&files).expect("creating OUT_DIR/files");
    let mut table = String::new();
    writeln!(table, "pub const VERSION: &str = {version:?};").unwrap();
    writeln!(table, "pub static ASSETS: &[Asset] = &[").unwrap();
    for (index, (source, bytes)) in sources.iter().zip(contents).enumerate() {
        let content_type = content_type(&source.route);
        let bytes = if content_type.starts_with("text/html") {
            String::from_utf8(bytes)
                .unwrap_or_else(|_| panic!("{} is not UTF-8", source.route))
                .replace(ASSET_PREFIX, &format!("{ASSET_PREFIX}{version}/"))
                .into_bytes()
        } else {
            bytes
        };
        let digest = hex(&Sha256::digest(&bytes));
        let etag = format!("\"{}\"", &digest[..32]);
        let raw = files.join(format!("{index}.raw"));
        std::fs::write(&raw, &bytes).expect("writing an asset");
        let gzip = compressible(content_type)
            .then(|| gzip(&bytes))
            .filter(|gz| bytes.len() >= MIN_GZIP_BYTES && gz.len() < bytes.len() * 9 / 10)
            .map(|gz| {
                let path = files.join(format!("{index}.gz"));
                std::fs::write(&path, gz).expect("writing a gzip copy");
                format!(
                    "Some(include_bytes!({:?}))",
                    path.to_str().expect("a UTF-8 OUT_DIR")
                )
            })
            .unwrap_or_else(|| "None".into());
        writeln!(
            table,
            "    Asset {{ route: {:?}, content_type: {content_type:?}, etag: {etag:?}, \
             body: include_bytes!({:?}), gzip: {gzip} }},",
            source.route,
            raw.to_str().expect("a UTF-8 OUT_DIR"),
        )
        .unwrap();
    }
    writeln!(table, "];").unwrap();
    std::fs::write(out.join("assets.rs"), table).expect("writing assets.rs");
}

/// Every file under `dir`, routed by its path below `root`.
fn walk(root: &Path, dir: &Path, sources: &mut Vec<Source>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            walk(root, &path, sources);
            continue;
        }
        let notes = matches!(path.extension().and_then(|e| e.to_str()), Some("sh" | "md"));
        if notes {
            continue;
        }
        let relative = path.strip_prefix(root).expect("below the root");
        let route = relative
            .components()
            .map(|part| part.as_os_str().to_str().expect("UTF-8 file names"))
            .fold(String::new(), |route, part| route + "/" + part);
        sources.push(Source { route, path });
    }
}

fn content_type(route: &str) -> &'static str {
    let name = route.rsplit('/').next().unwrap_or(route);
    let extension = name.rsplit_once('.').map_or("", |(_, ext)| ext);
    match extension {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "yaml" | "yml" => "application/yaml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "woff2" => "font/woff2",
        "txt" | "" => "text/plain; charset=utf-8",
        other => panic!("{route}: no content type known for .{other} files"),
    }
}

fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type.starts_with("application/yaml")
        || content_type.starts_with("image/svg+xml")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).expect("compressing in memory");
    encoder.finish().expect("compressing in memory")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}
