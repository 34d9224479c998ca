//! E.164 phone numbers.

/// Whether `number` is in E.164 form, as Twilio wants `To` and `From`: `+`, then 2 to 15
/// ASCII digits, the first not `0` (`^\+[1-9]\d{1,14}$`). No spaces, dashes or brackets: store
/// numbers normalised.
///
/// ```
/// use nopassword_twilio::is_e164;
///
/// assert!(is_e164("+14155550100"));
/// assert!(is_e164("+447700900123"));
/// assert!(!is_e164("14155550100"));
/// assert!(!is_e164("+1 415 555 0100"));
/// assert!(!is_e164("+0123"));
/// ```
pub fn is_e164(number: &str) -> bool {
    let Some(digits) = number.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::is_e164;

    #[test]
    fn accepts_e164() {
        for ok in ["+12", "+15005550006", "+123456789012345", "+861012345678"] {
            assert!(is_e164(ok), "{ok}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "+",
            "+1",
            "+0155",
            "+1234567890123456",
            "15005550006",
            "00155500",
            "+1 500 555 0006",
            "+1-500-555-0006",
            "+1500555000６",
            "+١٢٣٤",
            "+15005550006\n",
            " +15005550006",
            "+1500555000a",
        ] {
            assert!(!is_e164(bad), "{bad:?}");
        }
    }
}
