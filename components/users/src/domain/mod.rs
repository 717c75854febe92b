//! Account rules: what a valid name is, which changes to an account are valid, and
//! the secret tokens sessions and mailed links are made of, and those links. The email and password rules
//! (`credentials`) are shared with `spinshop migrate`. One file per aggregate.

mod account;
pub mod credentials;
mod link;
mod session;

pub use account::*;
pub use link::*;
pub use session::*;
