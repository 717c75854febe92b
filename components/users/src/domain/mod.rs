//! Account rules: what a valid name is, which changes to an account are valid, and
//! the refresh tokens sessions are made of. The email and password rules
//! (`credentials`) are shared with `spinshop migrate`. One file per aggregate.

mod account;
pub mod credentials;
mod session;

pub use account::*;
pub use session::*;
