//! web: the front door. It owns the catch-all route `/...`, so every path no
//! service claims is still answered by spinshop, with the JSON error envelope and an
//! `x-request-id` like any other answer of the app.

use spinshop_kit::{ApiRequest, ApiResponse, ApiResult, no_route};

/// The component's export. Only built for wasm: a native build (for unit tests)
/// can't link Spin's export names into a shared library.
#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
async fn handle(
    req: spin_sdk::http::IncomingRequest,
    response_out: spin_sdk::http::ResponseOutparam,
) {
    spinshop_kit::serve(req, response_out, "", route).await
}

/// The route table: nothing is served here yet, so every path is a 404.
pub async fn route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    no_route(req)
}
