//! What the workspace's tests share. Only ever a `dev-dependency`: nothing shipped links it.
//!
//! [`http`]: the stand-in HTTP/1.1 servers the tests put on 127.0.0.1 in place of a
//! privacyIDEA, a push service or a proxy read requests here, one way, instead of each test
//! file carrying its own copy of the request loop.
#![forbid(unsafe_code)]

pub mod http;
