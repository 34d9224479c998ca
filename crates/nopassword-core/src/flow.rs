//! Login flows (docs/HTTP.md, Login flows): every code is bound to the client that asked for it.
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
    CodeRng,
    hashing::{CodeKey, KEY_LEN, hex, unhex},
};

/// Bytes of a flow id: 128 bits.
const FLOW_ID_LEN: usize = 16;

/// The most codes one flow token names: a person who asks again (the first mail is slow) can
/// still type the code of either mail.
const FLOW_CODES: usize = 3;

/// Characters of a flow token naming one code: the flow id and the code's store key, in hex.
/// A token naming `n` codes has `2 * (FLOW_ID_LEN + n * KEY_LEN)` characters.
const FLOW_TOKEN_LEN: usize = 2 * (FLOW_ID_LEN + KEY_LEN);

/// What a client holds for its login flow: the value of the flow cookie, or the `"flow"` of
/// `api/login/`. A bearer secret: `Debug` shows only that it is there.
///
/// ```
/// use nopassword_core::flow::FlowToken;
///
/// let token = FlowToken::parse(&"a1".repeat(32)).expect("64 hex digits");
/// assert_eq!(format!("{token:?}"), "FlowToken([redacted])");
/// assert!(FlowToken::parse("not a token").is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct FlowToken {
    pub(crate) id: [u8; FLOW_ID_LEN],
    /// Newest first; between 1 and [`FlowToken::CODES`].
    pub(crate) keys: Vec<CodeKey>,
}

impl FlowToken {
    /// Bytes of a flow id: 128 bits.
    pub const ID_LEN: usize = FLOW_ID_LEN;

    /// The most codes one token names: a person who asks again (the first mail is slow) can
    /// still type the code of either mail.
    pub const CODES: usize = FLOW_CODES;

    /// Characters of a token naming one code (the flow id and the code's store key, in hex);
    /// a token naming `n` codes has `2 * (ID_LEN + n * CodeKey::LEN)`.
    ///
    /// ```
    /// use nopassword_core::{flow::FlowToken, hashing::CodeKey};
    ///
    /// assert_eq!(FlowToken::MIN_LEN, 2 * (FlowToken::ID_LEN + CodeKey::LEN));
    /// ```
    pub const MIN_LEN: usize = FLOW_TOKEN_LEN;

    /// A new flow for the code stored under `key`.
    pub(crate) fn new(rng: &dyn CodeRng, key: CodeKey) -> Self {
        let mut id = [0u8; FLOW_ID_LEN];
        rng.fill_bytes(&mut id);
        Self {
            id,
            keys: vec![key],
        }
    }

    /// The same flow, now naming the code stored under `key` first (a second request from the
    /// same browser: the links of both codes still open as "same browser", and both codes can
    /// be typed).
    pub(crate) fn continued(&self, key: CodeKey) -> Self {
        let mut keys = Vec::with_capacity(FLOW_CODES);
        keys.push(key);
        keys.extend(self.keys.iter().filter(|k| **k != key).take(FLOW_CODES - 1));
        Self { id: self.id, keys }
    }

    /// Reads a token as a client sent it; `None` unless it has the exact shape.
    pub fn parse(token: &str) -> Option<Self> {
        let token = token.trim();
        let keys_len = token.len().checked_sub(2 * FLOW_ID_LEN)?;
        if !token.is_ascii() || keys_len == 0 || keys_len % (2 * KEY_LEN) != 0 {
            return None;
        }
        if keys_len / (2 * KEY_LEN) > FLOW_CODES {
            return None;
        }
        let (id, keys) = token.split_at(2 * FLOW_ID_LEN);
        let keys = keys
            .as_bytes()
            .chunks(2 * KEY_LEN)
            .map(|chunk| {
                let hex = std::str::from_utf8(chunk).ok()?;
                Some(CodeKey::from_bytes(unhex::<KEY_LEN>(hex)?))
            })
            .collect::<Option<Vec<_>>>()?;
        // A code named twice would be charged twice for one guess.
        if keys
            .iter()
            .enumerate()
            .any(|(i, key)| keys[..i].contains(key))
        {
            return None;
        }
        Some(Self {
            id: unhex::<FLOW_ID_LEN>(id)?,
            keys,
        })
    }

    /// The token as the client keeps it: lower-case hex digits, [`FlowToken::MIN_LEN`] of them for
    /// a flow of one code (safe in a cookie value and in JSON).
    pub fn expose(&self) -> String {
        let mut out = hex(&self.id);
        for key in &self.keys {
            out.push_str(&key.to_hex());
        }
        out
    }

    /// The store key of the flow's latest code.
    pub fn code_key(&self) -> CodeKey {
        self.keys[0]
    }

    /// The store keys of the codes the flow names, newest first.
    pub fn code_keys(&self) -> &[CodeKey] {
        &self.keys
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
    use crate::hashing::SeededRng;

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
        assert_eq!(next.code_keys().len(), 2);
        assert_eq!(FlowToken::parse(&next.expose()), Some(next.clone()));
        assert_eq!(next.code_key(), CodeKey::from_bytes([8; KEY_LEN]));
    }

    #[test]
    fn a_flow_names_its_latest_codes() {
        let mut token = FlowToken::new(&SeededRng::new(2), CodeKey::from_bytes([0; KEY_LEN]));
        for i in 1..=5u8 {
            token = token.continued(CodeKey::from_bytes([i; KEY_LEN]));
        }
        let newest: Vec<_> = (3..=5u8)
            .rev()
            .map(|i| CodeKey::from_bytes([i; KEY_LEN]))
            .collect();
        assert_eq!(token.code_keys(), newest.as_slice());
        assert_eq!(
            token.expose().len(),
            2 * (FLOW_ID_LEN + FLOW_CODES * KEY_LEN)
        );
        let too_many = format!("{}{}", token.expose(), "ab".repeat(KEY_LEN));
        assert!(FlowToken::parse(&too_many).is_none());
        let key = CodeKey::from_bytes([9; KEY_LEN]).to_hex();
        let twice = format!("{}{key}{key}", &token.expose()[..2 * FLOW_ID_LEN]);
        assert!(FlowToken::parse(&twice).is_none(), "a code named twice");
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
