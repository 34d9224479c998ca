//! The HTTP contract of SPEC section 5 and the security floor of section 7, written once
//! against plain HTTP so every web adapter passes the same suite.
//!
//! Each test is an `async fn name<A: Adapter>()`; [`conformance_tests!`] makes a
//! `#[tokio::test]` of every one for a given adapter. A test written here but missing from the
//! list is dead code, which the workspace's `-D warnings` refuses.

pub mod api;
pub mod code_form;
pub mod links;
pub mod login;
pub mod logout;
pub mod security;

/// The texts SPEC section 5 fixes, word for word (the original project's).
pub mod text {
    /// The page after `POST login/`.
    pub const SENT: &str = "We sent you a mail with a login link";
    /// A required field was empty.
    pub const REQUIRED: &str = "This field is required.";
    /// A typed or posted code did not log in.
    pub const INVALID_CODE: &str = "Unable to log in with provided login code.";
    /// `POST api/login/`.
    pub const CODE_SENT: &str = "Login code has been sent.";
    /// `POST api/logout/`.
    pub const LOGGED_OUT: &str = "Successfully logged out.";
    /// Title of the auto-submitting page.
    pub const LOGGING_IN: &str = "Logging in...";
    /// Its `<noscript>` button.
    pub const CLICK_TO_LOGIN: &str = "Click here to login";
}

/// Asserts a redirect target stays on this site: a path, not `//host`, `/\host`, a scheme or
/// anything a browser would read as another host.
#[track_caller]
pub fn assert_same_site(location: &str) {
    let b = location.as_bytes();
    assert!(
        b.first() == Some(&b'/')
            && !matches!(b.get(1), Some(b'/' | b'\\'))
            && b.iter().all(|&c| (0x21..=0x7e).contains(&c) && c != b'\\'),
        "Location leaves the site: {location:?}"
    );
}

/// Every contract test, as `#[tokio::test]`s for `$adapter`, in modules named like the
/// contract's (`login::form_has_username_next_and_csrf`, ...).
macro_rules! conformance_tests {
    ($adapter:ty) => {
        $crate::contract::conformance_tests!(@emit $adapter;
            login {
                form_has_username_next_and_csrf,
                form_carries_only_a_safe_next,
                submit_sends_a_link_to_a_known_user,
                submit_answers_alike_for_unknown_and_inactive_users,
                submit_without_username_shows_the_form_again,
                next_from_the_form_is_where_the_login_goes,
            }
            links {
                get_renders_the_auto_submitting_page,
                get_does_not_consume_the_code,
                post_logs_in_and_redirects_to_next,
                used_code_is_404,
                expired_code_is_404,
                wrong_code_is_404,
                undecodable_link_is_404,
                head_never_consumes,
                head_never_consumes_without_post_redirect,
                get_logs_in_without_post_redirect,
                hide_username_links_carry_only_the_code,
                numeric_codes_have_code_length_digits,
                code_length_shapes_hex_codes,
                username_is_percent_encoded_and_round_trips,
                mount_path_moves_every_route,
                mount_path_at_the_root,
            }
            code_form {
                form_asks_for_username_and_code,
                valid_code_logs_in,
                invalid_code_shows_the_form_error,
                missing_fields_show_field_errors,
                hide_username_needs_only_the_code,
            }
            logout {
                get_ends_the_session_and_goes_to_login,
                get_follows_a_safe_next,
                post_ends_the_session,
            }
            api {
                login_sends_a_code,
                login_answers_alike_for_unknown_and_inactive_users,
                login_requires_a_username,
                login_code_logs_in,
                login_code_invalid_is_400,
                login_code_requires_fields,
                login_code_with_hide_username_needs_only_the_code,
                logout_ends_the_session,
                wrong_content_type_is_415,
                malformed_json_is_400,
            }
            security {
                open_redirects_never_leave_the_site_after_login,
                open_redirects_never_leave_the_site_after_logout,
                forged_host_never_reaches_the_link,
                forwarded_host_counts_only_from_trusted_proxies,
                forwarded_for_counts_only_from_trusted_proxies,
                one_code_logs_in_once_under_48_concurrent_posts,
                posts_without_a_valid_csrf_token_are_403,
                csrf_refusals_change_nothing,
                oversized_bodies_are_413,
                malformed_forms_are_400,
                non_form_bodies_on_form_routes_are_415,
                too_many_requests_from_one_address_is_429,
                too_many_codes_for_one_user_is_429,
                too_many_code_tries_from_one_address_is_429,
                a_code_dies_after_max_code_attempts,
                a_user_is_locked_out_after_max_user_failures,
                store_outage_is_503_without_internals,
                sender_outage_is_503_without_internals,
                code_pages_are_neither_cached_nor_referred,
                session_cookie_is_httponly_and_lax_and_not_secure_over_http,
                session_cookie_is_secure_behind_a_trusted_https_proxy,
                https_from_an_untrusted_peer_is_not_believed,
                session_id_changes_at_login,
            }
        );
    };
    (@emit $adapter:ty; $($group:ident { $($test:ident),* $(,)? })*) => {
        /// The adapter the generated tests run against.
        type AdapterUnderTest = $adapter;
        $(
            mod $group {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $test() {
                        $crate::contract::$group::$test::<super::AdapterUnderTest>().await;
                    }
                )*
            }
        )*
    };
}

pub(crate) use conformance_tests;
