//! spinshop's end-to-end tests: the real release `.wasm` files over a real Postgres,
//! each test with an app and a database of its own (see `spinshop_tests`), spoken to
//! over HTTP only. One module per service (and `images` for products' pictures);
//! `services` for what every service does alike, table-driven; `flow`, `events`, `edges`, `migrations` and `load` for what
//! crosses them; `web` for the storefront's files and the front door every service
//! shares. They build as one test binary, so the test host is linked once.

mod carts;
mod catalog;
mod edges;
mod events;
mod flow;
mod images;
mod instances;
mod load;
mod mail;
mod migrations;
mod notifications;
mod orders;
mod payments;
mod products;
mod services;
mod users;
mod web;
