//! Every call notifications makes to its siblings: asking each producer (users,
//! orders, payments) to flush its outbox, on its INTERNAL endpoint with the service
//! token kit's client attaches. (Asking users who the caller is, is kit's
//! `auth::introspect`.)

use spinshop_kit::ApiRequest;
use spinshop_kit::client::{CallContext, Method, call};
use spinshop_kit::contracts::FlushReport;

use crate::SERVICE;

/// The services that publish events, each with an outbox and its flush endpoint.
pub const PRODUCERS: [&str; 3] = ["users", "orders", "payments"];

pub struct Producers<'a> {
    context: CallContext<'a>,
}

impl<'a> Producers<'a> {
    /// Calls made on notifications' own account while serving `request`.
    pub fn new(request: &'a ApiRequest) -> Producers<'a> {
        Producers {
            context: CallContext::own(SERVICE, request),
        }
    }

    /// Asks `service` to deliver what is due in its outbox now
    /// (`POST /api/<service>/internal/outbox/flush`): its report, or why there is none.
    pub async fn flush(&self, service: &str) -> Result<FlushReport, String> {
        let reply = call(
            &self.context,
            service,
            Method::Post,
            &format!("/api/{service}/internal/outbox/flush"),
            None,
        )
        .await
        .map_err(|err| err.to_string())?;
        if !reply.is_success() {
            return Err(format!("{service} answered {}", reply.status));
        }
        serde_json::from_slice(&reply.body)
            .map_err(|err| format!("{service} answered with unexpected JSON: {err}"))
    }
}
