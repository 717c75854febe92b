//! Host bindings for the Spin interfaces spinshop components import, generated from
//! the repository's `wit/` (the same WIT the components are checked against).
//!
//! `spin:postgres@4.2.0` (WASIp3 components) is a superset of `@4.0.0` (WASIp2
//! components) with the same types, so the host works in 4.2.0's types only and
//! [`crate::postgres`] links 4.0.0's functions to the same implementation.

wasmtime::component::bindgen!({
    inline: "
        package spinshop:host;
        world host {
            import spin:postgres/postgres@4.2.0;
            import fermyon:spin/variables@2.0.0;
            import fermyon:spin/key-value@2.0.0;
            import spin:variables/variables@3.0.0;
            import spin:key-value/key-value@3.0.0;
        }
    ",
    path: [
        "../../wit/deps/spin-postgres@4.2.0",
        "../../wit/deps/spin@2.0.0",
        "../../wit/deps/spin-variables@3.0.0",
        "../../wit/deps/spin-key-value@3.0.0",
    ],
    imports: {
        // These can fail only on a full resource table: a trap.
        "spin:key-value/key-value.[method]store.get-keys": async | trappable,
        "spin:postgres/postgres.[constructor]connection-builder": async | trappable,
        default: async,
    },
    with: {
        "spin:postgres/postgres.connection": crate::postgres::Connection,
        "spin:postgres/postgres.connection-builder": crate::postgres::ConnectionBuilder,
        "fermyon:spin/key-value.store": crate::key_value::OpenStore,
        "spin:key-value/key-value.store": crate::key_value::OpenStore,
    },
});
