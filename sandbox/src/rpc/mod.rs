//! Stellar RPC (stub).
use tiny_http::Request;

use crate::server::{Reply, Shared};

pub(crate) fn handle(_shared: &Shared, _req: &mut Request) -> Reply {
    Reply::empty(501)
}

pub(crate) fn method_not_allowed() -> Reply {
    Reply::empty(405)
}
