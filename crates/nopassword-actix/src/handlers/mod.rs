//! One module per route group, named after the URLs they serve.

pub(crate) mod api;
pub(crate) mod code;
pub(crate) mod flow;
pub(crate) mod login;
pub(crate) mod logout;

use actix_web::{HttpRequest, web};
use serde::de::DeserializeOwned;

/// The query string's fields; a query that does not decode counts as none.
pub(crate) fn query<T: DeserializeOwned + Default>(req: &HttpRequest) -> T {
    web::Query::<T>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default()
}
