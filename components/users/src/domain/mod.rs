//! Account rules: what a valid name is, which changes to an account are valid, and
//! the refresh tokens sessions are made of. The email and password rules are shared
//! with `spinshop migrate`, in `spinshop_kit::account`. One file per aggregate.

mod account;
mod session;

pub use account::*;
pub use session::*;
