//! Login flows (SPEC section 8): every code is bound to the client that asked for it.
//!
//! `POST login/` and `POST api/login/` start a flow. The client keeps a [`FlowToken`] (in an
//! HttpOnly cookie, or from the JSON answer); the store keeps only a keyed hash of the flow id,
//! inside the code's own record, so the binding needs no key of its own (one Redis Cluster slot
//! with its code) and lives exactly as long as the code.
//!
//! The token is the 128-bit random flow id followed by the store key of the flow's latest code,
//! both in hex. The store key is a keyed hash of the link secret: it reveals nothing of the
//! code, and lets a typed code be checked against exactly the code its flow asked for, so a
//! wrong guess spends that code's tries and nothing else.

use std::fmt;

use crate::{
    CodeKey, CodeRng, KEY_LEN,
    hashing::{hex, unhex},
};

/// Bytes of a flow id: 128 bits.
pub const FLOW_ID_LEN: usize = 16;

/// Characters of a flow token: the flow id and the code's store key, in hex.
pub const FLOW_TOKEN_LEN: usize = 2 * (FLOW_ID_LEN + KEY_LEN);

/// What a client holds for its login flow: the value of the flow cookie, or the `"flow"` of
/// `api/login/`. A bearer secret: `Debug` shows only that it is there.
///
/// ```
/// use nopassword_core::FlowToken;
///
/// let token = FlowToken::parse(&"a1".repeat(32)).expect("64 hex digits");
/// assert_eq!(format!("{token:?}"), "FlowToken([redacted])");
/// assert!(FlowToken::parse("not a token").is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct FlowToken {
    pub(crate) id: [u8; FLOW_ID_LEN],
    pub(crate) key: CodeKey,
}

impl FlowToken {
    /// A new flow for the code stored under `key`.
    pub(crate) fn new(rng: &dyn CodeRng, key: CodeKey) -> Self {
        let mut id = [0u8; FLOW_ID_LEN];
        rng.fill_bytes(&mut id);
        Self { id, key }
    }

    /// The same flow, now pointing at the code stored under `key` (a second request from the
    /// same browser: the links of both codes still open as "same browser").
    pub(crate) fn continued(&self, key: CodeKey) -> Self {
        Self { id: self.id, key }
    }

    /// Reads a token as a client sent it; `None` unless it has the exact shape.
    pub fn parse(token: &str) -> Option<Self> {
        let token = token.trim();
        if token.len() != FLOW_TOKEN_LEN || !token.is_ascii() {
            return None;
        }
        let (id, key) = token.split_at(2 * FLOW_ID_LEN);
        Some(Self {
            id: unhex::<FLOW_ID_LEN>(id)?,
            key: CodeKey::from_bytes(unhex::<KEY_LEN>(key)?),
        })
    }

    /// The token as the client keeps it: [`FLOW_TOKEN_LEN`] lower-case hex digits (safe in a
    /// cookie value and in JSON).
    pub fn expose(&self) -> String {
        let mut out = hex(&self.id);
        out.push_str(&self.key.to_hex());
        out
    }

    /// The store key of the flow's latest code.
    pub fn code_key(&self) -> CodeKey {
        self.key
    }
}

impl fmt::Debug for FlowToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FlowToken([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeededRng;

    #[test]
    fn tokens_round_trip() {
        let key = CodeKey::from_bytes([7; KEY_LEN]);
        let token = FlowToken::new(&SeededRng::new(1), key);
        let text = token.expose();
        assert_eq!(text.len(), FLOW_TOKEN_LEN);
        assert_eq!(FlowToken::parse(&text), Some(token.clone()));
        assert_eq!(
            FlowToken::parse(&text.to_ascii_uppercase()),
            Some(token.clone())
        );
        let next = token.continued(CodeKey::from_bytes([8; KEY_LEN]));
        assert_eq!(next.id, token.id);
        assert_ne!(next.expose(), text);
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in [
            "",
            "zz",
            &"g".repeat(FLOW_TOKEN_LEN),
            &"a".repeat(FLOW_TOKEN_LEN - 1),
        ] {
            assert!(FlowToken::parse(bad).is_none(), "{bad:?}");
        }
        // Multi-byte characters of the right byte length do not panic.
        assert!(FlowToken::parse(&"é".repeat(FLOW_TOKEN_LEN / 2)).is_none());
    }
}
