//! `GET {mount_path}/static/{file}`: the pages' stylesheet and script (nopassword-core's
//! `STATIC_ASSETS`, the same bytes on both adapters), so the pages need no inline script or
//! style under their Content-Security-Policy (docs/HTTP.md, Static files).

use axum::{
    extract::Path,
    http::{HeaderName, HeaderValue, StatusCode, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
};
use nopassword_core::pages::{STATIC_HEADERS, static_asset};

/// The file by its hashed name with its type, cached for a year; 404 for any other name.
pub(crate) async fn serve(Path(file): Path<String>) -> Response {
    let Some(asset) = static_asset(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    for (name, value) in STATIC_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}
