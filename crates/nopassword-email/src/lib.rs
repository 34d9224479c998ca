//! Login codes by e-mail (lettre) for nopassword-rs.
