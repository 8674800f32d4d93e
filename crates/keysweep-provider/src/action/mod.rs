//! Actions on found secrets: revocation and rotation, planned, confirmed and journaled, with new
//! secrets delivered to sinks.

pub mod files;
pub mod journal;
pub mod lock;
pub mod revoke;
pub mod rotate;
pub mod sink;
