//! The provider crate's tests, one binary: every provider against a loopback fake written from its
//! documentation, through an HTTP client whose clock never sleeps.

mod fake;
mod tokens;

mod aws;
mod hosts;
mod revoke_cases;
mod rotate_cases;
mod timing;
mod verify_cases;
