//! `fermyon:spin/key-value@2.0.0` (WASIp2 components) and
//! `spin:key-value/key-value@3.0.0` (WASIp3 components) as Spin provides them: a component opens a store by
//! its label, and only the labels its manifest lists in `key_value_stores` open
//! (any other is `access-denied`, whether or not the store exists). The host knows one
//! store, `default`, as `spin up` does without a runtime config; a manifest naming any
//! other label does not load, as Spin refuses such an app.
//!
//! Spin keeps its default store in SQLite under `.spin/`. The host keeps the stores in
//! a map in memory behind one mutex, shared by every instance of the app, so each
//! operation is atomic across concurrent requests (and a read followed by a write is
//! not, on Spin either), and it appends every change to a log file on disk that is
//! read back when the app loads: the data outlive the process as Spin's do. A map and a
//! log are enough for one host process; unlike SQLite, two processes must not share
//! one file.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use wasmtime::component::Resource;

use wasmtime::component::{Accessor, FutureReader, StreamReader};

use crate::bindings::fermyon::spin::key_value::{self as kv, Error};
use crate::bindings::spin::key_value::key_value as kv3;
use crate::instance::{HostState, Spin};

/// The only store label the host defines.
pub const DEFAULT_STORE: &str = "default";

/// The `store` resource: the label of an opened store.
pub struct OpenStore {
    label: String,
}

/// Every store of the app: label -> key -> value, and the log that keeps them.
pub struct KeyValue {
    state: Mutex<State>,
}

struct State {
    stores: HashMap<String, BTreeMap<String, Vec<u8>>>,
    log: File,
    /// Removed when the app is dropped: a file the builder made up, not one it was given.
    scratch: Option<PathBuf>,
}

/// One change, as the log records it.
enum Change<'a> {
    Set {
        store: &'a str,
        key: &'a str,
        value: &'a [u8],
    },
    Delete {
        store: &'a str,
        key: &'a str,
    },
}

const SET: u8 = b'S';
const DELETE: u8 = b'D';

impl KeyValue {
    /// The stores kept in `path`: read back, compacted, and appended to from then on.
    /// `scratch` files are removed when the app is dropped.
    pub fn open(path: &Path, scratch: bool) -> anyhow::Result<KeyValue> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating {} for the key-value store", dir.display()))?;
        }
        let stores = match File::open(path) {
            Ok(file) => replay(BufReader::new(file)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(err) => {
                return Err(err).with_context(|| format!("reading {}", path.display()));
            }
        };
        // Compaction: the file is rewritten with only what is live, then appended to.
        let compacted = path.with_extension("compacting");
        {
            let mut file = File::create(&compacted)
                .with_context(|| format!("writing {}", compacted.display()))?;
            let mut buffer = Vec::new();
            for (store, entries) in &stores {
                for (key, value) in entries {
                    encode(&Change::Set { store, key, value }, &mut buffer);
                }
            }
            file.write_all(&buffer)?;
        }
        std::fs::rename(&compacted, path)
            .with_context(|| format!("replacing {}", path.display()))?;
        let log = OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        Ok(KeyValue {
            state: Mutex::new(State {
                stores,
                log,
                scratch: scratch.then(|| path.to_path_buf()),
            }),
        })
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut state)
    }

    pub fn get(&self, store: &str, key: &str) -> Option<Vec<u8>> {
        self.with_state(|state| state.stores.get(store)?.get(key).cloned())
    }

    pub fn set(&self, store: &str, key: &str, value: &[u8]) -> Result<(), String> {
        self.with_state(|state| {
            state.append(&Change::Set { store, key, value })?;
            state
                .stores
                .entry(store.to_string())
                .or_default()
                .insert(key.to_string(), value.to_vec());
            Ok(())
        })
    }

    pub fn delete(&self, store: &str, key: &str) -> Result<(), String> {
        self.with_state(|state| {
            let present = state
                .stores
                .get(store)
                .is_some_and(|entries| entries.contains_key(key));
            if present {
                state.append(&Change::Delete { store, key })?;
                if let Some(entries) = state.stores.get_mut(store) {
                    entries.remove(key);
                }
            }
            Ok(())
        })
    }

    pub fn keys(&self, store: &str) -> Vec<String> {
        self.with_state(|state| {
            state
                .stores
                .get(store)
                .map(|entries| entries.keys().cloned().collect())
                .unwrap_or_default()
        })
    }
}

impl State {
    /// Writes the change to the log in one `write`, before the map changes: what the
    /// component was told is stored is on its way to the disk.
    fn append(&mut self, change: &Change) -> Result<(), String> {
        let mut buffer = Vec::new();
        encode(change, &mut buffer);
        self.log
            .write_all(&buffer)
            .map_err(|err| format!("writing the key-value log: {err}"))
    }
}

