//! Bearer-token check for every route that changes state, when `REDLINE_API_TOKEN` is set.
//! The token is compared in constant time (over SHA-256 digests, so its length does not leak
//! either) and never logged.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, web};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::ApiError;

/// The control-API token, if one is configured.
#[derive(Clone, Default)]
pub struct ApiToken(Option<[u8; 32]>);

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "ApiToken(REDACTED)"
        } else {
            "ApiToken(none)"
        })
    }
}

impl ApiToken {
    pub fn new(token: Option<&str>) -> Self {
        Self(
            token
                .filter(|t| !t.is_empty())
                .map(|t| Sha256::digest(t.as_bytes()).into()),
        )
    }

    pub fn from_env() -> Self {
        Self::new(std::env::var("REDLINE_API_TOKEN").ok().as_deref())
    }

    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }

    fn accepts(&self, header: Option<&str>) -> bool {
        let Some(expected) = &self.0 else {
            return true;
        };
        let Some(given) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
            return false;
        };
        let given: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        given.ct_eq(expected).into()
    }
}

pub async fn require_token_for_changes(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let reads = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !reads {
        let token = req
            .app_data::<web::Data<ApiToken>>()
            .map(|t| t.get_ref().clone())
            .unwrap_or_default();
        let header = req
            .headers()
            .get("authorization")
            .and_then(|h| h.to_str().ok());
        if !token.accepts(header) {
            return Err(ApiError::Unauthorized.into());
        }
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_checks() {
        let t = ApiToken::new(Some("s3cret"));
        assert!(t.accepts(Some("Bearer s3cret")));
        assert!(!t.accepts(Some("Bearer s3cre")));
        assert!(!t.accepts(Some("s3cret")));
        assert!(!t.accepts(None));
        assert!(ApiToken::new(None).accepts(None));
        assert_eq!(format!("{t:?}"), "ApiToken(REDACTED)");
    }
}
