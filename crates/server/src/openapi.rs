//! The OpenAPI 3.1 description of the API, served at `/v1/openapi.json`.
//! Hand-written (the API is small and stable); a test keeps it in step with
//! the router.

/// The document.
pub const DOCUMENT: &str = include_str!("openapi.json");
