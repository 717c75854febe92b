//! Compiling components: one `Engine` per process, each `.wasm` compiled once per
//! process, and the machine code kept on disk (keyed by the file's SHA-256) so that
//! restarts and separate test binaries load it instead of compiling again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use anyhow::Context;
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

/// The process's engine: compiled code can only be shared within one engine.
pub fn engine() -> anyhow::Result<Engine> {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    if let Some(engine) = ENGINE.get() {
        return Ok(engine.clone());
    }
    // WASIp3 components use the component model's async ABI (streams, futures,
    // async imports and exports).
    let mut config = Config::new();
    config.wasm_component_model_async(true);
    let engine = Engine::new(&config)?;
    Ok(ENGINE.get_or_init(|| engine).clone())
}

/// Loads the component at `path`: from this process's memory, from the disk cache,
/// or by compiling it (then caching it). Blocking: call from a blocking task.
pub fn load(engine: &Engine, path: &Path) -> anyhow::Result<Component> {
    static LOADED: OnceLock<Mutex<HashMap<[u8; 32], Component>>> = OnceLock::new();
    let wasm = std::fs::read(path).with_context(|| {
        format!(
            "reading the component {} (is it built? cargo build --release --target wasm32-wasip2)",
            path.display()
        )
    })?;
    let digest: [u8; 32] = Sha256::digest(&wasm).into();
    let loaded = LOADED.get_or_init(Default::default);
    if let Some(component) = lock(loaded).get(&digest) {
        return Ok(component.clone());
    }
    let component = load_cached_or_compile(engine, path, &wasm, &digest)?;
    lock(loaded).insert(digest, component.clone());
    Ok(component)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn load_cached_or_compile(
    engine: &Engine,
    path: &Path,
    wasm: &[u8],
    digest: &[u8; 32],
) -> anyhow::Result<Component> {
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let cached = cache_dir(path).join(format!("{hex}.cwasm"));
    if cached.exists() {
        // SAFETY: the file was written by `Engine::precompile_component` below, from
        // the very bytes its name is the hash of; wasmtime still checks that it was
        // made by a compatible engine and refuses it otherwise.
        match unsafe { Component::deserialize_file(engine, &cached) } {
            Ok(component) => return Ok(component),
            Err(err) => eprintln!(
                "spinshop: recompiling {} ({}: {err})",
                path.display(),
                cached.display()
            ),
        }
    }
    let compiled = engine
        .precompile_component(wasm)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("compiling {}", path.display()))?;
    if let Err(err) = write_atomically(&cached, &compiled) {
        eprintln!("spinshop: could not cache {}: {err}", cached.display());
    }
    // SAFETY: `compiled` was produced just now by this engine.
    Ok(unsafe { Component::deserialize(engine, &compiled) }?)
}

/// `<target dir>/spinshop-host-cache` for a component under a Cargo target
/// directory, the system temp dir otherwise.
fn cache_dir(component: &Path) -> PathBuf {
    let absolute = std::path::absolute(component).unwrap_or_else(|_| component.to_path_buf());
    absolute
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|name| name == "target"))
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir)
        .join("spinshop-host-cache")
}

/// Two processes may compile the same component at once: each writes its own temp
/// file and renames it into place, so a reader never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temp = path.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path)
}
