//! Login codes by SMS through Twilio for nopassword-rs.
