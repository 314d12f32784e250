//! The page, embedded in the binary, plus the security headers every
//! dashboard response carries.
//!
//! Style and script are inlined into the one HTML response so the first
//! paint needs a single request; the Content-Security-Policy allows exactly
//! those two inline blocks by their SHA-256 and nothing else.

use std::sync::OnceLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

const TEMPLATE: &str = include_str!("../../assets/index.html");
const SCRIPT: &str = include_str!("../../assets/app.js");
const STYLE: &str = include_str!("../../assets/app.css");

/// Where the template takes the style and the script.
const STYLE_SLOT: &str = "/*APP_CSS*/";
const SCRIPT_SLOT: &str = "/*APP_JS*/";

/// The assembled page and the CSP that admits its inline blocks.
struct Page {
    html: String,
    csp: String,
}

fn page() -> &'static Page {
    static PAGE: OnceLock<Page> = OnceLock::new();
    PAGE.get_or_init(|| {
        let html = TEMPLATE
            .replacen(STYLE_SLOT, STYLE, 1)
            .replacen(SCRIPT_SLOT, SCRIPT, 1);
        let csp = format!(
            "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            base64(&Sha256::digest(SCRIPT.as_bytes())),
            base64(&Sha256::digest(STYLE.as_bytes())),
        );
        Page { html, csp }
    })
}

/// `GET /`: the single page.
pub async fn index() -> Response {
    let p = page();
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        p.html.as_str(),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&p.csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    response
}

/// No scripts or styles unless a response allows its own, no framing, no
/// referrer, no sniffing; API answers are never cached.
pub async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Standard base64 with padding, as CSP hash sources are written.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = usize::try_from((n >> (18 - 6 * i)) & 63).unwrap_or(0);
                out.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want, "{input:?}");
        }
    }

    #[test]
    fn the_page_inlines_style_and_script_and_the_csp_admits_only_them() {
        let p = page();
        assert!(!p.html.contains(STYLE_SLOT) && !p.html.contains(SCRIPT_SLOT));
        assert!(p.html.contains(SCRIPT) && p.html.contains(STYLE));
        assert!(!p.html.contains("src=\"http") && !p.html.contains("href=\"http"));
        assert!(p.csp.contains("script-src 'sha256-") && !p.csp.contains("unsafe-inline"));
        // An inline block must not end early.
        assert!(!SCRIPT.contains("</script") && !STYLE.contains("</style"));
    }
}
