//! The `spinshop` command's own work, shared with the end-to-end tests: migrations,
//! the first admin, the demo catalog and the connection budget check. Serving is the
//! host's (`spinshop_host`), the local Postgres server `spinshop_local_pg`'s.

pub mod migrate;
