//! `GET {mount_path}/static/{file}`: the pages' stylesheet and script (nopassword-core's
//! `STATIC_ASSETS`, the same bytes on both adapters), so the pages need no inline script or
//! style under their Content-Security-Policy (docs/HTTP.md, Static files).

use actix_web::{HttpResponse, http::header::CONTENT_TYPE, web};
use nopassword_core::pages::{STATIC_HEADERS, static_asset};

/// The file by its hashed name with its type, cached for a year; 404 for any other name.
pub(crate) async fn serve(file: web::Path<String>) -> HttpResponse {
    let Some(asset) = static_asset(&file) else {
        return HttpResponse::NotFound().finish();
    };
    let mut response = HttpResponse::Ok();
    response.insert_header((CONTENT_TYPE, asset.content_type));
    for header in STATIC_HEADERS {
        response.insert_header(header);
    }
    response.body(asset.body)
}
