//! Host bindings for the Spin interfaces spinshop components import, generated from
//! the repository's `wit/` (the same WIT the components are checked against).

wasmtime::component::bindgen!({
    inline: "
        package spinshop:host;
        world host {
            import spin:postgres/postgres@4.0.0;
            import fermyon:spin/variables@2.0.0;
            import fermyon:spin/key-value@2.0.0;
        }
    ",
    path: ["../../wit/deps/spin-postgres@4.0.0", "../../wit/deps/spin@2.0.0"],
    imports: { default: async },
    with: {
        "spin:postgres/postgres.connection": crate::postgres::Connection,
        "fermyon:spin/key-value.store": crate::key_value::OpenStore,
    },
});