impl Drop for State {
    fn drop(&mut self) {
        if let Some(path) = &self.scratch {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A record: the tag, then each field as a little-endian u32 length and its bytes.
fn encode(change: &Change, out: &mut Vec<u8>) {
    let mut field = |bytes: &[u8]| {
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    };
    match change {
        Change::Set { store, key, value } => {
            field(&[SET]);
            field(store.as_bytes());
            field(key.as_bytes());
            field(value);
        }
        Change::Delete { store, key } => {
            field(&[DELETE]);
            field(store.as_bytes());
            field(key.as_bytes());
        }
    }
}

/// The stores a log describes. A record cut short (the process died while writing it)
/// ends the log.
fn replay(mut log: impl Read) -> HashMap<String, BTreeMap<String, Vec<u8>>> {
    let mut stores: HashMap<String, BTreeMap<String, Vec<u8>>> = HashMap::new();
    let field = |log: &mut dyn Read| -> Option<Vec<u8>> {
        let mut length = [0u8; 4];
        log.read_exact(&mut length).ok()?;
        let mut bytes = vec![0u8; u32::from_le_bytes(length) as usize];
        log.read_exact(&mut bytes).ok()?;
        Some(bytes)
    };
    while let Some(tag) = field(&mut log) {
        let (Some(store), Some(key)) = (field(&mut log), field(&mut log)) else {
            break;
        };
        let (Ok(store), Ok(key)) = (String::from_utf8(store), String::from_utf8(key)) else {
            break;
        };
        match tag.as_slice() {
            [SET] => {
                let Some(value) = field(&mut log) else { break };
                stores.entry(store).or_default().insert(key, value);
            }
            [DELETE] => {
                if let Some(entries) = stores.get_mut(&store) {
                    entries.remove(&key);
                }
            }
            _ => break,
        }
    }
    stores
}

/// A key-value operation's failure, in the cases both interfaces share.
enum Failure {
    AccessDenied,
    StoreTableFull,
    Other(String),
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Error {
        match failure {
            Failure::AccessDenied => Error::AccessDenied,
            Failure::StoreTableFull => Error::StoreTableFull,
            Failure::Other(message) => Error::Other(message),
        }
    }
}

impl From<Failure> for kv3::Error {
    fn from(failure: Failure) -> kv3::Error {
        match failure {
            Failure::AccessDenied => kv3::Error::AccessDenied,
            Failure::StoreTableFull => kv3::Error::StoreTableFull,
            Failure::Other(message) => kv3::Error::Other(message),
        }
    }
}

/// The operations, once for both interfaces.
impl HostState {
    fn kv_open(&mut self, label: String) -> Result<Resource<OpenStore>, Failure> {
        if !self.component.key_value_stores.contains(&label) {
            return Err(Failure::AccessDenied);
        }
        self.table
            .push(OpenStore { label })
            .map_err(|_| Failure::StoreTableFull)
    }

    fn kv_label(&self, store: &Resource<OpenStore>) -> Result<String, Failure> {
        self.table
            .get(store)
            .map(|open| open.label.clone())
            .map_err(|_| Failure::Other("no such open store".into()))
    }

    fn kv_get(&self, store: &Resource<OpenStore>, key: &str) -> Result<Option<Vec<u8>>, Failure> {
        let label = self.kv_label(store)?;
        Ok(self.app.key_value.get(&label, key))
    }

    fn kv_set(&self, store: &Resource<OpenStore>, key: &str, value: &[u8]) -> Result<(), Failure> {
        let label = self.kv_label(store)?;
        self.app
            .key_value
            .set(&label, key, value)
            .map_err(Failure::Other)
    }

    fn kv_delete(&self, store: &Resource<OpenStore>, key: &str) -> Result<(), Failure> {
        let label = self.kv_label(store)?;
        self.app
            .key_value
            .delete(&label, key)
            .map_err(Failure::Other)
    }

    fn kv_keys(&self, store: &Resource<OpenStore>) -> Result<Vec<String>, Failure> {
        let label = self.kv_label(store)?;
        Ok(self.app.key_value.keys(&label))
    }
}

impl kv::Host for HostState {}

/// `fermyon:spin/key-value@2.0.0` (WASIp2 components).
impl kv::HostStore for HostState {
    async fn open(&mut self, label: String) -> Result<Resource<OpenStore>, Error> {
        Ok(self.kv_open(label)?)
    }

    async fn get(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.kv_get(&store, &key)?)
    }

    async fn set(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), Error> {
        Ok(self.kv_set(&store, &key, &value)?)
    }

    async fn delete(&mut self, store: Resource<OpenStore>, key: String) -> Result<(), Error> {
        Ok(self.kv_delete(&store, &key)?)
    }

    async fn exists(&mut self, store: Resource<OpenStore>, key: String) -> Result<bool, Error> {
        Ok(self.kv_get(&store, &key)?.is_some())
    }

    async fn get_keys(&mut self, store: Resource<OpenStore>) -> Result<Vec<String>, Error> {
        Ok(self.kv_keys(&store)?)
    }

    async fn drop(&mut self, store: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}

impl kv3::Host for HostState {}

impl kv3::HostStore for HostState {
    async fn drop(&mut self, store: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}

/// `spin:key-value/key-value@3.0.0` (WASIp3 components): the same operations, each
/// atomic, as async functions.
impl kv3::HostStoreWithStore<HostState> for Spin {
    async fn open(
        accessor: &Accessor<HostState, Self>,
        label: String,
    ) -> Result<Resource<OpenStore>, kv3::Error> {
        Ok(accessor.with(|mut access| access.get().kv_open(label))?)
    }

    async fn get(
        accessor: &Accessor<HostState, Self>,
        store: Resource<OpenStore>,
        key: String,
    ) -> Result<Option<Vec<u8>>, kv3::Error> {
        Ok(accessor.with(|mut access| access.get().kv_get(&store, &key))?)
    }

    async fn set(
        accessor: &Accessor<HostState, Self>,
        store: Resource<OpenStore>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), kv3::Error> {
        Ok(accessor.with(|mut access| access.get().kv_set(&store, &key, &value))?)
    }

    async fn delete(
        accessor: &Accessor<HostState, Self>,
        store: Resource<OpenStore>,
        key: String,
    ) -> Result<(), kv3::Error> {
        Ok(accessor.with(|mut access| access.get().kv_delete(&store, &key))?)
    }

    async fn exists(
        accessor: &Accessor<HostState, Self>,
        store: Resource<OpenStore>,
        key: String,
    ) -> Result<bool, kv3::Error> {
        Ok(accessor
            .with(|mut access| access.get().kv_get(&store, &key))?
            .is_some())
    }

    /// The keys as a stream, then the listing's result.
    async fn get_keys(
        accessor: &Accessor<HostState, Self>,
        store: Resource<OpenStore>,
    ) -> wasmtime::Result<(StreamReader<String>, FutureReader<Result<(), kv3::Error>>)> {
        accessor.with(|mut access| {
            let (keys, result) = match access.get().kv_keys(&store) {
                Ok(keys) => (keys, Ok(())),
                Err(failure) => (Vec::new(), Err(failure.into())),
            };
            let keys = StreamReader::new(&mut access, keys)?;
            let result =
                FutureReader::new(&mut access, async move { Ok::<_, wasmtime::Error>(result) })?;
            Ok((keys, result))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "spinshop-kv-unit-{}-{name}/store.log",
            std::process::id()
        ))
    }

    #[test]
    fn changes_survive_reopening_and_deletes_stay_deleted() {
        let path = scratch_path("reopen");
        let _ = std::fs::remove_file(&path);
        {
            let kv = KeyValue::open(&path, false).unwrap();
            kv.set("default", "a", b"1").unwrap();
            kv.set("default", "b", b"2").unwrap();
            kv.set("default", "a", b"3").unwrap();
            kv.delete("default", "b").unwrap();
            kv.set("other", "a", b"x").unwrap();
        }
        let kv = KeyValue::open(&path, true).unwrap();
        assert_eq!(kv.get("default", "a").as_deref(), Some(&b"3"[..]));
        assert_eq!(kv.get("default", "b"), None);
        assert_eq!(kv.keys("default"), ["a"]);
        assert_eq!(kv.get("other", "a").as_deref(), Some(&b"x"[..]));
        drop(kv);
        assert!(!path.exists(), "a scratch store is removed with its app");
    }

    #[test]
    fn a_record_cut_short_ends_the_log() {
        let mut log = Vec::new();
        encode(
            &Change::Set {
                store: "default",
                key: "k",
                value: b"v",
            },
            &mut log,
        );
        let whole = log.len();
        encode(
            &Change::Set {
                store: "default",
                key: "k2",
                value: b"value",
            },
            &mut log,
        );
        log.truncate(whole + 7);
        let stores = replay(log.as_slice());
        assert_eq!(stores["default"].len(), 1);
        assert_eq!(stores["default"]["k"], b"v");
    }
}
