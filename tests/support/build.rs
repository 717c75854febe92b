//! The two builds of the components, and the manifest that serves each. spin.toml
//! names the WASIp3 files (`target/wasm32-wasip2/release/`), the Fermyon Cloud
//! manifest the WASIp2 ones (`target/wasm32-wasip2/wasip2/`). The tests serve
//! spin.toml with the build `SPINSHOP_BUILD` chooses, and any other manifest with the
//! build it names.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use crate::workspace_root;

/// The application the tests run, unless a test names another manifest.
pub(crate) const MANIFEST: &str = "spin.toml";

/// A build of the components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// spin-sdk 7 on WASI 0.3: Spin 4.1 and newer.
    Wasip3,
    /// spin-sdk 5.2 on WASI 0.2: Spin 3.4 and newer, SpinKube, Fermyon Cloud.
    Wasip2,
}

impl Build {
    /// The build the tests run spin.toml with: `SPINSHOP_BUILD` (`wasip3` or
    /// `wasip2`), else WASIp3.
    pub fn chosen() -> Build {
        match std::env::var("SPINSHOP_BUILD").as_deref() {
            Ok("wasip3") | Err(_) => Build::Wasip3,
            Ok("wasip2") => Build::Wasip2,
            Ok(other) => panic!("SPINSHOP_BUILD must be wasip3 or wasip2, not {other:?}"),
        }
    }

    /// Where cargo puts this build's `.wasm` files, in the workspace.
    fn folder(self) -> &'static str {
        match self {
            Build::Wasip3 => "target/wasm32-wasip2/release/",
            Build::Wasip2 => "target/wasm32-wasip2/wasip2/",
        }
    }

    /// The build a manifest's `source` paths name.
    fn named_in(manifest: &str) -> Build {
        if manifest.contains(Build::Wasip2.folder()) {
            Build::Wasip2
        } else {
            Build::Wasip3
        }
    }

    /// Builds this build's `.wasm` files (a no-op when they are fresh).
    fn ensure_built(self) {
        static BUILT: [OnceLock<()>; 2] = [OnceLock::new(), OnceLock::new()];
        BUILT[self as usize].get_or_init(|| {
            let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
            cargo
                .current_dir(workspace_root())
                .args(["build", "--target", "wasm32-wasip2"]);
            match self {
                Build::Wasip3 => cargo.arg("--release"),
                Build::Wasip2 => cargo.args([
                    "--profile",
                    "wasip2",
                    "--no-default-features",
                    "--features",
                    "wasip2",
                ]),
            };
            for component in crate::components() {
                cargo.args(["-p", &component]);
            }
            let status = cargo
                .status()
                .expect("running cargo build for the components");
            assert!(
                status.success(),
                "building the components ({self:?}) failed"
            );
        });
    }
}

/// Builds what `manifest` (relative to the workspace) runs and returns the manifest
/// to serve: spin.toml with the chosen build (for WASIp2, a copy under `target/`
/// whose sources are the WASIp2 files), any other manifest as it is.
pub(crate) fn served_manifest(manifest: &str) -> PathBuf {
    let path = workspace_root().join(manifest);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
    let named = Build::named_in(&text);
    let build = if manifest == MANIFEST {
        Build::chosen()
    } else {
        named
    };
    build.ensure_built();
    if build == named {
        return path;
    }
    static COPIES: [OnceLock<PathBuf>; 2] = [OnceLock::new(), OnceLock::new()];
    COPIES[build as usize]
        .get_or_init(|| write_retargeted(&text, named, build))
        .clone()
}

/// Writes a copy of spin.toml, `text`, whose sources are `to`'s files rather than
/// `from`'s, as absolute paths (the copy lives under `target/`), once per process:
/// whole or not at all, as other test processes may be reading it.
fn write_retargeted(text: &str, from: Build, to: Build) -> PathBuf {
    let root = workspace_root();
    let retargeted = text.replace(
        &format!("source = \"{}", from.folder()),
        &format!("source = \"{}/{}", root.display(), to.folder()),
    );
    let name = format!("spinshop-{to:?}").to_lowercase();
    let copy = root.join(format!("target/{name}.toml"));
    let partial = root.join(format!("target/{name}.{}.toml", std::process::id()));
    std::fs::write(&partial, retargeted)
        .and_then(|()| std::fs::rename(&partial, &copy))
        .unwrap_or_else(|err| panic!("writing {}: {err}", copy.display()));
    copy
}
