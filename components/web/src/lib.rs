//! web: the catch-all route `/...`. It serves the storefront (`web/` in the
//! repository), the API documentation at `/docs` and the API document itself at
//! `/docs/openapi.yaml`, all built into the component (see `build.rs`); a path under
//! `/api/` that no service claims gets the JSON error envelope, any other unknown
//! path a friendly HTML page.

mod assets;
mod files;

use spinshop_kit::{ApiRequest, ApiResponse, ApiResult, no_route};

// The component's export. Only built for wasm: a native build (for unit tests)
// can't link Spin's export names into a shared library.
spinshop_kit::export_service!("", route);

/// The route table: the API's unknown paths, then the built-in files, then the 404 page.
pub async fn route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let path = req.path.as_str();
    if path == "/api" || path.starts_with("/api/") {
        return no_route(req);
    }
    match files::find(path) {
        Some(file) => files::serve(req, &file),
        None => Ok(files::not_found_page(req)),
    }
}
